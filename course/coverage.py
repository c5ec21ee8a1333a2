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


@dataclass(frozen=True)
class Lesson:
    """A lesson notebook, from its metadata: ``path`` is relative to the notebook folder (and to
    the learner's workspace, which mirrors it)."""
    id: str
    title: str
    tier: int
    path: str
    domain: str
    syllabus: tuple[str, ...]

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def week(self) -> int:
        return int(self.id[1])


@dataclass(frozen=True)
class Section:
    """A lesson section tagged with a syllabus id (``*Syllabus: ...*`` under its heading)."""
    lesson: str
    path: str
    heading: str

    @property
    def link(self) -> str:
        """``path#anchor`` as JupyterLab names a heading (its text, spaces as hyphens)."""
        text = re.sub(r"[`*_]", "", self.heading).strip()
        return f"{self.path}#{text.replace(' ', '-')}"

    def __str__(self) -> str:
        return f"{Path(self.path).stem}: {self.heading[:50]}"


def _notebooks(folder: Path | None):
    import nbformat

    root = Path(folder or notebook_folder())
    for path in sorted(root.glob("*/*.ipynb")):
        yield path.relative_to(root).as_posix(), nbformat.read(path, as_version=4)


def lessons(folder: Path | None = None) -> list[Lesson]:
    """The lessons (not quizzes or mock exams) in course order: week, then number."""
    found = []
    for rel, notebook in _notebooks(folder):
        meta = notebook.metadata.get("course", {})
        ident = meta.get("lesson", "")
        if not re.fullmatch(r"w[1-3]-[0-8]\d", ident):
            continue
        domain = syllabus.WEEK_FOLDER_DOMAINS.get(rel.split("/")[0], "")
        found.append(Lesson(ident, meta.get("title", ident), int(meta.get("tier", 1)), rel, domain,
                            tuple(meta.get("syllabus", ()))))
    return sorted(found, key=lambda lesson: lesson.id)


def sections(folder: Path | None = None) -> dict[str, list[Section]]:
    """Syllabus id -> the lesson sections tagged with it, in course order."""
    found: dict[str, list[Section]] = defaultdict(list)
    for rel, notebook in _notebooks(folder):
        lesson = notebook.metadata.get("course", {}).get("lesson", Path(rel).stem)
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
                        found[ident].append(Section(lesson, rel, heading))
    for listed in found.values():
        listed.sort(key=lambda s: s.lesson)
    return found


def compute(folder: Path | None = None) -> Coverage:
    coverage = Coverage()
    for ident, listed in sections(folder).items():
        coverage.sections[ident] = list(listed)
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
