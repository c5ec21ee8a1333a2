"""The learner's start page, ``release/00-start-here.ipynb``, generated from ``source/``.

``autograde release`` writes it beside the week folders, so ``course workspace`` copies it into
the learner's workspace like the lessons (and, like them, never over the learner's own copy).
The map of lessons is read from the source notebooks' ``course`` metadata, so it cannot drift
from the lessons; the rest is fixed text and one-cell launchers for practice and mock exams.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import exam, syllabus

ROOT = Path(__file__).resolve().parents[1]
NAME = "00-start-here.ipynb"

INTRO = """# Start here: the Databricks Certified Machine Learning Associate course

A three-week course for the **Databricks Certified Machine Learning Associate** exam that runs on
your own machine: real PySpark, real MLflow (a local tracking store and model registry) and
exercises that are checked as you go. Where Databricks has a service that cannot run on a laptop
(Feature Engineering in Unity Catalog, AutoML, Model Serving, Jobs, data profiling), a lesson runs
the nearest local equivalent and shows the Databricks code beside it as **read-only** code,
labelled so.

This page is yours: edit it as you like. A newer course version never overwrites it (nor any
notebook of your workspace)."""

HOW = """## How a lesson works

Each lesson reads like a textbook chapter: objectives with their exam tier (Tier 1 must know,
Tier 2 should know, Tier 3 recognise only), short sections with code you run, a box of exam traps,
then exercises and a recap. Run the cells from the top: exercises use what the lesson built.

Every exercise has an answer cell and a check cell under it:

| you run | you get |
|---|---|
| `q1.check()` | **✔ Correct** only when the answer is right; otherwise one sentence that names the mistake, never the answer |
| `q1.hint()` | the next hint: the idea, then the API, then a skeleton with blanks |
| `q1.solution()` | the worked solution (hidden in a classroom, where your instructor grades the notebook) |

An answer cell starts with the names to define (`by_room = ...`): `...` means "not attempted yet".
Checks, hints and quiz answers are recorded in your course data folder, never in the notebook."""

PRACTICE = """## Practice questions

Exam-style questions with an explanation and a reference after each answer. Change the domain or
the concept and run the cell again. The same in a terminal: `course quiz --domain D3`."""

DOMAIN_LAUNCHER = """from course.exam_widgets import practice

practice(domain="D3", count=10)   # D1 ... D5: see the table above"""

CONCEPT_LAUNCHER = """from course.exam_widgets import practice

practice(concept="D2.imputer", count=5)   # any concept id of a lesson's objectives"""

WEAK_LAUNCHER = """from course.exam_widgets import practice

practice(weak=True, count=10)   # questions you have not answered yet, or got wrong, first"""

MOCK = """## Mock exams

Timed like the real exam, with its topics mixed and no domain shown until the review. Seeds 1 to 5
of a blueprint share no question, so five attempts are five different exams. The same in a
terminal: `course exam --blueprint official-2025 --seed 1`."""

PROGRESS = """## Where you stand

Your exercises, answers and mock exams per domain, a predicted mock-exam score with its interval,
your weak spots (each linked to the lesson section that teaches it) and what to do next. The same
in a terminal: `course progress`, `course plan` (add `--plan fast-track` if you already use Spark
and MLflow, `--plan last-week` in the week before the exam) and `course report` for an HTML page.
`course grade <notebook>` grades a lesson of yours with the course's full tests."""

PROGRESS_LAUNCHER = """from course.progress_report import progress
from course.study_plan import next_steps

progress()        # press Refresh after you have worked on a lesson
print("\\n".join(next_steps()))"""

NEXT = """## Next

Open the first lesson: [01 Orientation](week1-ml-fundamentals/01-orientation.ipynb). When you
come back later, this page's map takes you to where you stopped.

Before the exam, read the [study guide](00-study-guide.ipynb): the exam traps, comparisons and common
mistakes of every lesson in one page, and a checklist that ticks itself from your progress."""


def _lessons(root: Path) -> list[tuple[str, str, str]]:
    """(lesson id, title, path relative to release/) of every source notebook, lessons first."""
    found = []
    for path in sorted((root / "source").glob("*/*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata.get("course", {})
        if "lesson" in meta:
            found.append((meta["lesson"], meta.get("title", path.stem), f"{path.parent.name}/{path.name}"))
    return found


def _map(root: Path) -> str:
    lessons = _lessons(root)
    domains = syllabus.domains()
    lines = ["## The three-week map", "",
             "The week folders follow the exam's domains (weights of the study guide's blueprint); "
             "a week's lessons are numbered across its folders, and each week ends with a graded "
             "review quiz.", ""]
    for week in ("1", "2", "3"):
        lines += [f"### Week {week}", "", "| lesson | domain |", "|---|---|"]
        ordered = sorted((lid, title, rel) for lid, title, rel in lessons if lid.startswith(f"w{week}-"))
        for lesson_id, title, rel in ordered:
            domain = syllabus.WEEK_FOLDER_DOMAINS.get(rel.split("/")[0], "")
            if lesson_id.endswith("-90"):
                about = "graded review of the week's domains"
            else:
                about = f"{domain} {domains[domain]['name']} ({domains[domain]['weight']}%)"
            lines.append(f"| [{lesson_id[3:]} {title}]({rel}) | {about} |")
        lines.append("")
    mocks = [(title, rel) for lid, title, rel in lessons if lid == "mock"]
    for title, rel in mocks:
        lines.append(f"Then the graded mock exam: [{title}]({rel}).")
    return "\n".join(lines).rstrip()


def _blueprint_cell(name: str) -> str:
    blueprint = exam.blueprint_named(name)
    return (f"from course.exam_widgets import mock_exam\n\n"
            f"mock_exam(\"{name}\", seed=1)   # {blueprint.total} questions, {blueprint.minutes} minutes, "
            f"{blueprint.pass_label}")


def build(root: Path = ROOT) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(INTRO), new_markdown_cell(_map(root)), new_markdown_cell(HOW),
             new_markdown_cell(PRACTICE), new_markdown_cell("**By domain**"), new_code_cell(DOMAIN_LAUNCHER),
             new_markdown_cell("**By concept**"), new_code_cell(CONCEPT_LAUNCHER),
             new_markdown_cell("**Your weak spots** (from the answers you have given so far)"),
             new_code_cell(WEAK_LAUNCHER), new_markdown_cell(MOCK)]
    for name in exam.BLUEPRINTS:
        blueprint = exam.blueprint_named(name)
        cells += [new_markdown_cell(f"**{blueprint.title}**"), new_code_cell(_blueprint_cell(name))]
    cells += [new_markdown_cell(PROGRESS), new_code_cell(PROGRESS_LAUNCHER), new_markdown_cell(NEXT)]
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"page": "start", "title": "Start here"}})
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"start-{index:02d}"
    return notebook


def text(root: Path = ROOT) -> str:
    return nbformat.writes(build(root)) + "\n"


def write(root: Path = ROOT) -> Path:
    target = root / "release" / NAME
    target.write_text(text(root))
    return target
