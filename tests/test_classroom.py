"""Classroom grading a class cannot cheat: crafted submissions graded by ``autograde run``.

A scratch course holds the week 1 review quiz (15 questions, 1 point each, no Spark) and a class of
submissions made from its student version: one honest student who knows every key (graded in the
same run as the attackers), a half-right one, and five attacks that fooled stock nbgrader:
rewriting the gradebook, reading the instructor's notebooks, blanking the tests with an input
transformer, looking the keys up in the installed question bank, and killing the kernel halfway.
One class is of a Spark lesson instead, graded on an installation without Spark's class archive.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde import class_report, feedback, gradebook, nbgrader_run, run
from autograde.sandbox import sandbox_mode

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "week1-ml-fundamentals"
QUIZ = "90-week1-review-quiz.ipynb"

pytestmark = pytest.mark.skipif(
    not sandbox_mode().startswith("bubblewrap") and not __import__("os").environ.get("COURSE_SANDBOX_TESTS"),
    reason=f"classroom grading tests need the bubblewrap sandbox ({sandbox_mode()})")


def keys() -> list[str]:
    """The solution line of every answer cell of the instructor's quiz (``answer_01 = {"A"}``)."""
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / QUIZ, as_version=4)
    found = []
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            found.append(re.search(r"### BEGIN SOLUTION\n(.*?)\n### END SOLUTION", cell.source, re.S).group(1))
    return found


def wrong(line: str) -> str:
    """The same answer with another key (a letter the key does not hold)."""
    name, key = line.split(" = ", 1)
    letters = set(re.findall(r'"([A-E])"', key))
    other = next(letter for letter in "ABCDE" if letter not in letters)
    return f'{name} = {{"{other}"}}'


GRADEBOOK_ATTACK = """
import glob, sqlite3
for path in glob.glob("../../../*.db") + glob.glob("{root}/*.db"):
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET auto_score = 0")
        db.commit()
        print("rewrote", path)
    except Exception as exc:
        print("could not rewrite", path, exc)
"""

SOURCE_ATTACK = """
import glob, json, re
for path in glob.glob("../../../source/*/*.ipynb") + glob.glob("{root}/source/*/*.ipynb"):
    for cell in json.load(open(path))["cells"]:
        text = "".join(cell["source"])
        found = re.search(r"### BEGIN SOLUTION\\n(answer_\\d+ = .*?)\\n", text)
        if found:
            exec(found.group(1))
"""

TRANSFORMER_ATTACK = """
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
"""

BANK_ATTACK = """
import json, re
from course import questions
bank = questions.load_bank()
by_id = {{q["id"]: q for q in bank}}
by_stem = {{" ".join(q["stem"].split()): q for q in bank}}
notebook = json.load(open("{quiz}"))
for cell in notebook["cells"]:
    text = "".join(cell["source"])
    number = re.search(r"### Question (\\d+)", text)
    if cell["cell_type"] != "markdown" or not number:
        continue
    ident = re.search(r"\\b(D\\d-\\d{{3}})\\b", text)
    flat = " ".join(text.split())
    question = by_id.get(ident.group(1)) if ident else next(
        (q for stem, q in by_stem.items() if stem[:120] in flat), None)
    if question is None:
        continue
    letters = dict(re.findall(r"- \\*\\*([A-E])\\)\\*\\* (.*)", text))
    key = {{letter for letter, option in letters.items()
           if any(" ".join(option.split()) == " ".join(question["options"][i].split()) for i in question["answer"])}}
    globals()[f"answer_{{int(number.group(1)):02d}}"] = key
"""


def submission(answers: list[str], first: str = "") -> nbformat.NotebookNode:
    """The student version of the quiz with ``answers`` in its answer cells (``first`` prepended
    to the first answer cell)."""
    nb = nbformat.read(ROOT / "release" / ASSIGNMENT / QUIZ, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(cells) == len(answers) == 15
    for number, (cell, answer) in enumerate(zip(cells, answers)):
        cell.source = (first if number == 0 else "") + answer
    return nb


def course_with(tmp_path: Path, students: dict[str, nbformat.NotebookNode], config_extra: str = "") -> Path:
    course = tmp_path / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(ROOT / "source" / ASSIGNMENT / QUIZ, course / "source" / ASSIGNMENT / QUIZ)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + config_extra)
    for student, nb in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / QUIZ)
    return course


def class_scores(course: Path) -> dict[str, float]:
    return gradebook.scores(f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT)


