"""A local stand-in for Lakeflow Jobs (formerly Databricks Jobs, then Workflows): multi-task jobs.

**What it imitates.** The task model of a Databricks job and what its runs page shows:

* a ``Job`` holds ``Task`` objects, each with a unique ``task_key``, ``depends_on`` (task keys, or
  ``TaskDependency(task_key=...)`` as in the Databricks SDK), a ``run_if`` condition
  (``ALL_SUCCESS``, the default, ``AT_LEAST_ONE_SUCCESS``, ``NONE_FAILED``, ``ALL_DONE``,
  ``AT_LEAST_ONE_FAILED``, ``ALL_FAILED``) and ``max_retries``; the graph must be acyclic;
* a task runs a ``NotebookTask(notebook_path=..., base_parameters={...})`` (executed with nbclient
  in a fresh kernel, the parameters set as variables in a first cell) or a Python callable
  (``python_callable``: an addition of this stand-in, cheaper than a kernel per task);
* ``job.run_now(job_parameters=...)`` runs the tasks in dependency order and returns a ``Run``
  whose ``task_runs`` hold each task's state, error, attempts and duration. The states are the
  API's result states: ``SUCCESS``, ``FAILED``, ``UPSTREAM_FAILED`` (shown as *Upstream failed*
  in the UI: the task was skipped because a dependency failed, for the conditions
  ALL_SUCCESS, AT_LEAST_ONE_SUCCESS and NONE_FAILED) and ``EXCLUDED`` (the condition of
  AT_LEAST_ONE_FAILED or ALL_FAILED was not met; an excluded task counts as successful, and a
  task whose dependencies are all excluded is excluded too);
* task values: a callable receives a context ``ctx`` with ``ctx.params`` (job parameters) and
  ``ctx.task_values.set(key, value)`` / ``ctx.task_values.get(taskKey, key, default)``, the
  shape of ``dbutils.jobs.taskValues``; values must be JSON-serialisable (pass data through
  tables or files, not task values);
* ``job.matrix()``: the runs page's matrix view as a pandas DataFrame, one row per task (in
  dependency order), one column per run (oldest first), each cell the task's state;
* ``job.repair_run(run, rerun_tasks=[...] | rerun_all_failed_tasks=True,
  rerun_dependent_tasks=False)``: reruns tasks **inside the same run** (same ``run_id``),
  with the job's *current* task settings (fix the task, then repair), keeping the results of the
  tasks that are not rerun. Downstream tasks that did not succeed are rerun along with the tasks
  you name; ``rerun_dependent_tasks=True`` also reruns dependants that had succeeded.

**What it does not.** No scheduler, triggers or continuous jobs; no clusters, job compute,
serverless or libraries (tasks run one at a time in this Python process, or in a local kernel
for notebook tasks; Databricks runs independent tasks in parallel); no permissions, owners,
run-as, notifications, webhooks, timeouts, queues, health rules, Git sources, If/else, For each
or Run Job tasks; no REST API, job IDs that persist, or UI. Notebook tasks cannot set task values,
and their output is not captured beyond the error. History lives in the ``Job`` object only.
"""
from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

RUN_IF = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED", "ALL_FAILED")
STATES = ("SUCCESS", "FAILED", "UPSTREAM_FAILED", "EXCLUDED")
_FAILED = {"FAILED", "UPSTREAM_FAILED"}


@dataclass(frozen=True)
class TaskDependency:
    """One edge of the graph, as the Databricks SDK spells it."""

    task_key: str


@dataclass(frozen=True)
class NotebookTask:
    """A notebook to run as a task (a local ``.ipynb`` path here; a workspace path on Databricks)."""

    notebook_path: str
    base_parameters: dict = field(default_factory=dict)


@dataclass
class Task:
    """One unit of work of a job."""

    task_key: str
    depends_on: Iterable = ()
    run_if: str = "ALL_SUCCESS"
    notebook_task: NotebookTask | None = None
    python_callable: Callable | None = None
    max_retries: int = 0
    description: str = ""

    def __post_init__(self):
        self.depends_on = tuple(d.task_key if isinstance(d, TaskDependency) else str(d) for d in self.depends_on)
        self.run_if = str(getattr(self.run_if, "value", self.run_if)).upper()
        if self.run_if not in RUN_IF:
            raise ValueError(f"task {self.task_key!r}: run_if must be one of {', '.join(RUN_IF)}; got {self.run_if!r}")
        if (self.notebook_task is None) == (self.python_callable is None):
            raise ValueError(f"task {self.task_key!r}: give exactly one of notebook_task and python_callable")
        if int(self.max_retries) < 0:
            raise ValueError(f"task {self.task_key!r}: max_retries cannot be negative")


class _TaskValues:
    def __init__(self, store: dict, task_key: str):
        self._store, self._task_key = store, task_key

    def set(self, key: str, value) -> None:
        try:
            json.dumps(value)
        except TypeError:
            raise TypeError(f"task value {key!r} is not JSON-serialisable ({type(value).__name__}): "
                            "pass data through a table or a file, and only small values between tasks") from None
        self._store.setdefault(self._task_key, {})[key] = value

    def get(self, taskKey: str, key: str, default=None):  # noqa: N803 (dbutils spells it taskKey)
        return self._store.get(taskKey, {}).get(key, default)


