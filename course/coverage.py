"""Which syllabus ids the course covers, and where: ``course coverage``.

For every concept and objective id it counts the lesson sections tagged with it (a
``*Syllabus: ...*`` line under a heading), the auto-graded exercises (``course.exercises``)
and the questions of the bank.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from course import questions, syllabus
from course.checks import Exercise

TAG = re.compile(r"^\*Syllabus:\s*([^*·]+)", re.MULTILINE)
ID = re.compile(r"\b(D[1-5]\.[a-z][a-z-]*[a-z]|S[1-4]\.\d\d)\b")


@dataclass
class Coverage:
    sections: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    exercises: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    questions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def missing(self, ids) -> dict[str, list[str]]:
        """id -> what it lacks ("section", "exercise", "questions") for the given ids."""
        gaps = {}
        for ident in ids:
            lacks = [kind for kind, table in (("section", self.sections), ("exercise", self.exercises))
                     if not table.get(ident)]
            if len(self.questions.get(ident, [])) < 3:
                lacks.append("questions")
            if lacks:
                gaps[ident] = lacks
        return gaps


def lesson_exercises() -> list[Exercise]:
    import course.exercises as package

    found = []
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        found += [v for v in vars(module).values() if isinstance(v, Exercise)]
    return sorted(found, key=lambda e: e.id)


def notebook_folder() -> Path:
    root = Path(__file__).resolve().parents[1]
    return root / "source" if (root / "source").is_dir() else root / "release"


def compute(folder: Path | None = None) -> Coverage:
    import nbformat

    coverage = Coverage()
    for path in sorted(Path(folder or notebook_folder()).glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        heading = ""
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("# ").strip()
                    continue
                match = TAG.match(line)
                # exercises and quiz questions are counted from their definitions
                if match and heading and not heading.startswith(("Exercise", "Question")):
                    for ident in ID.findall(match.group(1)):
                        coverage.sections[ident].append(f"{path.stem}: {heading[:50]}")
    for exercise in lesson_exercises():
        for ident in exercise.syllabus:
            coverage.exercises[ident].append(exercise.id)
    for q in questions.load_bank():
        for ident in [*q["concepts"], q["objective"]]:
            coverage.questions[ident].append(q["id"])
    return coverage


def report(ids=None, folder: Path | None = None) -> str:
    coverage = compute(folder)
    ids = list(ids or [*syllabus.concepts(), *syllabus.objectives()])
    lines = [f"{'id':<28} {'sections':>8} {'exercises':>9} {'questions':>9}"]
    for ident in ids:
        lines.append(f"{ident:<28} {len(coverage.sections.get(ident, [])):>8} "
                     f"{len(coverage.exercises.get(ident, [])):>9} {len(coverage.questions.get(ident, [])):>9}")
    gaps = coverage.missing(ids)
    lines.append(f"\n{len(ids) - len(gaps)} of {len(ids)} ids have a lesson section, an exercise and 3+ questions")
    return "\n".join(lines)
