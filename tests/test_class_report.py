"""The class report (autograde.class_report) of a scratch course graded by stock `nbgrader autograde`:
five students, one copy-paste pair, one failing student whose last cell runs out of time, one
whose run failed per the run.json that `autograde run` writes."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook
from notebook_files import answered, nbgrader_cell

from autograde import class_report, nbgrader_run

ASSIGNMENT = "ps1"
NOTEBOOK = "problems"
KILLED = "KernelDied: exit code 137 (the kernel was killed)"


def source_notebook():
    return new_notebook(cells=[
        new_markdown_cell("### Exercise 1: double it\n*Syllabus: S1.01*"),
        nbgrader_cell("double-answer", "double = ...  # a function\n### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n"
                                "### END SOLUTION", solution=True),
        nbgrader_cell("double-check", "### BEGIN HIDDEN TESTS\nassert double(21) == 42, 'double 21 is 42'\n"
                               "### END HIDDEN TESTS", points=2),
        new_markdown_cell("### Exercise 2: summarise\n*Syllabus: S2.02*"),
        nbgrader_cell("stats-answer", "DATA = [3, 1, 4, 1, 5]\nLABEL = 'five numbers'\n"
                               "summary = ...  # a dict: mean and spread of DATA\n"
                               "### BEGIN SOLUTION\nsummary = {'mean': sum(DATA) / len(DATA),\n"
                               "           'spread': max(DATA) - min(DATA)}\n### END SOLUTION", solution=True),
        nbgrader_cell("stats-check", "### BEGIN HIDDEN TESTS\n"
                              "assert summary == {'mean': 2.8, 'spread': 4}, 'wrong summary'\n### END HIDDEN TESTS",
               points=3),
        new_markdown_cell("### Exercise 3: the answer\n*Syllabus: S1.01*"),
        nbgrader_cell("answer-answer", "answer = ...  # an int\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION",
               solution=True),
        nbgrader_cell("answer-check", "### BEGIN HIDDEN TESTS\nassert answer == 42, 'not the answer'\n### END HIDDEN TESTS",
               points=1, course={"syllabus": ["S3.03"]}),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


DATA_LINE = "DATA = [3, 1, 4, 1, 5]\nLABEL = 'five numbers'\n"   # scaffold lines, kept by every student
COPIED_SUMMARY = ("mean = sum(DATA) / len(DATA)\nlowest, highest = min(DATA), max(DATA)\n"
                  "summary = {'mean': mean, 'spread': highest - lowest}")
ANSWERS = {
    "alice": {"double-answer": "def double(x):\n    return x + x",
              "stats-answer": DATA_LINE + "summary = {'mean': sum(DATA) / len(DATA),\n"
                                          "           'spread': max(DATA) - min(DATA)}",
              "answer-answer": "answer = 6 * 7"},
    "bob": {"double-answer": "def double(x):\n    return 2 * x",
            "stats-answer": DATA_LINE + "summary = ...  # a dict: mean and spread of DATA\n" + COPIED_SUMMARY,
            "answer-answer": "answer = 6 * 7"},
    # carol's copy of bob's answer: other comments, blank lines and spacing
    "carol": {"double-answer": "def double(x):\n    return x * 3",
              "stats-answer": DATA_LINE + "# my own work!\nmean = sum(DATA)/len(DATA)\n\n"
                              "lowest,highest = min(DATA),   max(DATA)  # range\n"
                              "summary = {'mean': mean, 'spread': highest-lowest}",
              "answer-answer": "answer = 42"},
    # dave: a wrong first answer, the second untouched, the third never ends (nbgrader stops it)
    "dave": {"double-answer": "def double(x):\n    return x", "answer-answer": "while True:\n    pass"},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report-course")
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n'
        'c.Execute.timeout = 3\nc.Execute.interrupt_on_timeout = True\nc.Execute.kernel_name = "python3"\n')
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    nbgrader_run.run(["generate_assignment", ASSIGNMENT, "--force"], root=root)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)

    def submit(student: str, answers: dict[str, str]) -> None:
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(answered(release, answers), folder / f"{NOTEBOOK}.ipynb")

    for student, answers in ANSWERS.items():
        submit(student, answers)
    # stock nbgrader, the class gradebook; dave's cell timeout makes nbgrader log an ERROR and go on
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=root,
                   env=nbgrader_run.environment(), capture_output=True, text=True, timeout=600)
    assert sorted(p.name for p in (root / "autograded").iterdir()) == sorted(ANSWERS)
    submit("erin", {})   # untouched; her run failed, as run.json says
    run = {"assignment": ASSIGNMENT, "sandbox": "bubblewrap", "workers": 2, "seconds": 12.5, "students": [
        *({"student": s, "status": "graded", "reason": None, "score": None, "max_score": 6.0, "seconds": 2.0}
          for s in ANSWERS),
        {"student": "erin", "status": "failed", "reason": KILLED, "score": None, "max_score": None, "seconds": 1.0}]}
    (root / "reports" / ASSIGNMENT).mkdir(parents=True)
    (root / "reports" / ASSIGNMENT / "run.json").write_text(json.dumps(run))
    return root


@pytest.fixture(scope="module")
def built(course) -> tuple[str, list[dict]]:
    html_path, csv_path = class_report.build(course, ASSIGNMENT)
    assert html_path == course / "reports" / ASSIGNMENT / "report.html"
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return html_path.read_text(encoding="utf-8"), rows


def test_csv_has_one_row_per_student_with_every_graded_cell(built):
    _, rows = built
    table = {row["student"]: row for row in rows}
    assert list(rows[0]) == ["student", "status", "score", "max_score", "double-check", "stats-check", "answer-check"]
    assert sorted(table) == ["alice", "bob", "carol", "dave", "erin"]
    cells = ("score", "double-check", "stats-check", "answer-check")
    assert [table["alice"][c] for c in cells] == ["6", "2", "3", "1"]
    assert [table["bob"][c] for c in cells] == ["6", "2", "3", "1"]
    assert [table["carol"][c] for c in cells] == ["4", "0", "3", "1"]
    assert [table["dave"][c] for c in cells] == ["0", "0", "0", "0"]
    assert {c: table["erin"][c] for c in ("status", *cells)} == {
        "status": "failed", "score": "", "double-check": "", "stats-check": "", "answer-check": ""}
    assert {row["max_score"] for row in rows} == {"6"}
    assert {table[s]["status"] for s in ("alice", "bob", "carol", "dave")} == {"graded"}


def test_html_is_self_contained_with_histogram_and_heatmap(built):
    page, _ = built
    for fetches in ("<script", "<link", "<img", 'src="http', 'href="http', "url(http", "@import"):
        assert fetches not in page
    histogram = page[page.index("id='score-histogram'"):]
    assert histogram.index("<svg") < histogram.index("</svg>")
    assert "count 4 · mean 4.00 · median 5" in page
    heatmap = page[page.index("id='objective-heatmap'"):]
    heatmap = heatmap[:heatmap.index("</svg>")]
    for label in ("S1.01", "S2.02", "S3.03", "alice", "dave"):
        assert label in heatmap
    assert "erin" not in heatmap, "a failed run has no scores to show"


def test_html_names_failures_and_their_reasons(built):
    page, _ = built
    failures = page[page.index("id='failures'"):page.index("id='clusters'")]
    assert "erin" in failures and "KernelDied: exit code 137 (the kernel was killed)" in failures
    assert "dave" in failures and "CellTimeoutError" in failures


def test_html_shows_the_copy_paste_pair_only(built, course):
    page, _ = built
    clusters = class_report.identical_code(course, ASSIGNMENT, course / "source" / ASSIGNMENT)
    assert [(c.grade_id, c.students) for c in clusters] == [("stats-answer", ["bob", "carol"])]
    section = page[page.index("id='clusters'"):page.index("id='students'")]
    assert "bob, carol" in section
    assert "dave" not in section and "erin" not in section, "untouched scaffolds never cluster"


def test_each_graded_cell_knows_its_syllabus_ids(course):
    cells = class_report.graded_cells(course / "source" / ASSIGNMENT)
    assert [(c.grade_id, c.syllabus, c.title) for c in cells] == [
        ("double-check", ("S1.01",), "Exercise 1: double it"),
        ("stats-check", ("S2.02",), "Exercise 2: summarise"),
        ("answer-check", ("S3.03",), "Exercise 3: the answer"),   # the cell's own metadata wins
    ]


def test_normalised_code_ignores_comments_and_spacing():
    one = "x = [1,2,  3]  # the list\n\n\nfor v in x:\n    print( v )\n"
    other = "# a comment\nx=[1, 2, 3]\nfor v in x:\n  print(v)  # show\n"
    assert class_report.normalised_lines(one) == class_report.normalised_lines(other) == [
        "x = [ 1 , 2 , 3 ]", "for v in x :", "print ( v )"]
    assert class_report.normalised_lines("x = [1,\n  2") == ["x = [1,", "2"], "broken code still compares"
