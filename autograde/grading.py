"""Autograde notebooks and read the scores back: what the instructor's commands and the tests use."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograde import nbgrader_run


@dataclass
class CellScore:
    notebook: str
    grade_id: str
    score: float
    max_score: float


@dataclass
class Result:
    assignment: str
    student: str
    cells: list[CellScore]
    autograded: dict[str, nbformat.NotebookNode]  # notebook name -> executed notebook

    @property
    def score(self) -> float:
        return sum(c.score for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells)


def points(notebook: nbformat.NotebookNode) -> dict[str, float]:
    """grade_id -> points of every graded cell."""
    found = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found[meta["grade_id"]] = float(meta.get("points", 0))
    return found


def autograde_folder(assignment: str, submission: Path, student: str = "student",
                     root: Path = nbgrader_run.ROOT) -> Result:
    """Autograde the notebooks in ``submission`` as ``student``'s work on ``assignment``.

    Works in a scratch copy of the course (source + config + the submission), so the real
    gradebook and folders are untouched.
    """
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory(prefix="course-autograde-") as scratch:
        course = Path(scratch)
        shutil.copy2(root / "nbgrader_config.py", course)
        shutil.copytree(root / "source" / assignment, course / "source" / assignment)
        shutil.copytree(submission, course / "submitted" / student / assignment)
        db = course / "gradebook.db"
        nbgrader_run.run(["generate_assignment", assignment, "--force"], root=course, db=db)
        nbgrader_run.run(["autograde", assignment, "--force", f"--student={student}"], root=course, db=db)
        cells: list[CellScore] = []
        with Gradebook(f"sqlite:///{db}") as gradebook:
            submission_record = gradebook.find_submission(assignment, student)
            for notebook in submission_record.notebooks:
                for grade in notebook.grades:
                    if grade.max_score:
                        cells.append(CellScore(notebook.name, grade.name, grade.score, grade.max_score))
        graded_dir = course / "autograded" / student / assignment
        executed = {p.stem: nbformat.read(p, as_version=4) for p in graded_dir.glob("*.ipynb")}
    return Result(assignment, student, cells, executed)
