"""Shared fixtures. Every test run writes into its own course data folder, never the learner's."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Set before `course` is imported anywhere, so nothing touches the real data folder.
_DATA = Path(tempfile.mkdtemp(prefix="course-test-data-"))
os.environ["COURSE_DATA"] = str(_DATA)
os.environ.setdefault("COURSE_HEADLESS", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_mlflow_settings_leak_into_later_kernels():
    """`mlflow.set_tracking_uri` and `set_registry_uri` also set MLFLOW_TRACKING_URI and
    MLFLOW_REGISTRY_URI in os.environ, and every notebook kernel a later test starts would inherit
    them (a kernel's local Spark Connect server hands them to its Python workers, which would then
    look models up in another test's registry). Each test gets the environment back as it found it."""
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")
    saved = {k: os.environ.get(k) for k in keys}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def pytest_sessionfinish(session, exitstatus):
    """Stop this test process's course engine (the notebooks it ran started it in its data folder)."""
    from course import engine

    if (_DATA / "spark" / "engine" / "connect-local.json").exists():
        engine.stop()


@pytest.fixture(scope="session")
def course_data() -> Path:
    return _DATA


@pytest.fixture(scope="session")
def connect_remote(tmp_path_factory):
    """A real Spark Connect server on 127.0.0.1 for this test process: its ``sc://`` URL."""
    from spark_servers import connect_server

    with connect_server(tmp_path_factory.mktemp("connect-server")) as remote:
        yield remote


@pytest.fixture(scope="session")
def cluster_master(tmp_path_factory):
    """A Spark standalone master and one worker on 127.0.0.1 for this test process: the master URL."""
    from spark_servers import standalone_cluster

    with standalone_cluster(tmp_path_factory.mktemp("standalone-cluster")) as master:
        yield master


@pytest.fixture(scope="session")
def spark():
    from course.spark import get_spark

    session = get_spark("tests", classic=True)
    yield session
    session.stop()


class FakeClock:
    """A clock the tests move by hand (``clock.now += 60``)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()



# The notebook tests parametrized by lesson (or by assignment) are the longest part of the suite.
# Under `--dist loadfile` each of their files would run on one worker from start to end; here each
# lesson's test is its own unit of work, so the workers share them out. Every other file, and every
# notebook that nbval runs cell by cell, stays whole on one worker, as loadfile keeps it.
PER_LESSON_FILES = ("tests/test_answer_catalogs.py", "tests/test_spark_connect.py", "tests/test_spark_cluster.py",
                    "tests/test_autograde.py")


def work_unit(nodeid: str) -> str:
    """The unit of work a test id belongs to: its file, or itself for a per-lesson notebook test."""
    file = nodeid.split("::", 1)[0]
    return nodeid if file in PER_LESSON_FILES else file


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    # Units go out in collection order (tests/ before source/), so the per-lesson notebook tests,
    # the longest units, start first instead of being left to the end by their one-test size.
    config.option.loadscopereorder = False

    class PerLessonScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return PerLessonScheduling(config, log)


# PostgreSQL gradebooks: CI starts a server (.ci/run) and names it in COURSE_TEST_POSTGRES_URL.
@pytest.fixture(scope="module")
def postgres_server() -> str:
    """The URL of the PostgreSQL server CI starts (module scope: a skip comes before the grading)."""
    server = os.environ.get("COURSE_TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("COURSE_POSTGRES_TESTS") == "required":
            pytest.fail("COURSE_POSTGRES_TESTS=required but COURSE_TEST_POSTGRES_URL names no PostgreSQL server")
        pytest.skip("no PostgreSQL server (COURSE_TEST_POSTGRES_URL unset): CI runs these tests")
    return server


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh database on the server named by COURSE_TEST_POSTGRES_URL, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = postgres_server
    name = f"gradebook_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
