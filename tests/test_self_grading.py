"""`course grade NOTEBOOK`: a learner's notebook graded with the course's full (hidden) tests by a real
nbgrader run, the score per exercise and why a cell failed (never a traceback or test code), the
result recorded in the progress store, and bad input refused with one line, the file untouched."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import cli, progress, self_grading
from notebook_files import RELEASE, ROOT, SOURCE

LESSON = ("week1-ml-fundamentals", "01-orientation.ipynb")       # the cheapest lesson: 3 exercises, 4 points
QUIZ = ("week1-ml-fundamentals", "90-week1-review-quiz.ipynb")   # no Spark at all: 15 questions, 1 point each


@pytest.fixture(autouse=True)
def learner_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))


def workspace_copy(tmp_path: Path, folder: str, name: str) -> Path:
    """The learner's copy of a student notebook, as `course workspace` makes it."""
    target = tmp_path / "workspace" / folder / name
    target.parent.mkdir(parents=True)
    shutil.copyfile(RELEASE / folder / name, target)
    return target


def graded_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")}


def fill_answers(path: Path, folder: str, answers: dict[str, str]) -> None:
    """Put ``answers`` (answer cell grade_id -> code) into the learner's copy."""
    notebook = nbformat.read(path, as_version=4)
    cells = graded_cells(notebook)
    for grade_id, code in answers.items():
        cells[grade_id].source = code
    nbformat.write(notebook, path)


