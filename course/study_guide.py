"""The study guide, written from the lessons: ``release/00-study-guide.ipynb`` and one HTML page.

The exam guide the course is built on has headings with no text under them: common exam traps per
domain, the concepts the exam confuses, the top mistakes, an exam-ready checklist and resources.
The course fills them **from the lessons**, so the guide cannot drift from what the lessons teach:

* exam traps: the bullets of each lesson's ``<div class="alert alert-warning">`` box whose first
  bold line is ``**Exam traps**``;
* concepts compared: every table labelled by a line ``**Compare: A vs B**`` right above it (a blank line between);
* common mistakes: the bullets under ``**Common mistakes**`` in each lesson's recap, written
  from the mistakes the lesson's checks catch.

Each is grouped by the seed domain of the lesson's week folder and points back to its lesson. The
checklist ticks itself from the learner's progress (``course.progress_report``); the resources are
the official exam page, vendor documentation per section of the official exam guide, and the
course's own lessons per objective (``course.coverage``).

    build()            the guide as data
    notebook()         the notebook (deterministic, no outputs)
    html(items)        one self-contained HTML page, checklist ticked from ``items``
    write_notebook(root), write_html(path, items)
"""
from __future__ import annotations

import html as html_lib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import coverage, syllabus

ROOT = Path(__file__).resolve().parents[1]
NAME = "00-study-guide.ipynb"
GENERATOR = "ml-associate-course study guide"   # marks an HTML page this module wrote

TRAPS_BOX = '<div class="alert alert-warning">'
TRAPS_LABEL = "**Exam traps**"
MISTAKES_LABEL = "**Common mistakes**"
COMPARE = re.compile(r"^\*\*Compare: (.+)\*\*\s*$")

CHECKLIST_CODE = "from course.progress_report import show_checklist\nshow_checklist()"


class GuideError(ValueError):
    """A lesson lacks a block the guide is built from, or a path cannot be written."""


@dataclass(frozen=True)
class Point:
    """One exam trap or common mistake, with the lesson it comes from."""
    text: str
    lesson: coverage.Lesson


@dataclass(frozen=True)
class Comparison:
    """A labelled comparison table of a lesson (``table`` is its markdown)."""
    label: str
    table: str
    lesson: coverage.Lesson


@dataclass(frozen=True)
class Resource:
    title: str
    url: str


@dataclass
class Guide:
    lessons: list[coverage.Lesson]
    traps: dict[str, list[Point]] = field(default_factory=dict)        # seed domain -> traps
    comparisons: dict[str, list[Comparison]] = field(default_factory=dict)
    mistakes: dict[str, list[Point]] = field(default_factory=dict)
    objective_lessons: dict[str, list[coverage.Lesson]] = field(default_factory=dict)


# The official exam page and vendor documentation, per section of the official exam guide. Every
# address was looked up in the vendor's documentation; keep to databricks.com, mlflow.org and
# spark.apache.org when adding one (tests/test_study_guide.py checks the domains).
EXAM_PAGE = Resource("Databricks Certified Machine Learning Associate: the official exam page and exam guide",
                     "https://www.databricks.com/learn/certification/machine-learning-associate")
RESOURCES: dict[str, list[Resource]] = {
    "S1": [
        Resource("Dedicated compute (the access mode the ML runtime uses)",
                 "https://docs.databricks.com/aws/compute/dedicated-overview"),
        Resource("Databricks Runtime release notes: ML runtime versions and their MLflow versions",
                 "https://docs.databricks.com/aws/en/release-notes/runtime/"),
        Resource("AutoML Python API reference",
                 "https://docs.databricks.com/machine-learning/automl/automl-api-reference.html"),
        Resource("Work with feature tables in Unity Catalog",
                 "https://docs.databricks.com/machine-learning/feature-store/uc/feature-tables-uc.html"),
        Resource("MLflow Tracking", "https://www.mlflow.org/docs/latest/tracking.html"),
        Resource("Manage model lifecycle in Unity Catalog",
                 "https://docs.databricks.com/en/machine-learning/manage-model-lifecycle/index.html"),
        Resource("MLOps workflows on Databricks",
                 "https://docs.databricks.com/en/machine-learning/mlops/mlops-workflow.html"),
        Resource("Model deployment patterns: deploy code or deploy models",
                 "https://docs.databricks.com/en/machine-learning/mlops/deployment-patterns.html"),
    ],
    "S2": [
        Resource("`DataFrame.summary`",
                 "https://spark.apache.org/docs/latest/api/python/reference/pyspark.sql/api/"
                 "pyspark.sql.DataFrame.summary.html"),
        Resource("`Imputer` (mean, median or mode)",
                 "https://spark.apache.org/docs/latest/api/python/reference/api/pyspark.ml.feature.Imputer"),
    ],
    "S3": [
        Resource("ML Pipelines: estimators, transformers, pipelines",
                 "https://spark.apache.org/docs/latest/ml-pipeline.html"),
        Resource("ML Tuning: CrossValidator and TrainValidationSplit",
                 "https://spark.apache.org/docs/latest/ml-tuning.html"),
        Resource("Hyperopt concepts: `fmin`, `Trials` and `SparkTrials`",
                 "https://docs.databricks.com/aws/machine-learning/automl-hyperparam-tuning/hyperopt-concepts"),
    ],
    "S4": [
        Resource("Deploy models for batch inference and prediction",
                 "https://docs.databricks.com/aws/en/machine-learning/model-inference/"),
        Resource("pandas user-defined functions", "https://docs.databricks.com/udf/pandas.html"),
        Resource("Lakeflow Spark Declarative Pipelines: streaming tables and materialized views",
                 "https://docs.databricks.com/en/ldp/best-practices.html"),
        Resource("What happened to Delta Live Tables", "https://docs.databricks.com/aws/en/ldp/where-is-dlt"),
        Resource("Create custom model serving endpoints",
                 "https://docs.databricks.com/machine-learning/model-serving/create-manage-serving-endpoints"),
        Resource("Serve multiple models to a model serving endpoint (traffic split)",
                 "https://docs.databricks.com/machine-learning/model-serving/"
                 "serve-multiple-models-to-serving-endpoint.html"),
    ],
}