def cell_errors(course: Path, student: str) -> list[str]:
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / QUIZ, as_version=4)
    return [f"{o.ename}: {o.evalue}" for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


def test_five_attacks_get_their_rightful_grades_and_the_victim_keeps_full_marks(tmp_path):
    right = keys()
    wrong_answers = [wrong(line) for line in right]
    blank = ["pass"] * len(right)   # the attack in the first answer cell sets the answers
    crashed = right[:4] + ["import os\nos._exit(1)"] + right[5:]
    root = str(tmp_path / "course")
    students = {
        "victim": submission(right),
        "gradebook": submission(wrong_answers, GRADEBOOK_ATTACK.format(root=root)),
        "source": submission(blank, SOURCE_ATTACK.format(root=root)),
        "transformer": submission(wrong_answers, TRANSFORMER_ATTACK),
        "bank": submission(blank, BANK_ATTACK.format(quiz=QUIZ)),
        "crash": submission(crashed),
    }
    course = course_with(tmp_path, students)
    outcomes = {o.student: o for o in run.run(course, ASSIGNMENT, workers=2)}
    assert {s: o.status for s, o in outcomes.items()} == dict.fromkeys(students, "graded")
    expected = {"victim": 15, "gradebook": 0, "source": 0, "transformer": 0, "bank": 0, "crash": 14}
    assert {s: o.score for s, o in outcomes.items()} == expected
    assert class_scores(course) == expected   # what the class gradebook holds after the whole run
    assert all(o.max_score == 15 for o in outcomes.values())
    assert any(e.startswith("HooksTampered") and "input_transformers_cleanup" in e
               for e in cell_errors(course, "transformer"))
    assert "KernelDied: the kernel exited with code 1 while this cell ran" in cell_errors(course, "crash")
    log = json.loads((course / "reports" / ASSIGNMENT / "run.json").read_text())
    assert log["sandbox"].startswith("bubblewrap") and log["workers"] == 2
    assert {s["student"]: s["score"] for s in log["students"]} == expected
    # the reasons reach the feedback and the class report; the hidden tests do not
    with nbgrader_run.interpreter_on_path():
        pages = {p.parent.parent.name: p.read_text() for p in feedback.generate(course, ASSIGNMENT)}
        html_path, csv_path = class_report.build(course, ASSIGNMENT)
    assert "KernelDied" in pages["crash"] and "HooksTampered" in pages["transformer"]
    assert not any("BEGIN HIDDEN TESTS" in page or "assert {a.strip()" in page for page in pages.values())
    html = html_path.read_text()
    assert "KernelDied" in html and "HooksTampered" in html
    assert "victim" in csv_path.read_text()


def test_honest_submissions_get_exactly_the_grades_of_stock_nbgrader(tmp_path):
    right = keys()
    students = {"all": submission(right), "half": submission(right[:8] + [wrong(k) for k in right[8:]]),
                "none": submission([f"{line.split(' = ')[0]} = ..." for line in right])}
    course = course_with(tmp_path / "run", students)
    outcomes = {o.student: o.score for o in run.run(course, ASSIGNMENT, workers=2)}
    # stock nbgrader: its own Execute, no sandbox, one student after another
    stock = course_with(tmp_path / "stock", students,
                        "\nfrom nbgrader.converters import Autograde\n"
                        "c.Autograde.autograde_preprocessors = "
                        "Autograde.class_traits()['autograde_preprocessors'].default()\n")
    env = nbgrader_run.environment()
    for command in (["generate_assignment", ASSIGNMENT], ["autograde", ASSIGNMENT]):
        subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=stock, env=env, check=True,
                       capture_output=True)
    assert outcomes == class_scores(stock) == {"all": 15, "half": 8, "none": 0}


def test_a_broken_submission_fails_alone_with_its_reason(tmp_path):
    course = course_with(tmp_path, {"fine": submission(keys())})
    broken = course / "submitted" / "broken" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / QUIZ).write_text('{"cells": [ this is not json')
    lines = []

    class Lines:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    outcomes = {o.student: o for o in run.run(course, ASSIGNMENT, workers=2, out=Lines())}
    assert outcomes["fine"].status == "graded" and outcomes["fine"].score == 15
    assert outcomes["broken"].status == "failed" and "not valid JSON" in outcomes["broken"].reason
    printed = "".join(lines)
    assert "sandbox: bubblewrap" in printed and "broken" in printed and "FAILED" in printed
    assert "[####################] 2/2" in printed


