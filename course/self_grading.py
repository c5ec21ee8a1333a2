"""Self-grading: ``course grade NOTEBOOK`` grades a learner's notebook with the course's full tests.

The full tests are the classroom's hidden tests: the graded cells of the instructor notebook in
``source/`` that matches the learner's file (by week folder and file name, else by the lesson id
in the notebook's metadata). Grading really runs nbgrader (``autograde.grading``) on a scratch
copy, so the learner's file is only read. The report gives each exercise's score and, for an
exercise without full marks, the error the executed cell showed (``ename: evalue``, never a
traceback or test code), then the total; the result is recorded in the progress store as a
``grade`` event. Self-grading needs the course repository (its ``source/`` folder), not only the
installed package.
"""
from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import progress

HIDDEN_TEST_FAILED = "a hidden test failed"
MISSING_CELL = ("this graded cell is not in your notebook, so it gets no points: copy it back from the "
                "course's student version of the notebook (release/)")
TIMED_OUT = "the cell was still running at nbgrader's time limit and was stopped"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADING = re.compile(r"^\s{0,3}#+\s+(.*\S)\s*#*\s*$")


class NotGradable(ValueError):
    """This file cannot be self-graded; the message says why in one line."""


@dataclass
class ExerciseGrade:
    grade_id: str
    title: str
    score: float
    max_score: float
    failure: str | None = None  # why a cell without full marks lost them: "ename: evalue"


@dataclass
class SelfGrade:
    lesson: str                   # the lesson id of the source notebook's metadata ("w1-05")
    source: str                   # "week1-ml-fundamentals/05-spark-ml-building-blocks.ipynb"
    exercises: list[ExerciseGrade]
    problem: str | None = None    # the kernel died: nbgrader gave no grades
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)


def course_root() -> Path:
    from autograde import nbgrader_run

    return nbgrader_run.ROOT


def read_notebook(path: Path) -> tuple[bytes, nbformat.NotebookNode]:
    """The file's bytes and the notebook they hold; NotGradable when it is neither."""
    path = Path(path)
    if not path.exists():
        raise NotGradable(f"no file {path}")
    if not path.is_file():
        raise NotGradable(f"{path} is a folder: give the path of a notebook (.ipynb)")
    data = path.read_bytes()
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise NotGradable(f"{path} is not a notebook: it is not valid JSON ({problem})") from None
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise NotGradable(f"{path} is not a Jupyter notebook: it has no `nbformat` and `cells`")
    try:
        notebook = nbformat.from_dict(raw)
        notebook = nbformat.convert(notebook, 4)
        nbformat.validate(notebook)
    except Exception as problem:  # nbformat raises jsonschema's ValidationError and others
        first = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
        raise NotGradable(f"{path} is not a valid Jupyter notebook: {first}") from None
    return data, notebook


def lesson_id(notebook) -> str | None:
    course = notebook.get("metadata", {}).get("course", {})
    return course.get("lesson") if isinstance(course, dict) else None


def find_source(path: Path, notebook, root: Path) -> Path:
    """The source notebook of ``path``: same week folder and name, else the same lesson id."""
    source, place = root / "source", Path(path).resolve()
    same_place = source / place.parent.name / place.name
    if same_place.is_file():
        return same_place
    wanted = lesson_id(notebook)
    if wanted:
        for candidate in sorted(source.glob("*/*.ipynb")):
            try:
                if lesson_id(json.loads(candidate.read_text(encoding="utf-8"))) == wanted:
                    return candidate
            except (OSError, ValueError):
                continue
    raise NotGradable(f"{path} is not a lesson of the course: no notebook of the course's source/ has its "
                      "week folder and name, nor its lesson id (the notebook's `course.lesson` metadata)")


def exercise_titles(source_notebook) -> dict[str, str]:
    """grade_id -> the heading above each graded cell ("Exercise 1: fix a split that leaks")."""
    titles, heading = {}, None
    for cell in source_notebook.cells:
        if cell.cell_type == "markdown":
            found = [m.group(1) for m in map(_HEADING.match, cell.source.splitlines()) if m]
            heading = found[-1] if found else heading
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            titles[meta["grade_id"]] = heading or meta["grade_id"]
    return titles


