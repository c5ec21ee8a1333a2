"""Copy one student's autograded submission from a scratch gradebook into the class gradebook.

Classroom grading runs stock ``nbgrader autograde`` for each student against its own scratch sqlite
gradebook, so graders never share a database while they run notebooks. Afterwards
``copy_submission`` carries what nbgrader's autograder wrote there (the submission's timestamp, every
notebook's late penalty, every grade's ``auto_score`` and every comment's ``auto_comment``) into the
class gradebook: the course's ``db_url``, sqlite by default or any SQLAlchemy URL (PostgreSQL).

The copy uses nbgrader's own ``Gradebook`` API, but in ONE database transaction: the gradebook's
session is bound to a connection whose transaction we own, so each API call's ``commit()`` only
releases a savepoint, and the student either appears with all of its grades or not at all.
Several processes may copy different students at the same time:

- sqlite: every copy starts with ``BEGIN IMMEDIATE`` (it takes the write lock up front, so two
  writers never deadlock on a lock upgrade) and waits for the lock (busy timeout) instead of
  failing with "database is locked"; a copy that still cannot get the lock is retried whole.
- PostgreSQL: rows of different students never conflict; a copy that loses a race on a shared row
  (the same student copied twice at once) is rolled back and retried whole.

Not handled: a class gradebook whose assignment was regenerated with other cells than the scratch
gradebook's (that is an error naming the missing cell), and sqlite files on network filesystems,
whose locks sqlite itself cannot trust.
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path

from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker

# How long a sqlite writer waits for another one to finish, and how often a whole copy is retried.
BUSY_TIMEOUT_SECONDS = 60.0
ATTEMPTS = 5


class GradebookError(RuntimeError):
    """The copy cannot be made: a gradebook, assignment, submission or cell is missing."""


def class_db_url(course_root) -> str:
    """The class gradebook's URL: ``c.CourseDirectory.db_url`` of the course folder's
    ``nbgrader_config.py`` (read with traitlets, as nbgrader reads it), a relative sqlite path
    resolved against the course root (nbgrader resolves it against its working directory, which is
    the course root when run there). Without a db_url, nbgrader's default: ``gradebook.db`` in the
    course's ``CourseDirectory.root``."""
    from autograde.nbgrader_run import course_config

    course_root = Path(course_root).resolve()
    config = course_config(course_root)
    course_dir = config.get("CourseDirectory", {})
    root = (course_root / course_dir.get("root", ".")).resolve()
    db_url = course_dir.get("db_url")
    if not db_url:
        return f"sqlite:///{root / 'gradebook.db'}"
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:") and not Path(url.database).is_absolute():
        url = url.set(database=str((course_root / url.database).resolve()))
    return url.render_as_string(hide_password=False)


def copy_submission(source_url: str, target_url: str, assignment: str, student: str) -> float:
    """Copy ``student``'s autograded ``assignment`` from the scratch gradebook ``source_url`` into
    the class gradebook ``target_url`` (creating the student and the submission there if needed,
    replacing the autograder's scores of an earlier copy) in one transaction; returns the
    submission's score in the class gradebook (a grader's manual scores count there, as in
    nbgrader). Raises GradebookError when the class gradebook lacks the assignment."""
    graded = _read_autograded(source_url, assignment, student)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with _one_transaction(target_url) as gradebook:
                return _write_autograded(gradebook, graded, target_url)
        except (OperationalError, IntegrityError, InvalidEntry) as error:
            # the lock stayed busy past the busy timeout, or a concurrent copy created a shared row
            # (nbgrader's API reports a failed commit as InvalidEntry)
            if attempt == ATTEMPTS:
                raise GradebookError(f"could not copy {student}'s {assignment} into "
                                     f"{_shown(target_url)} after {ATTEMPTS} attempts: {error}") from error
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _read_autograded(source_url: str, assignment: str, student: str) -> dict:
    """What nbgrader's autograder left in the scratch gradebook, as plain values."""
    _must_exist(source_url, "scratch gradebook")
    with Gradebook(source_url, course_id="") as gradebook:  # course_id "": adds no course row
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            raise GradebookError(f"the scratch gradebook {_shown(source_url)} holds no graded "
                                 f"submission of {assignment!r} by {student!r}") from None
        notebooks = []
        for notebook in submission.notebooks:
            notebooks.append({
                "name": notebook.name,
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": [(grade.name, grade.auto_score) for grade in notebook.grades],
                "comments": [(comment.name, comment.auto_comment) for comment in notebook.comments],
            })
        return {"assignment": assignment, "student": student, "timestamp": submission.timestamp,
                "notebooks": notebooks}