def solutions(folder: str, name: str, grade_ids: list[str]) -> dict[str, str]:
    """The source's answer cells, with nbgrader's solution markers stripped."""
    cells = graded_cells(nbformat.read(SOURCE / folder / name, as_version=4))
    return {g: "\n".join(line for line in cells[g].source.splitlines()
                         if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")) for g in grade_ids}


def hidden_test_lines(folder: str, name: str) -> list[str]:
    lines, inside = [], False
    for cell in nbformat.read(SOURCE / folder / name, as_version=4).cells:
        for line in cell.source.splitlines():
            if line.strip().startswith(("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
                inside = line.strip().startswith("### BEGIN")
            elif inside and line.strip():
                lines.append(line.strip())
    assert lines, f"{name} has no hidden tests"
    return lines


def grade(path: Path, capsys) -> tuple[int, str, str]:
    code = cli.main(["grade", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def score_line(out: str, title: str) -> str:
    return next(line for line in out.splitlines() if line.strip().startswith(title))


@pytest.mark.notebooks
def test_untouched_student_copy_scores_zero_and_is_recorded(tmp_path, capsys):
    path = workspace_copy(tmp_path, *QUIZ)
    before = path.read_bytes()
    code, out, err = grade(path, capsys)
    assert code == 0, err
    assert out.splitlines()[-1] == "Total: 0 / 15"
    assert out.count("not attempted yet") == 15
    assert score_line(out, "Question 7").split()[-3:] == ["0", "/", "1"]
    assert path.read_bytes() == before
    [event] = progress.events(kind="grade")
    assert (event.item, event.notebook, event.correct) == ("w1-90", "90-week1-review-quiz", False)
    assert event.detail["score"] == 0 and event.detail["max"] == 15
    assert event.detail["cells"]["w1-90-answer_15-check"] == [0, 1] and len(event.detail["cells"]) == 15


@pytest.mark.notebooks
def test_partly_solved_lesson_gets_exactly_those_points_and_no_test_text(tmp_path, capsys):
    path = workspace_copy(tmp_path, *LESSON)
    fill_answers(path, LESSON[0], solutions(*LESSON, ["w1-01-q1-answer", "w1-01-q2-answer"]))
    before = path.read_bytes()
    code, out, err = grade(path, capsys)
    assert code == 0, err
    assert score_line(out, "Exercise 1 (warm-up): customers on a two-year contract").endswith("1 / 1")
    assert score_line(out, "Exercise 2: pick the compute").endswith("1 / 1")
    exercise_3 = out.splitlines().index(score_line(out, "Exercise 3: true or false?"))
    assert out.splitlines()[exercise_3].endswith("0 / 2")
    assert out.splitlines()[exercise_3 + 1].strip().startswith("NotAttempted: ")
    assert "not attempted yet" in out.splitlines()[exercise_3 + 1]
    assert out.splitlines()[-1] == "Total: 2 / 4"
    assert "Traceback" not in out + err
    assert not [line for line in hidden_test_lines(*LESSON) if line in out]
    assert path.read_bytes() == before
    [event] = progress.events(kind="grade", item="w1-01")
    assert event.correct is False and (event.detail["score"], event.detail["max"]) == (2, 4)
    assert event.detail["cells"] == {"w1-01-q1-check": [1, 1], "w1-01-q2-check": [1, 1], "w1-01-q3-check": [0, 2]}


@pytest.mark.notebooks
def test_a_quiz_shows_why_answers_lost_points_without_the_key(tmp_path, capsys):
    path = workspace_copy(tmp_path, *QUIZ)
    answers = solutions(*QUIZ, ["w1-90-answer_01", "w1-90-answer_02"])
    key_3 = graded_cells(nbformat.read(SOURCE / QUIZ[0] / QUIZ[1], as_version=4))["w1-90-answer_03"].source
    wrong = next(f'answer_03 = {{"{letter}"}}' for letter in "ABCD" if f'{{"{letter}"}}' not in key_3)
    answers.update({"w1-90-answer_03": wrong, "w1-90-answer_04": 'answer_04 = {"Z"}',
                    "w1-90-answer_05": 'raise KeyError("boom")'})
    fill_answers(path, QUIZ[0], answers)
    code, out, err = grade(path, capsys)
    assert code == 0, err
    lines = out.splitlines()
    after = {title: lines[lines.index(score_line(out, title)) + 1].strip() for title in ("Question 3", "Question 4", "Question 5")}
    assert after["Question 3"] == self_grading.HIDDEN_TEST_FAILED       # the hidden test's bare assert
    assert after["Question 4"].startswith("CheckFailed: ") and "not an option" in after["Question 4"]
    assert after["Question 5"].startswith("NotAttempted: ") and "your answer cell raised KeyError: 'boom'" in after["Question 5"]
    assert lines[-1] == "Total: 2 / 15"
    assert "Traceback" not in out + err
    assert not [line for line in hidden_test_lines(*QUIZ) if line in out]


def tiny_course(tmp_path: Path, timeout: int = 3) -> Path:
    """A course repository with one two-exercise notebook, graded with a short cell time limit."""
    root = tmp_path / "course"
    (root / "source" / "week9-tiny").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text()
                                             + f"\nc.Execute.timeout = {timeout}\n")
    nbformat.write(tiny_notebook("x = ...\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
                                 "y = ...\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"),
                   root / "source" / "week9-tiny" / "01-tiny.ipynb")
    return root


def tiny_notebook(answer_1: str, answer_2: str):
    def meta(grade_id, graded, points=0):
        return {"nbgrader": {"grade": graded, "grade_id": grade_id, "locked": graded, "schema_version": 3,
                             "solution": not graded, "task": False, **({"points": points} if graded else {})}}

    notebook = new_notebook(metadata={"course": {"lesson": "w9-01"}, "kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [new_markdown_cell("### Exercise 1: one"), new_code_cell(answer_1, metadata=meta("t-q1-answer", False)),
                      new_code_cell('assert x == 1, "x should be 1"', metadata=meta("t-q1-check", True, 1)),
                      new_markdown_cell("### Exercise 2: two"), new_code_cell(answer_2, metadata=meta("t-q2-answer", False)),
                      new_code_cell("assert y == 2", metadata=meta("t-q2-check", True, 2))]
    return notebook


@pytest.mark.notebooks
def test_a_cell_past_the_time_limit_loses_its_points_only(tmp_path):
    root = tiny_course(tmp_path)
    mine = tmp_path / "mine" / "week9-tiny" / "01-tiny.ipynb"
    mine.parent.mkdir(parents=True)
    nbformat.write(tiny_notebook("x = 1", "import time\ntime.sleep(60)\ny = 2"), mine)
    graded = self_grading.grade(mine, root=root)
    assert [(e.score, e.max_score) for e in graded.exercises] == [(1, 1), (0, 2)]
    assert f"CellTimeoutError: {self_grading.TIMED_OUT}" in graded.exercises[1].failure
    assert graded.problem is None
    assert self_grading.report(graded).splitlines()[-1] == "Total: 1 / 3"


@pytest.mark.notebooks
def test_a_kernel_crash_costs_that_cell_only_and_says_so(tmp_path):
    """As in the classroom: the kernel restarts and the rest of the notebook is graded."""
    root = tiny_course(tmp_path)
    mine = tmp_path / "mine" / "01-renamed.ipynb"      # found by its lesson id
    mine.parent.mkdir(parents=True)
    nbformat.write(tiny_notebook("x = 1", "import os\nos._exit(1)"), mine)
    graded = self_grading.grade(mine, root=root)
    assert [(e.score, e.max_score) for e in graded.exercises] == [(1, 1), (0, 2)]
    assert "KernelDied: the kernel exited with code 1 while this cell ran" in graded.exercises[1].failure
    assert graded.problem is None
    text = self_grading.report(graded)
    assert "Traceback" not in text and text.splitlines()[-1] == "Total: 1 / 3"
    [event] = progress.events(kind="grade", item="w9-01")
    assert event.detail["score"] == 1 and event.correct is False


def _non_course_notebook() -> str:
    notebook = new_notebook(cells=[new_code_cell("print('mine')")])
    return nbformat.writes(notebook)


@pytest.mark.parametrize("name, text, says", [
    ("05-spark-ml-building-blocks.ipynb", '{"cells": [ {"cell_type": "code", ', "not valid JSON"),
    ("05-spark-ml-building-blocks.ipynb", '{"cells": "none", "nbformat": 4}', "not a valid Jupyter notebook"),
    ("05-spark-ml-building-blocks.ipynb", '["not", "a", "notebook"]', "not a Jupyter notebook"),
    ("my-own-notes.ipynb", _non_course_notebook(), "not a lesson of the course"),
])
def test_bad_input_exits_2_with_one_line_and_the_file_untouched(tmp_path, capsys, name, text, says):
    path = tmp_path / "workspace" / "scratch-folder" / name
    path.parent.mkdir(parents=True)
    path.write_text(text)
    code, out, err = grade(path, capsys)
    assert code == 2
    assert err.startswith("course grade: ") and says in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err and path.read_text() == text
    assert not progress.events(kind="grade")


def test_a_missing_file_exits_2(tmp_path, capsys):
    code, out, err = grade(tmp_path / "nowhere.ipynb", capsys)
    assert code == 2 and "no file" in err and len(err.strip().splitlines()) == 1


def test_without_the_repository_self_grading_says_what_it_needs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(self_grading, "course_root", lambda: tmp_path / "site-packages")
    code, out, err = grade(workspace_copy(tmp_path, *LESSON), capsys)
    assert code == 2 and "needs the course repository" in err and len(err.strip().splitlines()) == 1


def test_the_source_notebook_is_found_by_folder_and_name_or_by_lesson_id(tmp_path):
    release_copy = nbformat.read(RELEASE / LESSON[0] / LESSON[1], as_version=4)
    found = self_grading.find_source(tmp_path / LESSON[0] / LESSON[1], {"metadata": {}}, ROOT)
    assert found == SOURCE / LESSON[0] / LESSON[1]
    assert self_grading.find_source(tmp_path / "Untitled1.ipynb", release_copy, ROOT) == SOURCE / LESSON[0] / LESSON[1]
    mock = json.loads((RELEASE / "mock-exam" / "01-mock-exam.ipynb").read_text())
    assert self_grading.find_source(tmp_path / "exam.ipynb", mock, ROOT) == SOURCE / "mock-exam" / "01-mock-exam.ipynb"
    with pytest.raises(self_grading.NotGradable, match="not a lesson of the course"):
        self_grading.find_source(tmp_path / "Untitled1.ipynb", {"metadata": {"course": {"lesson": "w9-99"}}}, ROOT)


def test_exercise_titles_come_from_the_heading_above_each_graded_cell():
    titles = self_grading.exercise_titles(nbformat.read(SOURCE / LESSON[0] / LESSON[1], as_version=4))
    assert titles == {"w1-01-q1-check": "Exercise 1 (warm-up): customers on a two-year contract",
                      "w1-01-q2-check": "Exercise 2: pick the compute",
                      "w1-01-q3-check": "Exercise 3: true or false?"}


def test_an_error_shows_as_its_name_and_first_line_only():
    def cell(*errors):
        return {"outputs": [{"output_type": "error", "ename": n, "evalue": v, "traceback": ["Traceback ..."]}
                            for n, v in errors]}

    long_spark_error = "\x1b[0;31m[UNRESOLVED_COLUMN] A column `prce` cannot be resolved. SQLSTATE: 42703;\n'Project"
    assert self_grading.error_message(cell(("AnalysisException", long_spark_error))) == (
        "AnalysisException: [UNRESOLVED_COLUMN] A column `prce` cannot be resolved. SQLSTATE: 42703;")
    assert self_grading.error_message(cell(("AssertionError", ""))) == self_grading.HIDDEN_TEST_FAILED
    assert self_grading.error_message(cell(("KeyboardInterrupt", ""), ("CellTimeoutError", ""))).startswith("CellTimeoutError")
    assert self_grading.error_message({"outputs": [{"output_type": "stream", "text": "fine"}]}) is None
