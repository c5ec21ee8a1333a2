"""Every lesson runs on Spark Connect, as on Databricks serverless and standard access mode.

A real Spark Connect server, started as an administrator starts one (PySpark's
``sbin/start-connect-server.sh``), listens on 127.0.0.1 (``tests/spark_servers.py``; one server
per test process, stopped at its end); each lesson runs in a fresh kernel with ``SPARK_REMOTE``
pointing at it, so it gets a Connect session (no ``sparkContext``, no RDDs) and its Python UDFs run
in the server's workers. Cells that need the classic API are guarded with
``course.spark.is_connect`` and say what differs. A lesson that needs no Spark at all (its metadata
says ``"spark": false``) must then start none.
"""
import nbformat
import pytest

from notebook_files import cell_errors, execute_lesson, lesson_notebooks

pytestmark = [pytest.mark.notebooks]

PROBE = ("from course.spark import is_connect\n"
         "print('connect:', is_connect(spark) if 'spark' in globals() else 'no session')")


@pytest.mark.parametrize("path", lesson_notebooks(), ids=lambda p: p.stem)
def test_lesson_runs_on_spark_connect(path, connect_remote):
    uses_spark = nbformat.read(path, as_version=4).metadata.get("course", {}).get("spark", True)
    notebook = execute_lesson(path, f"import os\nos.environ['SPARK_REMOTE'] = {connect_remote!r}", PROBE)
    errors = cell_errors(notebook)
    assert not errors, f"{path.stem} fails on Spark Connect: {errors[0]}"
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    if uses_spark:
        assert "connect: True" in printed, "the lesson did not run on a Spark Connect session"
    else:
        assert "connect: no session" in printed, "the lesson says it needs no Spark, but defines `spark`"
