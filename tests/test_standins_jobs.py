"""The local Jobs stand-in (course.standins.jobs) does what its docstring says: real runs of small
Python tasks (and one notebook task), no mocks."""
import nbformat
import pytest

from course.standins.jobs import Job, NotebookTask, Task, TaskDependency


def _job(calls, fail=(), **extra):
    def make(key):
        def body(ctx):
            calls.append(key)
            if key in fail:
                raise RuntimeError(f"{key} broke")
            ctx.task_values.set("seen", ctx.task_values.get("a", "n", 0) + 1)
        return body
    tasks = [Task("a", python_callable=make("a")),
             Task("b", depends_on=["a"], python_callable=make("b")),
             Task("c", depends_on=[TaskDependency("a")], python_callable=make("c")),
             Task("d", depends_on=["b", "c"], python_callable=make("d")),
             Task("cleanup", depends_on=["d"], run_if="ALL_DONE", python_callable=make("cleanup")),
             Task("alert", depends_on=["b"], run_if="AT_LEAST_ONE_FAILED", python_callable=make("alert"))]
    return Job("unit", tasks, **extra)


def test_dependency_order_and_success():
    calls = []
    run = _job(calls).run_now()
    assert calls.index("a") < calls.index("b") < calls.index("d") and calls.index("c") < calls.index("d")
    assert run.states() == {"a": "SUCCESS", "b": "SUCCESS", "c": "SUCCESS", "d": "SUCCESS",
                            "cleanup": "SUCCESS", "alert": "EXCLUDED"}
    assert run.result_state == "SUCCESS"


def test_a_failure_skips_dependants_and_run_if_conditions_apply():
    calls = []
    run = _job(calls, fail={"b"}).run_now()
    states = run.states()
    assert states["b"] == "FAILED" and "b broke" in run.task_runs["b"].error
    assert states["c"] == "SUCCESS" and states["d"] == "UPSTREAM_FAILED"
    assert states["cleanup"] == "SUCCESS" and states["alert"] == "SUCCESS"
    assert "d" not in calls
    assert run.result_state == "SUCCESS_WITH_FAILURES"          # every leaf (cleanup, alert) succeeded


def test_retries_count_attempts():
    flaky = {"n": 0}
    def body(ctx):
        flaky["n"] += 1
        if ctx.attempt == 1:
            raise TimeoutError("lost the node")
    run = Job("retry", [Task("t", python_callable=body, max_retries=2)]).run_now()
    assert run.task_runs["t"].state == "SUCCESS" and run.task_runs["t"].attempts == 2 and flaky["n"] == 2
    assert run.executions("t") == 2


def test_repair_reruns_failed_and_downstream_only_in_the_same_run():
    calls, broken = [], {"b"}
    job = _job(calls, fail=broken)
    run = job.run_now()
    broken.clear()                                    # the fix
    calls.clear()
    repaired = job.repair_run(run, rerun_tasks=["b"])
    assert repaired is run and run.run_id == 1 and len(job.runs) == 1
    assert sorted(calls) == ["b", "d"]                # cleanup had succeeded (ALL_DONE): not rerun
    assert run.states()["d"] == "SUCCESS" and run.result_state == "SUCCESS"
    assert run.executions("a") == 1 and run.latest_repair_id == 1
    calls.clear()
    job.repair_run(run, rerun_tasks=["b"], rerun_dependent_tasks=True, latest_repair_id=1)
    assert sorted(calls) == ["b", "cleanup", "d"]       # alert is rerun too, and excluded: b succeeded
    assert run.states()["alert"] == "EXCLUDED"
    with pytest.raises(ValueError):
        job.repair_run(run, rerun_tasks=["b"], latest_repair_id=1)   # stale repair id


def test_repair_all_failed_tasks_and_the_matrix():
    calls, broken = [], {"c"}
    job = _job(calls, fail=broken)
    job.run_now()
    second = job.run_now()
    broken.clear()
    job.repair_run(second, rerun_all_failed_tasks=True)
    matrix = job.matrix()
    assert list(matrix.columns) == ["run 1", "run 2"] and matrix.index[0] == "a"
    assert matrix.loc["c", "run 1"] == "FAILED" and matrix.loc["d", "run 1"] == "UPSTREAM_FAILED"
    assert matrix.loc["c", "run 2"] == "SUCCESS" and matrix.loc["d", "run 2"] == "SUCCESS"
    assert job.matrix("attempts").loc["a", "run 1"] == 1


def test_invalid_graphs_and_values_are_refused():
    ok = lambda ctx: None  # noqa: E731
    with pytest.raises(ValueError, match="cycle"):
        Job("x", [Task("a", depends_on=["b"], python_callable=ok), Task("b", depends_on=["a"], python_callable=ok)])
    with pytest.raises(ValueError, match="not a task"):
        Job("x", [Task("a", depends_on=["nope"], python_callable=ok)])
    with pytest.raises(ValueError, match="unique"):
        Job("x", [Task("a", python_callable=ok), Task("a", python_callable=ok)])
    with pytest.raises(ValueError, match="run_if"):
        Task("a", python_callable=ok, run_if="SOMETIMES")
    run = Job("x", [Task("a", python_callable=lambda ctx: ctx.task_values.set("frame", object()))]).run_now()
    assert run.task_runs["a"].state == "FAILED" and "JSON" in run.task_runs["a"].error


@pytest.mark.notebooks
def test_a_notebook_task_runs_with_its_parameters(tmp_path):
    path = tmp_path / "task.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("assert threshold == 3, threshold\n"
                                                    "open('out.txt', 'w').write(str(threshold * day))"))
    nbformat.write(notebook, path)
    job = Job("nb", [Task("nb", notebook_task=NotebookTask(str(path), base_parameters={"threshold": 3}))])
    run = job.run_now(job_parameters={"day": 2})
    assert run.task_runs["nb"].state == "SUCCESS", run.task_runs["nb"].error
    assert (tmp_path / "out.txt").read_text() == "6"
    bad = job.run_now(job_parameters={"day": 2, "threshold": 1})     # base_parameters win over job parameters
    assert bad.task_runs["nb"].state == "SUCCESS"
