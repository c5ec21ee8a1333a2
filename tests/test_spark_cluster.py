"""The week 1 and week 2 lessons run on a real multi-process cluster: a Spark standalone master and
one worker, started as on a cluster (``spark-class ...deploy.master.Master`` and
``...deploy.worker.Worker``, on 127.0.0.1; ``tests/spark_servers.py``), with ``SPARK_MASTER``
pointing at it. The driver stays in the notebook's kernel (a classic session, as on a Databricks
cluster in dedicated access mode); tasks run in an executor JVM that the worker starts, with its
own Python workers, so nothing may rely on driver and executors sharing one process.
"""
import nbformat
import pytest

from notebook_files import cell_errors, execute_lesson, lesson_notebooks

pytestmark = [pytest.mark.notebooks]

PROBE = ("print('master:', spark.sparkContext.master, '| executors:', "
         "spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1)")


def weeks_one_and_two():
    return [p for p in lesson_notebooks()
            if nbformat.read(p, as_version=4).metadata["course"]["lesson"].startswith(("w1-", "w2-"))]


@pytest.mark.parametrize("path", weeks_one_and_two(), ids=lambda p: p.stem)
def test_lesson_runs_on_a_standalone_cluster(path, cluster_master):
    notebook = execute_lesson(path, f"import os\nos.environ['SPARK_MASTER'] = {cluster_master!r}", PROBE)
    errors = cell_errors(notebook)
    assert not errors, f"{path.stem} fails on the standalone cluster: {errors[0]}"
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    assert f"master: {cluster_master} | executors: 1" in printed, printed