@dataclass
class TaskContext:
    """What a python_callable receives: the job parameters and the task values."""

    task_key: str
    params: dict
    task_values: _TaskValues
    attempt: int


@dataclass
class TaskRun:
    """The outcome of one task in one run (the latest attempt, after any repair)."""

    task_key: str
    state: str
    error: str | None = None
    attempts: int = 0
    duration_s: float = 0.0
    repair_id: int | None = None


@dataclass
class Run:
    """One run of a job: its task runs, and the history of every execution in it."""

    run_id: int
    job_parameters: dict
    task_runs: dict[str, TaskRun]
    history: list[dict] = field(default_factory=list)
    repairs: list[int] = field(default_factory=list)
    _values: dict = field(default_factory=dict, repr=False)

    @property
    def result_state(self) -> str:
        """SUCCESS; SUCCESS_WITH_FAILURES (some task failed but every leaf succeeded); or FAILED."""
        states = {k: t.state for k, t in self.task_runs.items()}
        if all(s in {"SUCCESS", "EXCLUDED"} for s in states.values()):
            return "SUCCESS"
        leaves = getattr(self, "_leaves", set(states))
        return "SUCCESS_WITH_FAILURES" if all(states[k] in {"SUCCESS", "EXCLUDED"} for k in leaves) else "FAILED"

    @property
    def latest_repair_id(self) -> int | None:
        return self.repairs[-1] if self.repairs else None

    def executions(self, task_key: str) -> int:
        """How many times the task was executed in this run, retries and repairs included."""
        return sum(1 for h in self.history if h["task_key"] == task_key)

    def states(self) -> dict[str, str]:
        return {k: t.state for k, t in self.task_runs.items()}

    def task_value(self, task_key: str, key: str, default=None):
        """A task value a task of this run set (``dbutils.jobs.taskValues.get`` from outside the job)."""
        return self._values.get(task_key, {}).get(key, default)


def _run_if_met(condition: str, upstream: list[str]) -> bool:
    ok = [s in {"SUCCESS", "EXCLUDED"} for s in upstream]
    failed = [s in _FAILED for s in upstream]
    return {
        "ALL_SUCCESS": all(ok),
        "AT_LEAST_ONE_SUCCESS": any(s == "SUCCESS" for s in upstream),
        "NONE_FAILED": not any(failed) and any(s == "SUCCESS" for s in upstream),
        "ALL_DONE": True,
        "AT_LEAST_ONE_FAILED": any(failed),
        "ALL_FAILED": all(failed),
    }[condition]


def _run_notebook(task: NotebookTask, params: dict, timeout: int) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(task.notebook_path, as_version=4)
    merged = {**params, **task.base_parameters}
    header = "\n".join(f"{k} = {v!r}" for k, v in merged.items()) or "pass"
    notebook.cells.insert(0, nbformat.v4.new_code_cell("# injected parameters\n" + header))
    NotebookClient(notebook, timeout=timeout, startup_timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(task.notebook_path).parent)}}).execute()


