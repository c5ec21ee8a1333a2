"""Generate the student versions in ``release/`` from ``source/`` (``make release``).

nbgrader's generate_assignment removes solutions and hidden tests, clears outputs and locks the
check cells. It runs in a scratch copy of the course, and ``release/<assignment>`` is replaced
only once the new version is complete, so a failed generation never loses the committed one.
The result is byte-for-byte the same when nothing changed. A full release also writes the
learner's start page, ``release/00-start-here.ipynb`` (``autograde/start_page.py``), and the
study guide, ``release/00-study-guide.ipynb`` (``course/study_guide.py``).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograde import nbgrader_run, start_page
from course import study_guide


def generate(root: Path = nbgrader_run.ROOT, only: list[str] | None = None) -> list[Path]:
    """Regenerate ``release/<assignment>`` for each assignment; return the notebooks written."""
    root = Path(root)
    names = only or nbgrader_run.assignments(root)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as scratch:
        work = Path(scratch)
        shutil.copy2(root / "nbgrader_config.py", work)
        shutil.copytree(root / "source", work / "source")
        for name in names:
            nbgrader_run.run(["generate_assignment", name, "--force"], root=work, db=work / "gradebook.db")
        for name in names:
            target = root / "release" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(work / "release" / name, target)
            written += sorted(target.glob("*.ipynb"))
    if only is None:
        for stale in {p.name for p in (root / "release").iterdir() if p.is_dir()} - set(names):
            shutil.rmtree(root / "release" / stale)
        written.append(start_page.write(root))   # the learner's start page, beside the week folders
        written.append(study_guide.write_notebook(root))   # the study guide, from the lessons
    return written
