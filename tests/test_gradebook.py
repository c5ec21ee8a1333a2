"""Copying autograded submissions into the class gradebook (autograde.gradebook), with real nbgrader.

A tiny course is built with nbgrader itself: one notebook with an answer cell and two graded test
cells, `nbgrader generate_assignment`, then stock `nbgrader autograde` for each student into its own
scratch sqlite gradebook (a copy of the class gradebook as generate_assignment left it). The copies
into the class gradebook (sqlite, and PostgreSQL when COURSE_TEST_POSTGRES_URL names a server) run
from several processes at once; every student's grades must then equal what nbgrader wrote in the
student's scratch gradebook.

PostgreSQL: CI (`.ci/run`) starts a throw-away server and sets COURSE_TEST_POSTGRES_URL and
COURSE_POSTGRES_TESTS=required; a learner's `make test` skips those tests. No Spark here.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import shutil
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograde import nbgrader_run
from autograde.gradebook import GradebookError, class_db_url, copy_submission

ASSIGNMENT = "tiny"
NOTEBOOK = "tiny"
POINTS = {"test_answer": 1.0, "test_double": 2.0}
RIGHT = {"answer": "answer = 42", "double": "def double(x):\n    return 2 * x"}
WRONG = {"answer": "answer = 41", "double": "def double(x):\n    return x + 1"}
# student -> (answer right?, double right?); None: hands in the released notebook untouched
CLASS = {"ada": (True, True), "ben": (True, False), "cleo": (False, True), "dan": (False, False),
         "finn": None, "hana": (True, False)}
REGRADED = "rosa"   # hands in a wrong version, is graded, hands in a right one, is graded again
COPY_PROCESSES = 4
SQLITE_DEFAULT_TIMEOUT = 5.0   # seconds: how long Python's sqlite3 waits for a lock unless told


def _nbgrader_cell(cell, **nbgrader):
    cell.metadata["nbgrader"] = {"schema_version": 3, "solution": False, "grade": False, "locked": False,
                                 "task": False, **nbgrader}
    return cell


def _write_source_notebook(path: Path) -> None:
    answer = "### BEGIN SOLUTION\n" + RIGHT["answer"] + "\n" + RIGHT["double"] + "\n### END SOLUTION"
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Define `answer` (42) and `double(x)`."),
        _nbgrader_cell(nbformat.v4.new_code_cell(answer), grade_id="answers", solution=True),
        _nbgrader_cell(nbformat.v4.new_code_cell('assert answer == 42, "answer should be 42"'),
                       grade_id="test_answer", grade=True, locked=True, points=POINTS["test_answer"]),
        _nbgrader_cell(nbformat.v4.new_code_cell('assert double(3) == 6, "double(3) should be 6"'),
                       grade_id="test_double", grade=True, locked=True, points=POINTS["test_double"]),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def _hand_in(course: Path, student: str, answers: tuple[bool, bool] | None, day: int) -> None:
    """The student's copy of the released notebook, answered (or not), with a submission time."""
    notebook = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    if answers is not None:
        answer_right, double_right = answers
        code = ((RIGHT if answer_right else WRONG)["answer"] + "\n"
                + (RIGHT if double_right else WRONG)["double"])
        [cell] = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answers"]
        cell.source = code
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")
    (folder / "timestamp.txt").write_text(f"2026-11-{day:02d} 10:{day:02d}:00.000000 UTC")


def _expected_score(answers: tuple[bool, bool] | None) -> float:
    if answers is None:
        return 0.0
    return POINTS["test_answer"] * answers[0] + POINTS["test_double"] * answers[1]