# --- reading the lessons ---------------------------------------------------------------------

def _bullets(lines: list[str]) -> list[str]:
    """The ``* `` bullets of ``lines``, continuation lines (indented) joined to their bullet."""
    found: list[str] = []
    for line in lines:
        if line.startswith("* "):
            found.append(line[2:].strip())
        elif found and line.startswith((" ", "\t")) and line.strip():
            found[-1] += " " + line.strip()
    return found


def traps_of(source: str) -> list[str]:
    """The bullets of the ``**Exam traps**`` box in one markdown cell's source (none if no box)."""
    start = source.find(TRAPS_BOX)
    if start < 0:
        return []
    end = source.find("</div>", start)
    lines = source[start:end if end >= 0 else len(source)].splitlines()[1:]
    labels = [line.strip() for line in lines if line.strip()]
    if not labels or labels[0] != TRAPS_LABEL:
        return []
    return _bullets(lines)


def mistakes_of(source: str) -> list[str]:
    """The bullets of the ``**Common mistakes**`` block in one markdown cell's source."""
    lines = source.splitlines()
    if MISTAKES_LABEL not in (line.strip() for line in lines):
        return []
    index = [line.strip() for line in lines].index(MISTAKES_LABEL) + 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    block = []
    while index < len(lines) and (lines[index].startswith("* ") or lines[index].startswith((" ", "\t"))):
        block.append(lines[index])
        index += 1
    return _bullets(block)


def comparisons_of(source: str) -> list[tuple[str, str]]:
    """(label, table markdown) of every ``**Compare: ...**`` line right above a table (a blank
    line between them, which every Markdown renderer needs to start the table)."""
    lines = source.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = COMPARE.match(line.strip())
        if not match:
            continue
        table = []
        rest = lines[index + 1:]
        if rest and not rest[0].strip():    # a blank line between the label and its table
            rest = rest[1:]
        for row in rest:
            if not row.startswith("|"):
                break
            table.append(row)
        if len(table) >= 2:
            found.append((match.group(1).strip(), "\n".join(table)))
    return found


def _read(folder: Path, lesson: coverage.Lesson) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    notebook = nbformat.read(folder / lesson.path, as_version=4)
    traps, tables, mistakes = [], [], []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            traps += traps_of(cell.source)
            tables += comparisons_of(cell.source)
            mistakes += mistakes_of(cell.source)
    return traps, tables, mistakes


def build(folder: Path | None = None) -> Guide:
    """Read every lesson of ``folder`` (``course.coverage.notebook_folder()`` by default)."""
    folder = Path(folder or coverage.notebook_folder())
    lessons = coverage.lessons(folder)
    if not lessons:
        raise GuideError(f"no lesson notebooks in {folder}")
    guide = Guide(lessons=lessons)
    traps, tables, mistakes = defaultdict(list), defaultdict(list), defaultdict(list)
    for lesson in lessons:
        found_traps, found_tables, found_mistakes = _read(folder, lesson)
        if not found_traps:
            raise GuideError(f"{lesson.path} has no 'Exam traps' box with bullets")
        if not found_mistakes:
            raise GuideError(f"{lesson.path} has no 'Common mistakes' block in its recap")
        traps[lesson.domain] += [Point(text, lesson) for text in found_traps]
        tables[lesson.domain] += [Comparison(label, table, lesson) for label, table in found_tables]
        mistakes[lesson.domain] += [Point(text, lesson) for text in found_mistakes]
    order = list(syllabus.domains())
    guide.traps = {d: traps[d] for d in order if traps[d]}
    guide.comparisons = {d: tables[d] for d in order if tables[d]}
    guide.mistakes = {d: mistakes[d] for d in order if mistakes[d]}
    by_id = {lesson.id: lesson for lesson in lessons}
    sections = coverage.sections(folder)
    for ident in syllabus.objectives():
        taught = sorted({s.lesson for s in sections.get(ident, []) if s.lesson in by_id})
        guide.objective_lessons[ident] = [by_id[lesson_id] for lesson_id in taught]
    return guide


