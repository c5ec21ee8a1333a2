"""Every lesson runs on Spark Connect, as on Databricks serverless and standard access mode.

Most lessons already do in tests/test_answer_catalogs.py: a local notebook's get_spark() gives a
session on the course engine, a Spark Connect server. The lessons that need the classic API ask for
``get_spark(classic=True)`` and run classic there; here they run on a real Spark Connect server
started as an administrator starts one (PySpark's ``sbin/start-connect-server.sh``, on 127.0.0.1:
``tests/spark_servers.py``; one server per test process, stopped at its end), each in a fresh
kernel with ``SPARK_REMOTE`` pointing at it, which wins over ``classic=True``. Their cells that
need the classic API are guarded with ``course.spark.is_connect`` and say what differs.
"""
import pytest

from notebook_files import SESSION_PROBE, asks_for_classic, cell_errors, execute_lesson, lesson_notebooks

pytestmark = [pytest.mark.notebooks]


def test_the_lessons_that_ask_for_classic_spark_are_few():
    classic = [p.stem for p in lesson_notebooks() if asks_for_classic(p)]
    assert 0 < len(classic) <= 6, classic


@pytest.mark.parametrize("path", [p for p in lesson_notebooks() if asks_for_classic(p)], ids=lambda p: p.stem)
def test_a_lesson_that_asks_for_classic_spark_also_runs_on_spark_connect(path, connect_remote):
    notebook = execute_lesson(path, f"import os\nos.environ['SPARK_REMOTE'] = {connect_remote!r}", SESSION_PROBE)
    errors = cell_errors(notebook)
    assert not errors, f"{path.stem} fails on Spark Connect: {errors[0]}"
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    assert "session: connect" in printed, "the lesson did not run on a Spark Connect session"