class Job:
    """A multi-task job. ``Job(name, tasks=[Task(...), ...])``; then ``run_now()``, ``matrix()``,
    ``repair_run(run, ...)``."""

    def __init__(self, name: str, tasks: Iterable[Task], notebook_timeout: int = 120):
        self.name = name
        self.notebook_timeout = notebook_timeout
        self.runs: list[Run] = []
        self._next_run_id = 1
        self._next_repair_id = 1
        self.tasks: dict[str, Task] = {}
        for task in tasks:
            if not isinstance(task, Task):
                raise TypeError(f"a job's tasks are Task objects; got {type(task).__name__}")
            if task.task_key in self.tasks:
                raise ValueError(f"two tasks have the key {task.task_key!r}: task keys are unique in a job")
            self.tasks[task.task_key] = task
        self._order = self._topological_order()

    # --- the graph ---------------------------------------------------------------------------

    def _topological_order(self) -> list[str]:
        for task in self.tasks.values():
            for dep in task.depends_on:
                if dep not in self.tasks:
                    raise ValueError(f"task {task.task_key!r} depends on {dep!r}, which is not a task of this job")
        order, done = [], set()
        pending = list(self.tasks)
        while pending:
            ready = [k for k in pending if set(self.tasks[k].depends_on) <= done]
            if not ready:
                raise ValueError(f"the tasks {', '.join(sorted(pending))} depend on each other in a cycle: "
                                 "a job's tasks form a directed acyclic graph")
            order += ready
            done |= set(ready)
            pending = [k for k in pending if k not in done]
        return order

    @property
    def task_order(self) -> list[str]:
        """Task keys in the order this stand-in runs them (dependencies first)."""
        return list(self._order)

    def downstream(self, task_key: str) -> set[str]:
        """Every task that depends on ``task_key``, directly or not."""
        found, frontier = set(), {task_key}
        while frontier:
            frontier = {k for k, t in self.tasks.items() if set(t.depends_on) & frontier} - found
            found |= frontier
        return found

    def update_task(self, task_key: str, **changes) -> None:
        """Change a task's settings (its code, retries...): later runs and repairs use them."""
        old = self.tasks[task_key]
        fields = {**old.__dict__, **changes}
        if "python_callable" in changes and "notebook_task" not in changes:
            fields["notebook_task"] = None
        if "notebook_task" in changes and "python_callable" not in changes:
            fields["python_callable"] = None
        self.tasks[task_key] = Task(**fields)
        self._order = self._topological_order()

    # --- running -----------------------------------------------------------------------------

    def _execute(self, run: Run, keys: set[str], repair_id: int | None) -> None:
        for key in self._order:
            if key not in keys:
                continue
            task = self.tasks[key]
            upstream = [run.task_runs[d].state for d in task.depends_on]
            if upstream and all(s == "EXCLUDED" for s in upstream):
                run.task_runs[key] = TaskRun(key, "EXCLUDED", repair_id=repair_id)
                continue
            if upstream and not _run_if_met(task.run_if, upstream):
                skipped = "EXCLUDED" if task.run_if in {"AT_LEAST_ONE_FAILED", "ALL_FAILED"} else "UPSTREAM_FAILED"
                run.task_runs[key] = TaskRun(key, skipped, repair_id=repair_id)
                continue
            run._values.pop(key, None)
            start, error, attempt = time.perf_counter(), None, 0
            for attempt in range(1, int(task.max_retries) + 2):
                try:
                    if task.python_callable is not None:
                        task.python_callable(TaskContext(key, dict(run.job_parameters),
                                                         _TaskValues(run._values, key), attempt))
                    else:
                        _run_notebook(task.notebook_task, dict(run.job_parameters), self.notebook_timeout)
                    error = None
                except Exception as exc:  # a task's failure is data for the run, not an error of the job
                    error = f"{type(exc).__name__}: {exc}"
                    run.history.append({"task_key": key, "attempt": attempt, "repair_id": repair_id,
                                        "state": "FAILED", "error": error,
                                        "traceback": traceback.format_exc(limit=3)})
                    continue
                run.history.append({"task_key": key, "attempt": attempt, "repair_id": repair_id,
                                    "state": "SUCCESS", "error": None, "traceback": None})
                break
            run.task_runs[key] = TaskRun(key, "FAILED" if error else "SUCCESS", error, attempt,
                                         round(time.perf_counter() - start, 3), repair_id)

    def run_now(self, job_parameters: dict | None = None) -> Run:
        """Run every task once, in dependency order; return the run (also kept in ``job.runs``)."""
        run = Run(self._next_run_id, dict(job_parameters or {}), {})
        self._next_run_id += 1
        run._leaves = {k for k in self.tasks if not any(k in t.depends_on for t in self.tasks.values())}
        self._execute(run, set(self.tasks), None)
        self.runs.append(run)
        return run

    def repair_run(self, run: Run, rerun_tasks: Iterable[str] | None = None, rerun_all_failed_tasks: bool = False,
                   rerun_dependent_tasks: bool = False, latest_repair_id: int | None = None) -> Run:
        """Rerun tasks of ``run`` in place, with the job's current task settings; return the same run."""
        if not isinstance(run, Run) or run not in self.runs:
            raise ValueError("repair_run repairs a run of this job: pass a Run that this job's run_now returned")
        if (rerun_tasks is None) == (not rerun_all_failed_tasks):
            raise ValueError("give exactly one of rerun_tasks and rerun_all_failed_tasks=True")
        if latest_repair_id is not None and latest_repair_id != run.latest_repair_id:
            raise ValueError(f"latest_repair_id {latest_repair_id} is not the run's latest repair ({run.latest_repair_id})")
        if rerun_all_failed_tasks:
            chosen = {k for k, t in run.task_runs.items() if t.state in _FAILED}
        else:
            chosen = {str(k) for k in ([rerun_tasks] if isinstance(rerun_tasks, str) else rerun_tasks)}
            unknown = sorted(chosen - set(self.tasks))
            if unknown:
                raise ValueError(f"{', '.join(unknown)} is not a task of this job")
        keys = set(chosen)
        for key in chosen:
            for below in self.downstream(key):
                if rerun_dependent_tasks or run.task_runs[below].state != "SUCCESS":
                    keys.add(below)
        repair_id = self._next_repair_id
        self._next_repair_id += 1
        run.repairs.append(repair_id)
        self._execute(run, keys, repair_id)
        return run

    # --- the matrix view ---------------------------------------------------------------------

    def matrix(self, values: str = "state"):
        """The matrix view: rows = tasks (dependency order), columns = runs (oldest first).

        ``values="state"`` (the default), ``"duration_s"`` or ``"attempts"``."""
        import pandas as pd

        data = {f"run {r.run_id}": {k: getattr(r.task_runs[k], values) for k in self._order if k in r.task_runs}
                for r in self.runs}
        frame = pd.DataFrame(data, index=self._order, columns=list(data))
        frame.index.name = "task_key"
        return frame
