"""Generate the student versions in ``release/`` from ``source/`` (``make release``).

nbgrader's generate_assignment removes solutions and hidden tests, clears outputs and locks the
check cells. The result is byte-for-byte the same when nothing changed, so a test can compare
a fresh generation with the committed ``release/``.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograde import nbgrader_run


def generate(root: Path = nbgrader_run.ROOT, only: list[str] | None = None) -> list[Path]:
    """Regenerate ``release/<assignment>`` for each assignment; return the notebooks written."""
    root = Path(root)
    names = only or nbgrader_run.assignments(root)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="course-gradebook-") as scratch:
        db = Path(scratch) / "gradebook.db"
        for name in names:
            target = root / "release" / name
            if target.exists():
                shutil.rmtree(target)
            nbgrader_run.run(["generate_assignment", name, "--force"], root=root, db=db)
            written += sorted(target.glob("*.ipynb"))
    stale = {p.name for p in (root / "release").iterdir() if p.is_dir()} - set(nbgrader_run.assignments(root))
    for name in stale if only is None else ():
        shutil.rmtree(root / "release" / name)
    return written