def _write_autograded(gradebook: Gradebook, graded: dict, target_url: str) -> float:
    assignment, student = graded["assignment"], graded["student"]
    try:
        gradebook.find_assignment(assignment)
    except MissingEntry:
        raise GradebookError(
            f"the class gradebook {_shown(target_url)} has no assignment {assignment!r}: generate it "
            f"there first (`nbgrader generate_assignment {assignment}` in the course folder)") from None
    gradebook.update_or_create_student(student)
    timestamp = {"timestamp": graded["timestamp"]} if graded["timestamp"] is not None else {}
    with gradebook.db.no_autoflush:   # nbgrader builds the new submission before adding it
        submission = gradebook.update_or_create_submission(assignment, student, **timestamp)
    for notebook in graded["notebooks"]:
        try:
            target = gradebook.find_submission_notebook(notebook["name"], assignment, student)
            target.late_submission_penalty = notebook["late_submission_penalty"]
            for cell, auto_score in notebook["grades"]:
                grade = gradebook.find_grade(cell, notebook["name"], assignment, student)
                grade.auto_score = auto_score
                # nbgrader's SaveAutoGrades rule: a grader's manual score, or no autograder score,
                # needs a grader's look
                grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
            for cell, auto_comment in notebook["comments"]:
                gradebook.find_comment(cell, notebook["name"], assignment, student).auto_comment = auto_comment
        except MissingEntry as missing:
            raise GradebookError(
                f"the class gradebook {_shown(target_url)} has another version of {assignment!r} than "
                f"the one graded ({missing}): regenerate it (`nbgrader generate_assignment "
                f"{assignment} --force`)") from None
    gradebook.db.flush()
    gradebook.db.refresh(submission)
    return float(submission.score)


@contextlib.contextmanager
def _one_transaction(db_url: str):
    """nbgrader's Gradebook on ``db_url`` whose every commit stays inside one transaction, committed
    when the block ends without an error and rolled back otherwise."""
    _must_exist(db_url, "class gradebook")
    url = make_url(db_url)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        # nbgrader's own engine (its setup queries) waits for the lock too: pysqlite's ?timeout=
        url = url.update_query_dict({"timeout": str(BUSY_TIMEOUT_SECONDS)})
    engine = create_engine(url, future=True)
    if sqlite:
        _begin_immediate(engine)
    try:
        if not inspect(engine).has_table("assignment"):   # else nbgrader's Gradebook would make one
            raise GradebookError(f"the class gradebook {_shown(db_url)} is no nbgrader gradebook (it has "
                                 "no assignment table): generate the assignment there first")
        gradebook = Gradebook(url.render_as_string(hide_password=False), course_id="")
    except BaseException:
        engine.dispose()
        raise
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            gradebook.db.remove()
            gradebook.db = scoped_session(sessionmaker(
                bind=connection, autoflush=True, join_transaction_mode="create_savepoint"))
            try:
                yield gradebook
                gradebook.db.commit()   # releases the session's savepoint
                transaction.commit()
            except BaseException:
                transaction.rollback()
                raise
    finally:
        gradebook.close()
        engine.dispose()


def _begin_immediate(engine) -> None:
    """SQLAlchemy's recipe for sqlite transactions: pysqlite leaves transactions to SQLAlchemy, which
    starts each with BEGIN IMMEDIATE (SAVEPOINTs then work, and the write lock is taken first)."""

    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _must_exist(db_url: str, what: str) -> None:
    """nbgrader's Gradebook creates a missing sqlite file: say so instead of grading into a new one."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:") and not Path(url.database).exists():
        raise GradebookError(f"no {what} at {url.database}")


def _shown(db_url: str) -> str:
    return make_url(db_url).render_as_string(hide_password=True)


__all__ = ["GradebookError", "class_db_url", "copy_submission"]


def has_assignment(db_url: str, assignment: str) -> bool:
    with Gradebook(db_url) as book:
        try:
            book.find_assignment(assignment)
        except MissingEntry:
            return False
    return True


def max_score(db_url: str, assignment: str) -> float:
    with Gradebook(db_url) as book:
        return float(book.find_assignment(assignment).max_score)


def scores(db_url: str, assignment: str) -> dict[str, float]:
    """student -> total score of ``assignment`` in a gradebook (nbgrader's own totals)."""
    with Gradebook(db_url) as book:
        return {s["student"]: float(s["score"]) for s in book.submission_dicts(assignment)}
