"""The learner's workspace: a copy of the student notebooks that is theirs to edit.

``sync(release, workspace)`` copies every file of ``release/`` that the workspace does not have
yet. It never overwrites: a notebook the learner already has stays exactly as it is, even when
the course ships a newer version (that one is reported, so the learner can open it from
``release/`` side by side). Notebooks the course does not ship (the learner's own, or those of a
lesson an earlier course version had, since renamed or split) are kept as they are, and reported.
"""
from __future__ import annotations

import filecmp
import shutil
from dataclasses import dataclass, field
from pathlib import Path

SKIP_PARTS = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class SyncReport:
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # learner's copy differs from the release
    retired: list[Path] = field(default_factory=list)  # learner's notebook the course does not ship

    def summary(self) -> str:
        text = f"{len(self.copied)} new file(s) copied into the workspace"
        if self.kept:
            text += (f"; {len(self.kept)} notebook(s) you already have differ from the course's "
                     "current version and were left untouched")
        if self.retired:
            text += (f"; {len(self.retired)} notebook(s) of yours are not in the course (your own, or a lesson "
                     "an earlier version of the course had, since renamed or split): kept as they are, with "
                     "the current lessons beside them")
        return text


def sync(release: Path, workspace: Path) -> SyncReport:
    release, workspace = Path(release), Path(workspace)
    if not release.is_dir():
        raise FileNotFoundError(f"no release folder at {release}: run this from the course folder")
    report = SyncReport()
    for source in sorted(release.rglob("*")):
        relative = source.relative_to(release)
        if source.is_dir() or SKIP_PARTS.intersection(relative.parts):
            continue
        target = workspace / relative
        if target.exists():
            if not filecmp.cmp(source, target, shallow=False):
                report.kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copy2(source, partial)
        partial.replace(target)
        report.copied.append(relative)
    if workspace.is_dir():
        for mine in sorted(workspace.rglob("*.ipynb")):
            relative = mine.relative_to(workspace)
            if not SKIP_PARTS.intersection(relative.parts) and not (release / relative).exists():
                report.retired.append(relative)
    return report
