"""Feedback without hidden tests (autograde.feedback): a scratch course with a tiny assignment,
graded by stock `nbgrader autograde`, whose feedback shows each graded cell's points, pass or
fail and the failure message, and never a line of a hidden test nor a traceback."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook
from notebook_files import answered, nbgrader_cell

from autograde import feedback, nbgrader_run

ASSIGNMENT = "ps1"
NOTEBOOK = "problems"
# Distinctive strings of the hidden tests: none may reach a feedback page.
HIDDEN_MARK = "HIDDEN-ONLY-7f3a"
HIDDEN_ASSERT = "assert double(21) == 42"


def source_notebook():
    return new_notebook(cells=[
        new_markdown_cell("### Exercise 1: double it"),
        nbgrader_cell("double-answer", "double = ...  # a function\n### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n"
                                "### END SOLUTION", solution=True),
        nbgrader_cell("double-check", "print('checking double')\n### BEGIN HIDDEN TESTS\n"
                               f"{HIDDEN_ASSERT}  # {HIDDEN_MARK}\n### END HIDDEN TESTS", points=2),
        new_markdown_cell("### Exercise 2: greet"),
        nbgrader_cell("greet-answer", "greeting = ...  # a string\n### BEGIN SOLUTION\ngreeting = 'hello'\n### END SOLUTION",
               solution=True),
        nbgrader_cell("greet-check", "### BEGIN HIDDEN TESTS\n"
                              f"_expected = 'hello'  # {HIDDEN_MARK}\n"
                              "assert greeting == _expected, 'say hello in lower case'\n### END HIDDEN TESTS",
               points=3),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course folder graded by stock nbgrader: ``ana`` passes everything, ``ben`` fails both
    checks (one with the test's message, one by printing to a name that does not exist)."""
    root = tmp_path_factory.mktemp("feedback-course")
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n'
        'c.Execute.timeout = 60\nc.Execute.kernel_name = "python3"\n')
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    nbgrader_run.run(["generate_assignment", ASSIGNMENT, "--force"], root=root)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = {
        "ana": {"double-answer": "def double(x):\n    return x + x", "greet-answer": "greeting = 'hello'"},
        "ben": {"double-answer": "def double(x):\n    return x * 3", "greet-answer": "greeting = 'Hello!'"},
    }
    for student, cells in answers.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(answered(release, cells), folder / f"{NOTEBOOK}.ipynb")
        (folder / "timestamp.txt").write_text("2026-01-15 10:00:00.000000 UTC")  # as `nbgrader collect` writes
    nbgrader_run.run(["autograde", ASSIGNMENT, "--force"], root=root)
    return root


def feedback_page(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")


def page_text(page: str) -> str:
    """What a reader sees: the body without tags (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page[page.index("<body"):]))


def test_autograded_notebook_holds_the_hidden_tests_feedback_does_not(course):
    executed = (course / "autograded" / "ben" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert HIDDEN_MARK in executed and HIDDEN_ASSERT in executed and "most recent call last" in executed, \
        "the autograded notebook should hold what the feedback must hide"

    written = feedback.generate(course, ASSIGNMENT)

    assert sorted(p.relative_to(course).as_posix() for p in written) == [
        f"feedback/ana/{ASSIGNMENT}/{NOTEBOOK}.html", f"feedback/ben/{ASSIGNMENT}/{NOTEBOOK}.html"]
    for student in ("ana", "ben"):
        page = feedback_page(course, student)
        assert HIDDEN_MARK not in page and "HIDDEN TESTS" not in page
        assert "double(21)" not in page and "_expected" not in page
        assert "most recent call last" not in page, "no traceback"
        assert (course / "feedback" / student / ASSIGNMENT / "timestamp.txt").is_file(), \
            "nbgrader release_feedback reads the submission's timestamp next to the page"


def test_feedback_shows_points_verdict_and_message(course):
    feedback.generate(course, ASSIGNMENT)
    ana, ben = feedback_page(course, "ana"), feedback_page(course, "ben")

    assert "Passed: 2 / 2 points" in ana and "Passed: 3 / 3 points" in ana
    assert "(Score: 5.0 / 5.0)" in ana
    assert "Failed: 0 / 2 points. AssertionError: a hidden test failed" in ben
    assert "Failed: 0 / 3 points. AssertionError: say hello in lower case" in ben
    assert "(Score: 0.0 / 5.0)" in ben
    # the student's own answers and the visible part of the check stay
    assert "return x * 3" in page_text(ben) and "print('checking double')" in page_text(ben)
    assert "checking double\n" in page_text(ben)


def test_feedback_without_gradebook_entry_scores_the_executed_notebook(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns("gradebook.db", "feedback"))
    # a fresh, empty gradebook: it knows neither the assignment nor the students
    subprocess.run([sys.executable, "-c",
                    "from nbgrader.api import Gradebook; Gradebook('sqlite:///gradebook.db').close()"],
                   cwd=copy, check=True, env=nbgrader_run.environment())

    feedback.generate(copy, ASSIGNMENT, student="ben")

    page = feedback_page(copy, "ben")
    assert "Failed: 0 / 3 points. AssertionError: say hello in lower case" in page
    assert HIDDEN_MARK not in page
    assert not (copy / "feedback" / "ana").exists()