def _autograde(course: Path, student: str, scratch: Path) -> None:
    """Stock `nbgrader autograde` for one student, into its own scratch gradebook."""
    shutil.copyfile(course / "template.db", scratch)
    nbgrader_run.run(["autograde", ASSIGNMENT, f"--student={student}", "--force"], root=course, db=scratch,
                     timeout=300)


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _recorded(db_url: str, student: str) -> dict:
    """What a gradebook holds for the student's submission, as plain values."""
    with Gradebook(db_url, course_id="") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return {
            "timestamp": submission.timestamp,
            "score": submission.score,
            "grades": {(nb.name, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
                       for nb in submission.notebooks for g in nb.grades},
            "comments": {(nb.name, c.name): c.auto_comment for nb in submission.notebooks for c in nb.comments},
            "penalties": {nb.name: nb.late_submission_penalty for nb in submission.notebooks},
        }


def _submissions(db_url: str) -> list[str]:
    with Gradebook(db_url, course_id="") as gradebook:
        return sorted(s.student.id for s in gradebook.find_assignment(ASSIGNMENT).submissions)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The tiny course, every student autograded into a scratch gradebook: (course, {student: url})."""
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\n'
        'c.CourseDirectory.course_id = "tiny-course"\n'
        'c.CourseDirectory.db_url = "sqlite:///gradebook.db"\n'
        'c.Execute.timeout = 60\n')
    _write_source_notebook(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    nbgrader_run.run(["generate_assignment", ASSIGNMENT], root=course)
    shutil.copyfile(course / "gradebook.db", course / "template.db")
    resubmitted = tmp_path_factory.mktemp("course-resubmitted")   # the re-grade's second hand-in
    shutil.copytree(course, resubmitted, dirs_exist_ok=True)
    scratch = tmp_path_factory.mktemp("scratch")
    for day, (student, answers) in enumerate(CLASS.items(), start=1):
        _hand_in(course, student, answers, day)
    _hand_in(course, REGRADED, (False, False), day=20)
    _hand_in(resubmitted, REGRADED, (True, True), day=21)
    runs = [(course, student, student) for student in [*CLASS, REGRADED]]
    runs[-1] = (course, REGRADED, f"{REGRADED}-1")
    runs.append((resubmitted, REGRADED, f"{REGRADED}-2"))
    with concurrent.futures.ThreadPoolExecutor(3) as graders:   # nbgrader runs in subprocesses
        list(graders.map(lambda run: _autograde(run[0], run[1], scratch / f"{run[2]}.db"), runs))
    scratches = {name: _sqlite(scratch / f"{name}.db") for _, _, name in runs}
    # what nbgrader wrote is what the answers deserve (else the copies below would prove little)
    for student, answers in CLASS.items():
        assert _recorded(scratches[student], student)["score"] == _expected_score(answers), student
    assert _recorded(scratches["finn"], "finn")["comments"] == {(NOTEBOOK, "answers"): "No response."}
    return course, scratches


def _copy_at(start_at: float, source_url: str, target_url: str, student: str) -> float:
    """In a worker process: wait for the common start time, then copy (so the copies collide)."""
    time.sleep(max(0.0, start_at - time.time()))
    return copy_submission(source_url, target_url, ASSIGNMENT, student)


def _copy_class_at_once(scratches: dict, target_url: str, meanwhile=lambda futures: None) -> dict:
    """Every student of CLASS copied by COPY_PROCESSES processes at once; ``meanwhile(futures)`` runs
    while they copy. Returns what each copy returned."""
    # forked workers start at once (nbgrader is imported already) and hold no connection of ours
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(COPY_PROCESSES, mp_context=context) as pool:
        start_at = time.time() + 0.5
        futures = {s: pool.submit(_copy_at, start_at, scratches[s], target_url, s) for s in CLASS}
        meanwhile(futures)
        return {student: future.result(timeout=120) for student, future in futures.items()}


def _assert_class_copied(scratches: dict, target_url: str, returned: dict) -> None:
    assert _submissions(target_url) == sorted(CLASS)
    for student, answers in CLASS.items():
        scratch, copied = _recorded(scratches[student], student), _recorded(target_url, student)
        assert copied == scratch, student
        assert returned[student] == copied["score"] == _expected_score(answers), student


def test_copies_from_several_processes_into_one_sqlite_gradebook_lose_nothing(graded, tmp_path):
    course, scratches = graded
    target = tmp_path / "gradebook.db"
    shutil.copyfile(course / "template.db", target)

    def hold_the_write_lock(futures):
        """Another writer (a grader in formgrader, say) holds the class gradebook for longer than
        sqlite's default 5 s busy timeout: the copies wait for it instead of failing."""
        other_writer = sqlite3.connect(target, isolation_level=None)
        other_writer.execute("BEGIN IMMEDIATE")
        time.sleep(SQLITE_DEFAULT_TIMEOUT + 3)   # + the time a copy takes to reach its first write
        assert not [s for s, f in futures.items() if f.done()], "a copy did not wait for the lock"
        other_writer.execute("ROLLBACK")
        other_writer.close()

    returned = _copy_class_at_once(scratches, _sqlite(target), hold_the_write_lock)
    _assert_class_copied(scratches, _sqlite(target), returned)


def test_regrade_replaces_the_autograder_scores_and_keeps_a_graders_manual_score(graded, tmp_path):
    course, scratches = graded
    target = tmp_path / "gradebook.db"
    shutil.copyfile(course / "template.db", target)
    url = _sqlite(target)
    first = _recorded(scratches[f"{REGRADED}-1"], REGRADED)
    assert copy_submission(scratches[f"{REGRADED}-1"], url, ASSIGNMENT, REGRADED) == 0.0
    assert _recorded(url, REGRADED) == first
    with Gradebook(url, course_id="") as gradebook:   # a grader gives a point by hand meanwhile
        gradebook.find_grade("test_answer", NOTEBOOK, ASSIGNMENT, REGRADED).manual_score = 0.5
        gradebook.db.commit()

    second = _recorded(scratches[f"{REGRADED}-2"], REGRADED)
    score = copy_submission(scratches[f"{REGRADED}-2"], url, ASSIGNMENT, REGRADED)
    regraded = _recorded(url, REGRADED)
    assert _submissions(url) == [REGRADED]
    assert regraded["timestamp"] == second["timestamp"] != first["timestamp"]
    assert regraded["grades"] == {(NOTEBOOK, "test_answer"): (1.0, 0.5, True),   # nbgrader's rule
                                  (NOTEBOOK, "test_double"): (2.0, None, False)}
    assert score == regraded["score"] == 2.5


def test_a_class_gradebook_without_the_assignment_is_a_clear_error(graded, tmp_path, monkeypatch):
    _, scratches = graded
    empty = tmp_path / "empty.db"
    monkeypatch.setenv("PATH", nbgrader_run.environment()["PATH"])   # a new gradebook runs alembic
    Gradebook(_sqlite(empty)).close()   # an nbgrader gradebook in which nothing was generated
    with pytest.raises(GradebookError, match=r"no assignment 'tiny'.*nbgrader generate_assignment tiny"):
        copy_submission(scratches["ada"], _sqlite(empty), ASSIGNMENT, "ada")
    with Gradebook(_sqlite(empty), course_id="") as gradebook:
        assert gradebook.students == []   # the failed copy left nothing behind

    no_tables = tmp_path / "no-tables.db"
    no_tables.touch()
    with pytest.raises(GradebookError, match="no nbgrader gradebook"):
        copy_submission(scratches["ada"], _sqlite(no_tables), ASSIGNMENT, "ada")
    assert no_tables.stat().st_size == 0

    missing = tmp_path / "nowhere.db"
    with pytest.raises(GradebookError, match="no class gradebook at"):
        copy_submission(scratches["ada"], _sqlite(missing), ASSIGNMENT, "ada")
    assert not missing.exists()


def test_class_db_url_reads_the_course_config_like_nbgrader(tmp_path):
    config = tmp_path / "nbgrader_config.py"
    config.write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n')
    assert class_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"

    config.write_text(
        'c = get_config()\nc.CourseDirectory.db_url = "postgresql+psycopg://grader:secret@db.example:5432/grades"\n')
    assert class_db_url(tmp_path) == "postgresql+psycopg://grader:secret@db.example:5432/grades"

    config.write_text('c = get_config()\nc.CourseDirectory.root = "course"\n')
    assert class_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'course' / 'gradebook.db'}"

    repository = Path(__file__).resolve().parents[1]   # the course's own config: sqlite beside it
    assert class_db_url(repository) == f"sqlite:///{repository / 'gradebook.db'}"


# PostgreSQL


def test_copies_from_several_processes_into_a_postgresql_gradebook_lose_nothing(postgres_server, graded,
                                                                               postgres_database):
    course, scratches = graded
    # nbgrader itself puts the assignment into the PostgreSQL class gradebook
    nbgrader_run.run(["generate_assignment", ASSIGNMENT, "--force",
                      f"--CourseDirectory.db_url={postgres_database}"], root=course)
    returned = _copy_class_at_once(scratches, postgres_database)
    _assert_class_copied(scratches, postgres_database, returned)

    # a re-grade replaces the scores there too
    copy_submission(scratches[f"{REGRADED}-1"], postgres_database, ASSIGNMENT, REGRADED)
    copy_submission(scratches[f"{REGRADED}-2"], postgres_database, ASSIGNMENT, REGRADED)
    assert _recorded(postgres_database, REGRADED) == _recorded(scratches[f"{REGRADED}-2"], REGRADED)
    assert _submissions(postgres_database) == sorted([*CLASS, REGRADED])
