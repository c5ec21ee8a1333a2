"""Every lesson runs on Spark Connect, as on Databricks serverless and standard access mode.

``SPARK_REMOTE=local[2]`` makes PySpark start a local Spark Connect server and talk to it over
gRPC, so the lesson gets a Connect session (no ``sparkContext``, no RDDs); cells that need the
classic API are guarded with ``course.spark.is_connect`` and must say what differs. A lesson that
needs no Spark at all (its metadata says ``"spark": false``) must then start none.
"""
import nbformat
import pytest
from nbclient import NotebookClient

from notebook_files import source_notebooks

pytestmark = [pytest.mark.notebooks]


def lessons():
    return [p for p in source_notebooks()
            if "questions" not in nbformat.read(p, as_version=4).metadata.get("course", {})]


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.stem)
def test_lesson_runs_on_spark_connect(path):
    notebook = nbformat.read(path, as_version=4)
    # SPARK_TESTING: PySpark's local Connect server takes a free port instead of 15002, so the test
    # never collides with a Connect server already running on this machine.
    prelude = nbformat.v4.new_code_cell("import os\nos.environ['SPARK_REMOTE'] = 'local[2]'\n"
                                        "os.environ.setdefault('SPARK_TESTING', '1')")
    probe = nbformat.v4.new_code_cell("from course.spark import is_connect\n"
                                      "print('connect:', is_connect(spark) if 'spark' in globals() else 'no session')")
    uses_spark = notebook.metadata.get("course", {}).get("spark", True)
    notebook.cells = [prelude, *notebook.cells, probe]
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for index, cell in enumerate(notebook.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{path.stem}: cell {index - 1} fails on Spark Connect: {errors[0].ename}: {errors[0].evalue[:300]}"
    printed = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
    if uses_spark:
        assert "connect: True" in printed, "the lesson did not run on a Spark Connect session"
    else:
        assert "connect: no session" in printed, "the lesson says it needs no Spark, but defines `spark`"