def error_message(cell) -> str | None:
    """``ename: evalue`` of the error a cell showed (its first line, never the traceback)."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return None
    timeouts = [o for o in errors if o.get("ename") == "CellTimeoutError"]
    if timeouts:
        return f"CellTimeoutError: {TIMED_OUT}"
    ename = errors[0].get("ename") or "Error"
    lines = _ANSI.sub("", errors[0].get("evalue") or "").strip().splitlines()
    if not lines:
        return HIDDEN_TEST_FAILED if ename == "AssertionError" else ename
    first = lines[0].strip()
    return f"{ename}: {first[:297] + '...' if len(first) > 300 else first}"


def failures(executed) -> tuple[dict[str, str], list[str]]:
    """grade_id -> why the graded cell failed (with the error its answer cell raised, if any), and
    notes on the other cells that ran out of time."""
    found, notes, answer_errors = {}, [], []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        message = error_message(cell)
        if meta.get("grade"):
            if message:
                found[meta["grade_id"]] = message + "".join(f" (your answer cell raised {e})" for e in answer_errors)
            answer_errors = []
        elif message and meta.get("solution"):
            answer_errors.append(message)
        elif message and message.startswith("CellTimeoutError"):
            notes.append(f"cell {index + 1}: {TIMED_OUT}")
    return found, notes


def grade(path: Path, root: Path | None = None, announce: Callable[[str], object] | None = None) -> SelfGrade:
    """Grade the notebook at ``path`` with the course's full tests and record the result;
    ``announce`` gets one line once the input is known to be gradable (grading takes a while)."""
    from autograde import grading, nbgrader_run

    root = Path(root or course_root())
    if not (root / "source").is_dir() or not (root / "nbgrader_config.py").is_file():
        raise NotGradable("self-grading needs the course repository (its source/ folder holds the full tests): "
                          "run `course grade` from a clone of the course, set up with `make lab`")
    if importlib.util.find_spec("nbgrader") is None:
        raise NotGradable("self-grading needs nbgrader: set the course up with `make lab`")
    data, notebook = read_notebook(path)
    source = find_source(path, notebook, root)
    source_notebook = nbformat.read(source, as_version=4)
    points = grading.points(source_notebook)
    if not points:
        raise NotGradable(f"{source.relative_to(root)} has no graded cells")
    titles = exercise_titles(source_notebook)
    lesson = lesson_id(source_notebook) or source.stem
    if announce:
        announce(f"Grading {path} as {source.relative_to(root / 'source')} with nbgrader: it runs the whole notebook...")
    problem, notes, messages, scores = None, [], {}, {}
    with tempfile.TemporaryDirectory(prefix="course-grade-") as scratch:
        copy = Path(scratch) / source.name
        copy.write_bytes(data)
        try:
            result = grading.autograde_notebook(source.parent.name, source.name, copy, "learner", root=root)
        except grading.KernelDied:
            problem = ("the notebook's Python kernel died while it ran (its code crashed the kernel or used "
                       "up the memory), so nbgrader could not finish it and gives no credit: fix or remove "
                       "the cell that stops the kernel, then grade again")
        except nbgrader_run.NbgraderError as failure:
            reason = next((line.split("]", 1)[-1].strip() for line in str(failure).splitlines()
                           if "ERROR]" in line), "see `nbgrader autograde` for details")
            raise NotGradable(f"nbgrader could not grade {path}: {reason}") from None
    if problem is None:
        scores = {c.grade_id: c.score for c in result.cells}
        executed = result.autograded.get(source.stem)
        if executed is not None:
            messages, notes = failures(executed)
            present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in executed.cells}
            messages.update({grade_id: MISSING_CELL for grade_id in points if grade_id not in present})
    exercises = []
    for grade_id, max_score in points.items():
        score = float(scores.get(grade_id) or 0.0)
        failure = None if score >= max_score else (messages.get(grade_id) or "no points (nbgrader gave this cell none)")
        exercises.append(ExerciseGrade(grade_id, titles.get(grade_id, grade_id), score, max_score,
                                       None if problem else failure))
    graded = SelfGrade(lesson, f"{source.parent.name}/{source.name}", exercises, problem, notes)
    detail = {"score": graded.score, "max": graded.max_score,
              "cells": {e.grade_id: [e.score, e.max_score] for e in exercises}}
    if problem:
        detail["problem"] = "kernel died"
    try:
        progress.record("grade", lesson, notebook=source.stem, correct=graded.score == graded.max_score,
                        detail=detail)
    except progress.ProgressError as unusable:
        graded.notes.append(f"not recorded in your progress: {unusable}")
    return graded


def report(graded: SelfGrade) -> str:
    """The learner's report: one line per exercise, the reason under each one that lost points."""
    lines = [f"{graded.source} ({graded.lesson}), graded with the course's full tests:"]
    width = max(len(e.title) for e in graded.exercises)
    for e in graded.exercises:
        lines.append(f"  {e.title:<{width}}  {e.score:g} / {e.max_score:g}")
        if e.failure:
            lines.append(f"      {e.failure}")
    for note in graded.notes:
        lines.append(f"  note: {note}")
    if graded.problem:
        lines.append(f"  {graded.problem}")
    lines.append(f"Total: {graded.score:g} / {graded.max_score:g}")
    return "\n".join(lines)