# --- writing it ------------------------------------------------------------------------------

def _ref(lesson: coverage.Lesson, links: bool) -> str:
    name = f"{lesson.id} {lesson.title}"
    return f"[{name}]({lesson.path})" if links else f"*{name}*"


def _domain_heading(ident: str) -> str:
    domain = syllabus.domains()[ident]
    return f"### {ident} {domain['name']} ({domain['weight']}%)"


def _intro(guide: Guide) -> str:
    seed, official = syllabus.load()["seed_format"], syllabus.load()["official_format"]
    rows = "\n".join(f"| {ident} | {d['name']} | {d['weight']}% | {len(guide.traps.get(ident, []))} | "
                     f"{len(guide.comparisons.get(ident, []))} | {len(guide.mistakes.get(ident, []))} |"
                     for ident, d in syllabus.domains().items())
    return f"""# Study guide: exam traps, concepts compared, common mistakes

This page is **generated from the lessons**, so it says exactly what they teach: the traps are the
bullets of each lesson's *Exam traps* box, the comparisons are the tables labelled *Compare* in
the lessons, and the common mistakes are the ones the lessons' checks catch, from each recap.
Every point links back to its lesson. Read it in the last days before the exam, and go back to a
lesson when a point surprises you.

The exam: {seed['minutes']} minutes; {seed['questions']} questions in the study guide the course
follows, {official['questions']} scored questions in the official exam guide of
{official['edition']}. The domains below are the study guide's, with its weights.

| domain | name | weight | traps | comparisons | mistakes |
|---|---|---|---|---|---|
{rows}"""


def _points(title: str, intro: str, points: dict[str, list[Point]], links: bool) -> list[str]:
    cells = [f"## {title}\n\n{intro}"]
    for ident, listed in points.items():
        lines = [_domain_heading(ident), ""]
        lines += [f"* {p.text} ({_ref(p.lesson, links)})" for p in listed]
        cells.append("\n".join(lines))
    return cells


def _comparisons(guide: Guide, links: bool) -> list[str]:
    cells = ["## Concepts compared\n\nThe pairs the exam confuses, side by side, as the lessons "
             "tabulate them."]
    for ident, listed in guide.comparisons.items():
        parts = [_domain_heading(ident)]
        for item in listed:
            parts.append(f"#### {item.label}\n\nFrom {_ref(item.lesson, links)}\n\n{item.table}")
        cells.append("\n\n".join(parts))
    return cells


def exam_day() -> list[str]:
    """The exam-day practicalities, from the syllabus file (seed and official formats)."""
    seed, official = syllabus.load()["seed_format"], syllabus.load()["official_format"]
    return [
        f"Time: {seed['minutes']} minutes. The study guide counts {seed['questions']} questions; the "
        f"official exam guide ({official['edition']}) says {official['questions']} scored questions. "
        "That is under two minutes a question: do not let one hard question eat your time.",
        f"The study guide gives {seed['pass_percent']}% as the pass mark; the official guide publishes "
        "none, so aim higher in the mock exams.",
        "No penalty for a wrong answer (study guide): never leave a question blank.",
        "Have the identity document the exam registration asks for at hand.",
        "Taking it online, proctored: run the delivery platform's system check (camera, microphone, "
        "network) well before the day, and prepare a quiet room with a clear desk.",
        "Read the official exam page again shortly before the day: format and rules change.",
    ]


def _checklist_intro() -> str:
    return ("## Exam-day checklist\n\n### Are you ready?\n\nThe items tick themselves from your progress "
            "(checks, quiz answers, mock exams). Run the cell below again whenever you like.")


def _exam_day_markdown() -> str:
    return "### On the day\n\n" + "\n".join(f"* {item}" for item in exam_day())