def test_a_submission_past_the_time_limit_fails_alone_and_its_worker_is_replaced(tmp_path):
    right = keys()
    slow = submission(["import time\ntime.sleep(120)\n" + right[0], *right[1:]])
    course = course_with(tmp_path, {"a-slow": slow, "b-fine": submission(right)})
    outcomes = {o.student: o for o in run.run(course, ASSIGNMENT, workers=1, timeout=25, out=Quiet())}
    assert outcomes["a-slow"].status == "failed"
    assert outcomes["a-slow"].reason == "ran past the time limit of 25 s"
    assert outcomes["b-fine"].status == "graded" and outcomes["b-fine"].score == 15


class Quiet:
    def write(self, text):
        pass

    def flush(self):
        pass


LESSON = "01-orientation.ipynb"   # a Spark lesson: the kernel starts a classic session in the sandbox
MAPPED_ARCHIVES = """
import pathlib
_maps = pathlib.Path(f"/proc/{spark.sparkContext._gateway.proc.pid}/maps").read_text().splitlines()
print("MAPPED", sorted({line.rsplit("/", 1)[-1] for line in _maps if line.endswith(".jsa") and "/spark-" in line}))
"""


def test_a_spark_assignment_builds_the_class_archive_first_and_every_kernel_maps_it(tmp_path, monkeypatch):
    """A class of a Spark lesson graded on an installation without Spark's class archive: the run
    builds it first, as `make lab` does, and the graded kernel's JVM maps it in the sandbox."""
    monkeypatch.setenv("COURSE_CDS_DIR", str(tmp_path / "cds"))   # an installation without the archive
    solved = nbformat.read(ROOT / "source" / ASSIGNMENT / LESSON, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    student = nbformat.read(ROOT / "release" / ASSIGNMENT / LESSON, as_version=4)
    first = True
    for cell in student.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = (MAPPED_ARCHIVES if first else "") + answers[grade_id]
            first = False
    course = tmp_path / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(ROOT / "source" / ASSIGNMENT / LESSON, course / "source" / ASSIGNMENT / LESSON)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    (course / "submitted" / "learner" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(student, course / "submitted" / "learner" / ASSIGNMENT / LESSON)

    printed = io.StringIO()
    [outcome] = run.run(course, ASSIGNMENT, workers=1, out=printed)
    assert "Spark class archive ready in" in printed.getvalue(), printed.getvalue()
    [archive] = (tmp_path / "cds").glob("spark-*.jsa")
    assert outcome.status == "graded" and outcome.score == outcome.max_score > 0, outcome
    graded = nbformat.read(course / "autograded" / "learner" / ASSIGNMENT / LESSON, as_version=4)
    mapped = [o.text for c in graded.cells for o in c.get("outputs", [])
              if o.output_type == "stream" and o.text.startswith("MAPPED")]
    assert mapped == [f"MAPPED {[archive.name]}\n"], mapped
    # a second run finds it and builds nothing
    again = io.StringIO()
    run.run(course, ASSIGNMENT, workers=1, out=again)
    assert "class archive" not in again.getvalue()


def test_a_class_graded_into_a_postgresql_gradebook(tmp_path, postgres_database):
    """The class gradebook on PostgreSQL (CI starts the server): created there by the run."""
    right = keys()
    students = {"all": submission(right), "half": submission(right[:8] + [wrong(k) for k in right[8:]]),
                "crash": submission(right[:4] + ["import os\nos._exit(1)"] + right[5:])}
    course = course_with(tmp_path, students, f"\nc.CourseDirectory.db_url = {postgres_database!r}\n")
    outcomes = {o.student: o.score for o in run.run(course, ASSIGNMENT, workers=3, out=Quiet())}
    assert outcomes == gradebook.scores(postgres_database, ASSIGNMENT) == {"all": 15, "half": 8, "crash": 14}
    assert not (course / "gradebook.db").exists()


def test_run_refuses_what_is_not_a_course_or_an_assignment(tmp_path):
    with pytest.raises(run.RunError, match="no nbgrader_config.py"):
        run.run(tmp_path, ASSIGNMENT)
    course = course_with(tmp_path, {})
    with pytest.raises(run.RunError, match="no assignment 'week9'"):
        run.run(course, "week9")
    with pytest.raises(run.RunError, match="no submissions"):
        run.run(course, ASSIGNMENT)


def test_the_in_process_alembic_head_is_the_one_nbgrader_asks_alembic_for():
    asked = subprocess.run([sys.executable, "-c", "from nbgrader.api import get_alembic_version as v; print(v())"],
                           env=nbgrader_run.environment(), capture_output=True, text=True, check=True)
    assert nbgrader_run.alembic_head() == asked.stdout.strip()
