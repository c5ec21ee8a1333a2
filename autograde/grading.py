"""Autograde notebooks and read the scores back: what the instructor's commands and the tests use."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograde import nbgrader_run
from autograde.memory import PeakMemory


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
    peak_memory: int = 0  # bytes (PSS) at the peak of the kernels nbgrader ran, with their JVMs and workers

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


class KernelDied(nbgrader_run.NbgraderError):
    """The notebook's kernel died or stopped responding and nbgrader could not finish it, so it gave
    no grades. (A cell that kills the kernel usually costs that cell only: GuardedExecute restarts
    the kernel and grading goes on.)"""


# What nbgrader's log says when the kernel dies (nbclient's DeadKernelError) or hangs past an interrupt.
_KERNEL_DIED = ("DeadKernelError", "Kernel died", "kernel became unresponsive")
# A cell that runs past Execute.timeout is logged as an ERROR, yet nbgrader interrupts it, records a
# CellTimeoutError in the cell (no points for it), goes on and grades the notebook.
_TIMEOUT_LOG = ("Timeout waiting for execute reply", "Interrupting kernel")


# A cell that kills the kernel is logged as an ERROR too, yet GuardedExecute (autograde/execute.py)
# records KernelDied in that cell, restarts the kernel and grades the rest of the notebook.
_RECOVERED_DEATH_LOG = ("Kernel died while waiting for execute reply",)


def _only_recovered_errors(log: str) -> bool:
    """True when every ERROR nbgrader logged is one it (or GuardedExecute) recovered from: a cell
    past its time limit, or a cell that killed the kernel."""
    errors = [line for line in log.splitlines() if "[ERROR]" in line or "| ERROR]" in line]
    return bool(errors) and all(any(sign in line for sign in _TIMEOUT_LOG + _RECOVERED_DEATH_LOG)
                                for line in errors)


def autograde_folder(assignment: str, submission: Path, student: str = "student",
                     root: Path = nbgrader_run.ROOT) -> Result:
    """Autograde the notebooks in ``submission`` as ``student``'s work on ``assignment``.

    Works in a scratch copy of the course (source + config + the submission), so the real
    gradebook and folders are untouched.
    """
    return _autograde_in_scratch(assignment, student, root, submission, notebook=None)


def autograde_notebook(assignment: str, name: str, submitted: Path, student: str = "student",
                       root: Path = nbgrader_run.ROOT) -> Result:
    """Autograde one file, ``submitted``, as ``student``'s version of ``source/<assignment>/<name>``
    (the same scratch course as ``autograde_folder``, holding that one notebook; ``submitted`` is
    only read)."""
    return _autograde_in_scratch(assignment, student, root, Path(submitted), notebook=name)


def _autograde_in_scratch(assignment: str, student: str, root: Path, submission: Path,
                          notebook: str | None) -> Result:
    """nbgrader generate_assignment + autograde in a scratch course: the whole assignment folder
    when ``notebook`` is None, else the one notebook ``notebook`` (``submission`` is then its file)."""
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory(prefix="course-autograde-") as scratch:
        course = Path(scratch)
        shutil.copy2(root / "nbgrader_config.py", course)
        source = course / "source" / assignment
        submitted = course / "submitted" / student / assignment
        if notebook is None:
            shutil.copytree(root / "source" / assignment, source)
            shutil.copytree(submission, submitted)
        else:
            for folder in (source, submitted):
                folder.mkdir(parents=True)
            shutil.copyfile(root / "source" / assignment / notebook, source / notebook)
            shutil.copyfile(submission, submitted / notebook)
        db = course / "gradebook.db"
        nbgrader_run.run(["generate_assignment", assignment, "--force"], root=course, db=db)
        peak = PeakMemory(include_root=False)   # the kernels nbgrader starts, and all they start
        try:
            nbgrader_run.run(["autograde", assignment, "--force", f"--student={student}"], root=course, db=db,
                             peak=peak)
        except nbgrader_run.NbgraderError as failure:
            graded_anyway = any((course / "autograded" / student / assignment).glob("*.ipynb"))
            if not (graded_anyway and _only_recovered_errors(str(failure))):
                if any(sign in str(failure) for sign in _KERNEL_DIED):
                    raise KernelDied(str(failure)) from None
                raise
        cells: list[CellScore] = []
        with Gradebook(f"sqlite:///{db}") as gradebook:
            submission_record = gradebook.find_submission(assignment, student)
            for graded in submission_record.notebooks:
                for grade in graded.grades:
                    if grade.max_score:
                        cells.append(CellScore(graded.name, grade.name, grade.score, grade.max_score))
        graded_dir = course / "autograded" / student / assignment
        executed = {p.stem: nbformat.read(p, as_version=4) for p in graded_dir.glob("*.ipynb")}
    return Result(assignment, student, cells, executed, peak.pss)
