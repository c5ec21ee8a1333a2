"""Exercises of week 3, lesson 7: the MLOps workflow (environments, jobs and branches).

The lesson's demos run a churn training job with the local Jobs stand-in (``course.standins.jobs``),
read its matrix, repair a run, and promote code or models between a dev and a prod registered
model. The exercises move the ideas to a penguin scoring workflow whose task graph the learner
writes (judged by running it with every task failing in turn), to a diagnosis function judged
on job histories the page never shows, to a broken diabetes retraining run that must be fixed and
repaired in place, and to scenarios about MLOps practices and deployment patterns. Every judge
recomputes the truth from the stand-in and ``course.datasets``. The answers each judge was written
against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import random

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "07-mlops-workflow"

# --- Exercise 1: the task graph of a scoring workflow --------------------------------------------

SCORING_KEYS = ("ingest", "check_quality", "featurize", "score", "publish", "notify")
SCORING_GRAPH = {"ingest": (), "check_quality": ("ingest",), "featurize": ("ingest",),
                 "score": ("featurize", "check_quality"), "publish": ("score",), "notify": ("publish",)}
SCORING_RUN_IF = {"notify": "ALL_DONE"}


def _penguin_step(name):
    def step(ctx):
        """A light stand-in for one step of the penguin scoring workflow: it records a task value."""
        ctx.task_values.set("done", name)
    step.__name__ = name
    return step


SCORING_STEPS = {key: _penguin_step(key) for key in SCORING_KEYS}
"""The code of each task (``python_callable``), ready to use."""


def _simulate(graph: dict, run_if: dict, failing: str | None) -> dict:
    """States of a job with this graph when the task ``failing`` raises (None: nothing fails)."""
    from course.standins.jobs import Job, Task

    def body(key):
        def run(ctx):
            if key == failing:
                raise RuntimeError(f"{key} failed")
        return run
    job = Job("simulation", [Task(k, depends_on=deps, run_if=run_if.get(k, "ALL_SUCCESS"), python_callable=body(k))
                             for k, deps in graph.items()])
    return job.run_now().states()


def _structure(job) -> tuple[dict, dict]:
    return ({k: tuple(t.depends_on) for k, t in job.tasks.items()}, {k: t.run_if for k, t in job.tasks.items()})


def _ancestors(graph: dict, key: str) -> set:
    found, frontier = set(), set(graph[key])
    while frontier:
        found |= frontier
        frontier = {d for k in frontier for d in graph[k]} - found
    return found


def form_scoring(scoring_job) -> None:
    from course.standins.jobs import Job

    expect_type(scoring_job, Job, "`scoring_job` (a `Job(name, tasks=[Task(...), ...])`)")
    keys = set(scoring_job.tasks)
    missing, extra = sorted(set(SCORING_KEYS) - keys), sorted(keys - set(SCORING_KEYS))
    expect(not missing, f"`scoring_job` has no task with the key {', '.join(map(repr, missing))}")
    expect(not extra, f"`scoring_job` has tasks the workflow does not name: {', '.join(map(repr, extra))}")


def judge_scoring(scoring_job) -> None:
    graph, run_if = _structure(scoring_job)
    for key in SCORING_KEYS:
        task = scoring_job.tasks[key]
        expect(task.python_callable is not None or task.notebook_task is not None, f"task `{key}` runs no code")
    for key in SCORING_KEYS:
        for need in sorted(_ancestors(SCORING_GRAPH, key) - _ancestors(graph, key), key=SCORING_KEYS.index, reverse=True):
            raise CheckFailed(f"`{key}` can start before `{need}` has finished: it needs a dependency "
                              f"(direct or through another task) on `{need}`")
    for failing in (None, *SCORING_KEYS):
        want = _simulate(SCORING_GRAPH, SCORING_RUN_IF, failing)
        got = _simulate(graph, run_if, failing)
        for key in SCORING_KEYS:
            if got[key] == want[key]:
                continue
            if key == "notify":
                if failing is None:
                    raise CheckFailed("with nothing failing, `notify` does not run: its run_if condition runs it "
                                      "only after a failure, but the report is wanted every time")
                raise CheckFailed(f"when `{failing}` fails, `notify` is skipped ({got[key]}): the report must be "
                                  "sent whatever happened upstream; choose its run_if condition for that")
            if got[key] == "SUCCESS":
                raise CheckFailed(f"when `{failing}` fails, `{key}` still runs: it is missing a dependency")
            raise CheckFailed(f"when `{failing}` fails, `{key}` is skipped ({got[key]}), although it does not need "
                              f"`{failing}`: it depends on more than the workflow says (a chain instead of branches?)")


# --- Exercise 2: diagnose job runs from the matrix -----------------------------------------------

NIGHTLY_KEYS = ("extract", "validate", "features", "train", "evaluate", "register", "report", "alert")


def nightly_job(seed: int = 0, n_runs: int = 6):
    """A nightly training job run ``n_runs`` times, with failures drawn from ``seed``; returns the Job."""
    from course.standins.jobs import Job, Task

    rng = random.Random(seed)
    plan: list[set] = []
    for i in range(n_runs):
        roll = rng.random()
        if roll < 0.3:
            plan.append(set())
        elif roll < 0.75:
            plan.append({rng.choice(["validate", "features", "train", "evaluate", "register"])})
        else:
            plan.append({rng.choice(["validate", "extract"]), rng.choice(["features", "train"])})
    if not any(len(p) == 2 for p in plan):
        plan[-1] = {"validate", "train"}
    if not any(len(p) == 0 for p in plan):
        plan[0] = set()
    state = {"run": 0}

    def body(key):
        def run(ctx):
            if key in plan[state["run"]]:
                raise RuntimeError(f"{key}: simulated failure")
        return run
    graph = {"extract": (), "validate": ("extract",), "features": ("extract",), "train": ("features",),
             "evaluate": ("train", "validate"), "register": ("evaluate",)}
    tasks = [Task(k, depends_on=d, python_callable=body(k)) for k, d in graph.items()]
    tasks += [Task("report", depends_on=("register",), run_if="ALL_DONE", python_callable=body("report")),
              Task("alert", depends_on=("validate", "train"), run_if="AT_LEAST_ONE_FAILED", python_callable=body("alert"))]
    job = Job(f"nightly-{seed}", tasks)
    for i in range(n_runs):
        state["run"] = i
        job.run_now(job_parameters={"night": i + 1})
    return job


def nightly_matrix(seed: int = 0):
    """The matrix (task states) of ``nightly_job(seed)``."""
    return nightly_job(seed).matrix()


def _failed_truth(matrix) -> dict:
    return {run: {task for task, state in matrix[run].items() if state == "FAILED"} for run in matrix.columns}


def _as_keys(value, run) -> set:
    if value is None:
        return set()
    if isinstance(value, str):
        raise CheckFailed(f"for {run!r} your function returned a string; return a set of task keys "
                          "(an empty set when nothing failed)")
    try:
        return {str(v) for v in value}
    except TypeError:
        raise CheckFailed(f"for {run!r} your function returned {describe(value)}, not a set of task keys") from None


def form_diagnose(diagnose) -> None:
    import inspect

    expect(callable(diagnose), f"expected `diagnose` to be a function; got {describe(diagnose)}")
    try:
        inspect.signature(diagnose).bind(None)
    except TypeError:
        raise CheckFailed("`diagnose` should take one argument: the matrix (a pandas DataFrame)") from None


def judge_diagnose(diagnose) -> None:
    for seed in (11, 12, 13):
        matrix = nightly_matrix(seed)
        try:
            answer = diagnose(matrix.copy())
        except Exception as exc:
            raise CheckFailed(f"your function raised {type(exc).__name__} on another job's matrix: {str(exc)[:120]}") from None
        expect(isinstance(answer, dict), f"`diagnose` should return a dict (run -> task keys); it returned {describe(answer)}")
        truth = _failed_truth(matrix)
        keys = {str(k) for k in answer}
        if keys & set(matrix.index) and not keys & set(matrix.columns):
            raise CheckFailed("your dict is keyed by task: the matrix has one row per task and one column per run, "
                              "and the answer is one entry per run")
        missing = sorted(set(matrix.columns) - keys, key=lambda r: int(r.split()[-1]))
        if missing:
            raise CheckFailed(f"there is no entry for {missing[0]!r}: every run (column) needs one, an empty set "
                              "when nothing failed")
        got = {str(k): _as_keys(v, k) for k, v in answer.items()}
        for run in matrix.columns:
            states = matrix[run]
            extra, lost = got[run] - truth[run], truth[run] - got[run]
            if extra:
                kinds = {states.get(k, "?") for k in extra}
                if "UPSTREAM_FAILED" in kinds:
                    raise CheckFailed(f"in {run!r} you blame a task marked UPSTREAM_FAILED: it never ran, because a "
                                      "task it depends on failed; only the tasks that failed themselves are the cause")
                if "EXCLUDED" in kinds:
                    raise CheckFailed(f"in {run!r} you blame an EXCLUDED task: its run_if condition was not met, "
                                      "which counts as a success")
                raise CheckFailed(f"in {run!r} you name a task that did not fail")
            if lost:
                raise CheckFailed(f"in {run!r} a task that failed is missing (a run can have more than one failure "
                                  "in independent branches)")


# --- Exercise 3: fix and repair a retraining run -------------------------------------------------

RETRAIN_FEATURES = ["age", "bmi", "bp", "s5"]
RETRAIN_SPLIT = {"test_size": 0.25, "random_state": 5}


def _diabetes_split(features):
    from sklearn.model_selection import train_test_split

    from course import datasets

    diabetes = datasets.load("diabetes")
    return train_test_split(diabetes[list(features)], diabetes["target"], **RETRAIN_SPLIT)


def retraining_rmse(features=tuple(RETRAIN_FEATURES)) -> float:
    """Held-out RMSE of a linear regression on these diabetes columns (the retraining job's model)."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import root_mean_squared_error

    X_train, X_test, y_train, y_test = _diabetes_split(features)
    return float(root_mean_squared_error(y_test, LinearRegression().fit(X_train, y_train).predict(X_test)))


def broken_retraining():
    """A diabetes retraining job and its failed run; returns (job, run, settings). ``featurize`` reads
    ``settings["features"]``, where one column name is misspelt."""
    from course import datasets
    from course.standins.jobs import Job, Task

    settings = {"features": ["age", "bmi_index", "bp", "s5"], "target": "target"}
    tables: dict = {}

    def ingest(ctx):
        tables["raw"] = datasets.load("diabetes")
        ctx.task_values.set("rows", len(tables["raw"]))

    def profile(ctx):
        ctx.task_values.set("mean_target", round(float(tables["raw"]["target"].mean()), 2))

    def featurize(ctx):
        tables["features"] = tables["raw"][list(settings["features"]) + [settings["target"]]]
        ctx.task_values.set("features", list(settings["features"]))

    def train(ctx):
        from sklearn.linear_model import LinearRegression
        from sklearn.model_selection import train_test_split

        data = tables["features"]
        X = data.drop(columns=settings["target"])
        X_train, X_test, y_train, y_test = train_test_split(X, data[settings["target"]], **RETRAIN_SPLIT)
        tables["model"] = (LinearRegression().fit(X_train, y_train), X_test, y_test)

    def evaluate(ctx):
        from sklearn.metrics import root_mean_squared_error

        model, X_test, y_test = tables["model"]
        ctx.task_values.set("rmse", float(root_mean_squared_error(y_test, model.predict(X_test))))

    def register(ctx):
        ctx.task_values.set("registered", ctx.task_values.get("evaluate", "rmse") is not None)

    job = Job("diabetes-retraining", [
        Task("ingest", python_callable=ingest),
        Task("profile", depends_on=["ingest"], python_callable=profile),
        Task("featurize", depends_on=["ingest"], python_callable=featurize),
        Task("train", depends_on=["featurize"], python_callable=train),
        Task("evaluate", depends_on=["train"], python_callable=evaluate),
        Task("register", depends_on=["evaluate"], python_callable=register)])
    return job, job.run_now(job_parameters={"week": 48}), settings


def form_repair(repaired_run, retrain_job, retrain_run) -> None:
    from course.standins.jobs import Run

    expect_type(repaired_run, Run, "`repaired_run` (the Run that `repair_run` returns)")


def judge_repair(repaired_run, retrain_job, retrain_run) -> None:
    import math

    expect(repaired_run in retrain_job.runs, "`repaired_run` is not a run of `retrain_job`")
    expect(repaired_run.run_id == retrain_run.run_id,
           f"`repaired_run` is a new run (run {repaired_run.run_id}) of the whole job: repair the failed run "
           f"(run {retrain_run.run_id}) in place instead")
    run = retrain_run
    expect(run.repairs, "the failed run was never repaired")
    expect(run.executions("featurize") >= 2, "the repair did not rerun the task that failed")
    for key in ("ingest", "profile"):
        expect(run.executions(key) == 1, f"`{key}` had succeeded, and the repair ran it again: rerun only the "
                                         "failed task and what depends on it")
    states = run.states()
    if states["featurize"] != "SUCCESS":
        raise CheckFailed("`featurize` failed again in the repair: fix what its error names before repairing")
    bad = sorted(k for k, s in states.items() if s != "SUCCESS")
    expect(not bad, f"after the repair {', '.join(bad)} still did not succeed")
    rmse = run.task_value("evaluate", "rmse")
    expect(rmse is not None and math.isclose(rmse, retraining_rmse(), rel_tol=1e-9),
           "the model was trained on other columns than the settings meant: correct the misspelt column "
           "name rather than dropping or replacing columns")


# --- Exercise 4: MLOps practices and deployment patterns ------------------------------------------

PRACTICE_STATEMENTS = "ABCDEF"
PRACTICE_KEY = {"A", "B", "E"}
PRACTICE_WHY_WRONG = {
    "C": "a failed run can be repaired: only the failed tasks and their dependants run again, in the same run",
    "D": "Upstream failed marks a task that never ran because a task it depends on failed; the cause is "
         "the task marked Failed",
    "F": "production training runs as an automated job with tested code, not by hand from a personal folder",
}
PRACTICE_WHY_MISSING = {
    "A": "a statement about separating environments in Unity Catalog is true",
    "B": "a statement about what a Git folder does in the workspace is true",
    "E": "a statement about automated testing is true",
}
PATTERNS = {"W": "models", "X": "code", "Y": "models", "Z": "code"}


def _letters(value) -> set[str]:
    return {str(x).strip().upper() for x in value}


def _pattern(value) -> str:
    text = str(value).strip().lower()
    return "code" if text in {"code", "deploy code"} else "models" if text in {"models", "model", "deploy models"} else text


def form_practices(practices_true, pattern) -> None:
    expect_type(practices_true, (set, frozenset), "`practices_true`")
    unknown = sorted(_letters(practices_true) - set(PRACTICE_STATEMENTS))
    expect(not unknown, f"{unknown} are not statement letters: use the letters A to F")
    expect_type(pattern, dict, "`pattern`")
    keys = {str(k).strip().upper() for k in pattern}
    missing = sorted(set(PATTERNS) - keys)
    expect(not missing, f"`pattern` has no answer for scenario {', '.join(missing)}")
    odd = sorted(str(v) for v in pattern.values() if _pattern(v) not in {"code", "models"})
    if odd:
        raise CheckFailed(f"answer each scenario with \"code\" or \"models\"; got {odd[0]!r}")


def judge_practices(practices_true, pattern) -> None:
    expect_choice(_letters(practices_true), PRACTICE_KEY, PRACTICE_WHY_WRONG, PRACTICE_WHY_MISSING, "`practices_true`")
    given = {str(k).strip().upper(): _pattern(v) for k, v in pattern.items()}
    for letter, right in PATTERNS.items():
        if given.get(letter) != right:
            raise CheckFailed(f"scenario {letter} is not a case for deploying {given.get(letter)}: re-read which "
                              "constraint of the scenario the comparison table weighs")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: the task graph of a scoring workflow",
    syllabus=("D5.jobs-matrix", "S1.01"), names=("scoring_job",),
    form=form_scoring, judge=judge_scoring,
    hints=("Draw the graph first: which steps need which, which can run side by side, and which one must run "
           "whatever happened before it.",
           "`Task(task_key=..., python_callable=SCORING_STEPS[...], depends_on=[...], run_if=...)`; the default "
           "run_if is ALL_SUCCESS; one of the six conditions runs a task once its dependencies are done, "
           "whatever their result.",
           "scoring_job = Job(<a job name>, tasks=[\n"
           "    Task(<the first task's key>, python_callable=SCORING_STEPS[<its key>]),\n"
           "    Task(\"check_quality\", depends_on=[<...>], python_callable=...),\n"
           "    <featurize, then score (two dependencies), publish>,\n"
           "    Task(\"notify\", depends_on=[<...>], run_if=<...>, python_callable=...)])"),
    solution_code=(
        'scoring_job = Job("penguin-scoring", tasks=[\n'
        '    Task("ingest", python_callable=SCORING_STEPS["ingest"]),\n'
        '    Task("check_quality", depends_on=["ingest"], python_callable=SCORING_STEPS["check_quality"]),\n'
        '    Task("featurize", depends_on=["ingest"], python_callable=SCORING_STEPS["featurize"]),\n'
        '    Task("score", depends_on=["featurize", "check_quality"], python_callable=SCORING_STEPS["score"]),\n'
        '    Task("publish", depends_on=["score"], python_callable=SCORING_STEPS["publish"]),\n'
        '    Task("notify", depends_on=["publish"], run_if="ALL_DONE", python_callable=SCORING_STEPS["notify"])])'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: diagnose runs from the matrix",
    syllabus=("D5.jobs-matrix",), names=("diagnose",),
    form=form_diagnose, judge=judge_diagnose,
    hints=("A run's root causes are the tasks that raised an error themselves. A task that never ran because of "
           "them, or whose run_if condition was not met, is not a cause.",
           "The matrix has one column per run and one row per task: `matrix.columns`, `matrix[run]` (a Series "
           "indexed by task key), and the states SUCCESS, FAILED, UPSTREAM_FAILED, EXCLUDED.",
           "def diagnose(m):\n    return {run: {<task> for <task, state> in m[run].items() if <...>}\n"
           "            for run in <the runs of m>}"),
    solution_code=(
        'def diagnose(matrix):\n'
        '    return {run: {task for task, state in matrix[run].items() if state == "FAILED"}\n'
        '            for run in matrix.columns}'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: fix and repair the retraining run",
    syllabus=("D5.jobs-matrix", "S1.01"), names=("repaired_run",), context=("retrain_job", "retrain_run"),
    form=form_repair, judge=judge_repair,
    hints=("First read the failed task's error and fix its cause; then repair the run, so that the tasks that "
           "succeeded keep their results and are not run again.",
           "`retrain_run.task_runs[<key>].error`, `retrain_settings` (the dict the tasks read), and "
           "`retrain_job.repair_run(run, rerun_tasks=[...])` or `rerun_all_failed_tasks=True`.",
           "<correct the one misspelt entry of retrain_settings[\"features\"]>\n"
           "repaired_run = retrain_job.repair_run(<the failed run>, <which tasks to rerun>)"),
    solution_code=(
        'retrain_settings["features"] = ["age", "bmi", "bp", "s5"]\n'
        'repaired_run = retrain_job.repair_run(retrain_run, rerun_all_failed_tasks=True)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: MLOps practices, and what to promote",
    syllabus=("S1.01", "S1.16", "D5.git-folders", "D5.jobs-matrix"), names=("practices_true", "pattern"),
    form=form_practices, judge=judge_practices, guessable=True,
    hints=("Part 1: test each statement against sections 1, 3 and 4; Part 2: ask where the model should be "
           "trained, given what each team may read and what retraining costs.",
           "Deploy code moves the training code and trains in each environment; deploy models trains once and "
           "promotes the artifact. The comparison table lists when each fits.",
           "practices_true = {<three letters>}\npattern = {\"W\": <\"code\" or \"models\">, \"X\": ..., "
           "\"Y\": ..., \"Z\": ...}"),
    solution_code=(
        'practices_true = {"A", "B", "E"}\n'
        'pattern = {"W": "models", "X": "code", "Y": "models", "Z": "code"}'),
)
