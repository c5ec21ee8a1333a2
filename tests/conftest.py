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


@pytest.fixture(scope="session")
def course_data() -> Path:
    return _DATA


@pytest.fixture(scope="session")
def spark():
    from course.spark import get_spark

    session = get_spark("tests")
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