def _resources(guide: Guide, links: bool) -> str:
    sections = syllabus.sections()
    lines = ["## Resources", "",
             f"**Official.** [{EXAM_PAGE.title}]({EXAM_PAGE.url}): the exam's format, its objectives "
             "and registration. The documentation below is grouped by the official guide's sections.", ""]
    for ident, listed in RESOURCES.items():
        lines.append(f"### {ident} {sections[ident]['name']}")
        lines.append("")
        lines += [f"* [{r.title}]({r.url})" for r in listed]
        lines.append("")
    lines += ["### The course's lessons per objective", "",
              "| objective | | lessons |", "|---|---|---|"]
    objectives = syllabus.objectives()
    for ident, taught in guide.objective_lessons.items():
        where = ", ".join(_ref(lesson, links) for lesson in taught) or "the practice questions"
        lines.append(f"| {ident} | {objectives[ident]} | {where} |")
    return "\n".join(lines)


def _lesson_sections(guide: Guide, links: bool) -> list[str]:
    """The markdown of the parts gathered from the lessons: intro, traps, comparisons, mistakes."""
    parts = [_intro(guide)]
    parts += _points("Exam traps", "Per domain, the traps of every lesson's *Exam traps* box.",
                     guide.traps, links=links)
    parts += _comparisons(guide, links=links)
    parts += _points("Common mistakes", "Per domain, the mistakes the lessons' checks catch most, "
                     "from each lesson's recap.", guide.mistakes, links=links)
    return parts


def notebook(folder: Path | None = None) -> nbformat.NotebookNode:
    """The study guide as a notebook: markdown, and one code cell that shows the checklist."""
    guide = build(folder)
    cells = [new_markdown_cell(text) for text in _lesson_sections(guide, links=True)]
    cells += [new_markdown_cell(_checklist_intro()), new_code_cell(CHECKLIST_CODE),
              new_markdown_cell(_exam_day_markdown()), new_markdown_cell(_resources(guide, links=True))]
    page = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"page": "study-guide", "title": "Study guide"}})
    for index, cell in enumerate(page.cells):
        cell["id"] = f"guide-{index:02d}"
    return page


def text(folder: Path | None = None) -> str:
    return nbformat.writes(notebook(folder)) + "\n"


def write_notebook(root: Path = ROOT) -> Path:
    """Write ``root/release/00-study-guide.ipynb`` from ``root/source`` (or the installed lessons)."""
    root = Path(root)
    folder = root / "source" if (root / "source").is_dir() else None
    target = root / "release" / NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text(folder), encoding="utf-8")
    return target


# --- the HTML page ---------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1f2328; }
h1, h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: .1rem .25rem; border-radius: 4px; font-size: .9em; }
ul.checklist { list-style: none; padding-left: 0; }
ul.checklist li { margin: .3rem 0; }
ul.checklist li.done .box { color: #1a7f37; }
ul.checklist li.todo .box { color: #9a6700; }
.detail { color: #656d76; }
"""


def _render(markdown: str) -> str:
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table"])(markdown)


def _default_items():
    try:
        from course.progress_report import checklist_items
    except ImportError:
        return None
    return checklist_items()


def _checklist_html(items) -> str:
    if items is None:
        return "<p>Your checklist appears here once the course can read your progress.</p>"
    rows = []
    for item in items:
        state, box = ("done", "&#9745;") if item.done else ("todo", "&#9744;")
        detail = f' <span class="detail">({html_lib.escape(item.detail)})</span>' if item.detail else ""
        rows.append(f'<li class="{state}"><span class="box">{box}</span> {html_lib.escape(item.text)}{detail}</li>')
    return '<ul class="checklist">\n' + "\n".join(rows) + "\n</ul>"


def html(items=None, folder: Path | None = None) -> str:
    """The study guide as one self-contained HTML page (inline CSS, no scripts, no images).

    ``items``: the checklist, objects with ``text``, ``done`` and ``detail``; by default
    ``course.progress_report.checklist_items()``."""
    guide = build(folder)
    if items is None:
        items = _default_items()
    body = "\n".join(_render(part) for part in _lesson_sections(guide, links=False))
    body += _render("## Exam-day checklist\n\n### Are you ready?\n\nTicked from your progress when this "
                    "page was written.") + _checklist_html(items)
    body += _render(_exam_day_markdown()) + _render(_resources(guide, links=False))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="generator" content="{GENERATOR}">\n'
            f"<title>Study guide: Databricks Certified Machine Learning Associate</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def write_html(path: Path, items=None) -> Path:
    """Write the HTML page to ``path``. An existing file is replaced only if this module wrote it."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise GuideError(f"{path} is a folder: give the name of the HTML file to write")
    if not path.parent.is_dir():
        raise GuideError(f"no folder {path.parent} to write the study guide into")
    if path.exists() and f'content="{GENERATOR}"' not in path.read_text(encoding="utf-8", errors="replace"):
        raise GuideError(f"{path} exists and is not a study guide this course wrote: choose another name")
    path.write_text(html(items), encoding="utf-8")
    return path
