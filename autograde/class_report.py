"""The class report of one assignment: ``autograde report ASSIGNMENT``.

Writes ``reports/<assignment>/report.csv`` (one row per student: student, status, score,
max_score, then the points of every graded cell) and ``reports/<assignment>/report.html``, one
self-contained page (inline CSS, plots as inline SVG drawn by matplotlib, nothing fetched) with:

* the score distribution (a histogram, with count, mean and median);
* success per exercise: the share of graded students with full points on each graded cell;
* success per syllabus id (objective ``S3.01`` or concept ``D1.supervised``) as a heatmap of
  students x ids: the share of the points of the cells tagged with the id that each student got.
  A graded cell's ids come from, first found: its own ``metadata.course.syllabus``; the
  ``course.exercises`` exercise it checks (a lesson's ``<lesson>-qN-check`` cell is exercise
  ``<notebook stem>.qN``); the nearest ``Syllabus: ...`` line in a markdown cell above it (an
  exercise's or a quiz question's heading); the notebook's ``metadata.course.syllabus``;
* submissions that failed to run and why (``reports/<assignment>/run.json`` of ``autograde run``
  when present), and the cells whose error says the kernel died, the hooks were tampered with,
  a sandbox limit was hit or the cell ran out of time;
* identical-code clusters worth a look: per exercise, students whose answer cells (nbgrader
  ``solution`` code cells of ``submitted/<student>/<assignment>/``), once comments, whitespace
  and the untouched scaffold lines are removed, are the same non-trivial code.

Grades come from the class gradebook (the course's ``db_url``). A student whose last run failed
(per run.json) gets no score in this report, even if the gradebook still holds an older one.

What it does NOT do: detect copies that were edited (renamed variables, reordered lines), or
judge whether a cluster is cheating: two students may well write the same short correct code.
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
import statistics
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import nbformat

from autograde.gradebook import class_db_url

SPECIAL_ERRORS = ("KernelDied", "HooksTampered", "SandboxLimit", "CellTimeoutError")
MIN_CLUSTER_LINES = 3      # a normalised answer is non-trivial with this many lines...
MIN_CLUSTER_CHARS = 80     # ...or this many characters
SYLLABUS_LINE = re.compile(r"Syllabus:\s*([^*\n]+)")
SYLLABUS_ID = re.compile(r"\b(D[1-5]\.[a-z][a-z-]*[a-z]|S[1-4]\.\d\d)\b")
LESSON_CHECK = re.compile(r"-q(\d+)-check$")
SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class GradedCell:
    notebook: str                 # file stem
    grade_id: str
    points: float
    title: str                    # the heading above it ("Exercise 2: greet")
    syllabus: tuple[str, ...]     # objective and concept ids


@dataclass
class StudentRow:
    student: str
    status: str                   # "graded" | "failed" | "not graded"
    reason: str | None = None
    cells: dict[tuple[str, str], float] = field(default_factory=dict)  # (notebook, grade_id) -> score

    def score(self, graded: list[GradedCell]) -> float | None:
        if self.status != "graded":
            return None
        return sum(self.cells.get((c.notebook, c.grade_id), 0.0) for c in graded)


@dataclass
class CellProblem:
    student: str
    notebook: str
    cell: str                     # grade_id, or "cell N"
    message: str                  # "KernelDied: exit code 1"


@dataclass
class Cluster:
    notebook: str
    grade_id: str                 # of the answer cell
    students: list[str]
    lines: int
    same_as_solution: bool
    code: str


@dataclass
class ClassReport:
    assignment: str
    cells: list[GradedCell]
    students: list[StudentRow]
    problems: list[CellProblem]
    clusters: list[Cluster]
    run: dict | None

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)

    def graded(self) -> list[StudentRow]:
        return [s for s in self.students if s.status == "graded"]


# --- reading the course -------------------------------------------------------------------------

def _headings_and_tags(notebook) -> dict[str, tuple[str, tuple[str, ...]]]:
    """grade_id -> (the heading above the graded cell, the ids of the nearest Syllabus line above)."""
    found, heading, tags = {}, "", ()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.lstrip().startswith("#"):
                    heading = line.lstrip("# ").strip()
                match = SYLLABUS_LINE.search(line)
                if match and SYLLABUS_ID.findall(match.group(1)):
                    tags = tuple(SYLLABUS_ID.findall(match.group(1)))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found[meta["grade_id"]] = (heading, tags)
    return found


@lru_cache(maxsize=1)
def _course_exercises() -> dict[str, tuple[str, ...]]:
    """Exercise id (``<notebook stem>.qN``) -> syllabus ids, for every exercise of ``course.exercises``."""
    try:
        from course import coverage
    except ImportError:
        return {}
    return {exercise.id: tuple(exercise.syllabus) for exercise in coverage.lesson_exercises()}


def _lesson_exercise_syllabus(stem: str, grade_id: str) -> tuple[str, ...]:
    """The syllabus ids of the ``course.exercises`` exercise a lesson's check cell grades, if any."""
    match = LESSON_CHECK.search(grade_id)
    return _course_exercises().get(f"{stem}.q{match.group(1)}", ()) if match else ()


def graded_cells(source_folder: Path) -> list[GradedCell]:
    """Every graded cell of the assignment's source notebooks, in notebook order."""
    cells = []
    for path in sorted(Path(source_folder).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        above = _headings_and_tags(notebook)
        notebook_tags = tuple(notebook.metadata.get("course", {}).get("syllabus", ()))
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade"):
                continue
            grade_id = meta["grade_id"]
            heading, nearest = above[grade_id]
            own = tuple(cell.get("metadata", {}).get("course", {}).get("syllabus", ()))
            tags = own or _lesson_exercise_syllabus(path.stem, grade_id) or nearest or notebook_tags
            cells.append(GradedCell(path.stem, grade_id, float(meta.get("points", 0)), heading or grade_id, tags))
    return cells


def _gradebook_scores(db_url: str, assignment: str) -> dict[str, dict[tuple[str, str], float]]:
    """student -> (notebook, grade_id) -> score, for every submission the class gradebook holds."""
    from nbgrader.api import Gradebook, MissingEntry

    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).exists():
        return {}
    found: dict[str, dict[tuple[str, str], float]] = {}
    with Gradebook(db_url) as gradebook:
        try:
            submissions = gradebook.find_assignment(assignment).submissions
        except MissingEntry:
            return {}
        for submission in submissions:
            scores = found.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[(notebook.name, grade.name)] = float(grade.score or 0.0)
    return found


def _special_errors(course_root: Path, assignment: str) -> list[CellProblem]:
    """Cells of the executed notebooks whose error is one of SPECIAL_ERRORS."""
    problems = []
    for path in sorted((course_root / "autograded").glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells, start=1):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") in SPECIAL_ERRORS:
                    name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
                    evalue = (output.get("evalue") or "").strip().splitlines()
                    message = output["ename"] + (f": {evalue[0][:300]}" if evalue else "")
                    problems.append(CellProblem(student, path.stem, name, message))
    return problems


# --- identical code -------------------------------------------------------------------------------

def normalised_lines(code: str) -> list[str]:
    """The code's lines without comments, blank lines and whitespace between tokens."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER, tokenize.ENCODING}
    try:
        by_line: dict[int, list[str]] = defaultdict(list)
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type not in skip:
                by_line[token.start[0]].append(token.string)
        lines = [" ".join(tokens) for _, tokens in sorted(by_line.items())]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        lines = [" ".join(re.sub(r"#.*$", "", line).split()) for line in code.splitlines()]
    return [line for line in lines if line]


def _answers(folder: Path) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) -> source of every solution code cell of the notebooks in ``folder``."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:   # a broken submission has no answers to compare
            continue
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution") and meta.get("grade_id"):
                found[(path.stem, meta["grade_id"])] = cell.source
    return found


def identical_code(course_root: Path, assignment: str, source_folder: Path) -> list[Cluster]:
    """Per answer cell, the groups of 2+ students with the same non-trivial normalised answer."""
    reference = _answers(source_folder)
    scaffold = {key: set(normalised_lines(SOLUTION_REGION.sub("", code))) for key, code in reference.items()}
    solution = {key: normalised_lines("\n".join(m.group(0) for m in SOLUTION_REGION.finditer(code)))
                for key, code in reference.items()}
    groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for folder in sorted((course_root / "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        for key, code in _answers(folder).items():
            lines = [line for line in normalised_lines(code) if line not in scaffold.get(key, set())]
            text = "\n".join(lines)
            if len(lines) >= MIN_CLUSTER_LINES or len(text) >= MIN_CLUSTER_CHARS:
                groups[key][text].append(student)
    clusters = []
    for (notebook, grade_id), by_code in sorted(groups.items()):
        for text, students in by_code.items():
            if len(students) >= 2:
                clusters.append(Cluster(notebook, grade_id, sorted(students), len(text.splitlines()),
                                        text.splitlines() == solution.get((notebook, grade_id)), text))
    return clusters


# --- putting it together --------------------------------------------------------------------------

def _source_folder(course_root: Path, assignment: str) -> Path:
    from autograde.nbgrader_run import course_config

    source = course_config(course_root).CourseDirectory.get("source_directory", "source")
    return course_root / source / assignment


def collect(course_root: Path, assignment: str) -> ClassReport:
    """Everything the report shows, read from the course folder and the class gradebook."""
    course_root = Path(course_root).resolve()
    source_folder = _source_folder(course_root, assignment)
    cells = graded_cells(source_folder)
    scores = _gradebook_scores(class_db_url(course_root), assignment)
    run_file = course_root / "reports" / assignment / "run.json"
    run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else None
    in_run = {entry["student"]: entry for entry in (run or {}).get("students", [])}
    submitted = {p.parent.name for p in (course_root / "submitted").glob(f"*/{assignment}") if p.is_dir()}
    rows = []
    for student in sorted(set(scores) | set(in_run) | submitted):
        entry = in_run.get(student)
        if entry is not None and entry.get("status") == "failed":
            rows.append(StudentRow(student, "failed", entry.get("reason") or "the run failed"))
        elif student in scores:
            rows.append(StudentRow(student, "graded", None, scores[student]))
        else:
            rows.append(StudentRow(student, "not graded", "no grades in the class gradebook"))
    return ClassReport(assignment, cells, rows, _special_errors(course_root, assignment),
                       identical_code(course_root, assignment, source_folder), run)


def _column_names(cells: list[GradedCell]) -> list[str]:
    counts = defaultdict(int)
    for cell in cells:
        counts[cell.grade_id] += 1
    return [cell.grade_id if counts[cell.grade_id] == 1 else f"{cell.notebook}:{cell.grade_id}" for cell in cells]


def write_csv(report: ClassReport, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "status", "score", "max_score", *_column_names(report.cells)])
        for row in report.students:
            graded = row.status == "graded"
            score = row.score(report.cells)
            writer.writerow([row.student, row.status, "" if score is None else f"{score:g}",
                             f"{report.max_score:g}",
                             *[f"{row.cells.get((c.notebook, c.grade_id), 0.0):g}" if graded else ""
                               for c in report.cells]])


# --- plots -----------------------------------------------------------------------------------------

def _svg(figure) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):   # text stays text: searchable, small
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def histogram_svg(scores: list[float], max_score: float) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.8))
    axes = figure.subplots()
    bins = max(1, min(10, int(max_score) or 1))
    axes.hist(scores, bins=bins, range=(0, max_score or 1), color="#3b6ea5", edgecolor="white")
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Score distribution")
    return _svg(figure)


def objective_matrix(report: ClassReport) -> tuple[list[str], list[str], list[list[float | None]]]:
    """Syllabus ids (objectives first), graded students, and the share of the points of each id's
    cells each student got (None: no points to get)."""
    ids = sorted({i for c in report.cells for i in c.syllabus}, key=lambda i: (not i.startswith("S"), i))
    students = report.graded()
    matrix = []
    for row in students:
        values = []
        for ident in ids:
            tagged = [c for c in report.cells if ident in c.syllabus]
            most = sum(c.points for c in tagged)
            got = sum(row.cells.get((c.notebook, c.grade_id), 0.0) for c in tagged)
            values.append(got / most if most else None)
        matrix.append(values)
    return ids, [s.student for s in students], matrix


def heatmap_svg(ids: list[str], students: list[str], matrix: list[list[float | None]]) -> str:
    import numpy as np
    from matplotlib.figure import Figure

    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    figure = Figure(figsize=(1.2 + 0.75 * len(ids), 1.2 + 0.35 * len(students)))
    axes = figure.subplots()
    image = axes.imshow(data, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(ids)), ids, rotation=45, ha="right")
    axes.set_yticks(range(len(students)), students)
    for y, row in enumerate(matrix):
        for x, value in enumerate(row):
            if value is not None:
                axes.text(x, y, f"{value:.0%}", ha="center", va="center", fontsize=8)
    figure.colorbar(image, ax=axes, label="share of the points")
    axes.set_title("Success per syllabus id")
    return _svg(figure)


# --- the page ----------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; }
.bar { background: #3b6ea5; height: 0.8em; display: inline-block; } .failed { color: #b3261e; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; } .muted { color: #777; }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]], raw: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell if raw else _e(cell)}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: ClassReport) -> str:
    from course import syllabus

    graded = report.graded()
    scores = [row.score(report.cells) for row in graded]
    parts = [f"<h1>Class report: {_e(report.assignment)}</h1>",
             f"<p class='muted'>Written {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; "
             f"{len(report.students)} students, {len(graded)} graded, max score {report.max_score:g}."]
    if report.run:
        parts.append(f" Last run: sandbox {_e(report.run.get('sandbox'))}, {_e(report.run.get('workers'))} workers, "
                     f"{float(report.run.get('seconds') or 0):.0f} s.")
    parts.append("</p>")

    parts.append("<h2>Score distribution</h2>")
    if scores:
        parts.append(f"<p>count {len(scores)} · mean {statistics.mean(scores):.2f} · "
                     f"median {statistics.median(scores):g} · max possible {report.max_score:g}</p>")
        parts.append(f"<div id='score-histogram'>{histogram_svg(scores, report.max_score)}</div>")
    else:
        parts.append("<p>No graded submission yet.</p>")

    parts.append("<h2>Success per exercise</h2><p>Share of the graded students with full points.</p>")
    rows = []
    for cell in report.cells:
        full = [r for r in graded if r.cells.get((cell.notebook, cell.grade_id), 0.0) >= cell.points]
        share = len(full) / len(graded) if graded else 0.0
        rows.append([_e(cell.notebook), _e(cell.title), f"<code>{_e(cell.grade_id)}</code>", f"{cell.points:g}",
                     f"<span class='bar' style='width:{share * 8:.2f}em'></span> "
                     f"{share:.0%} ({len(full)}/{len(graded)})"])
    parts.append(_table(["notebook", "exercise", "graded cell", "points", "full points"], rows, raw=True))

    parts.append("<h2>Success per syllabus objective</h2>")
    ids, students, matrix = objective_matrix(report)
    if ids and students:
        parts.append(f"<div id='objective-heatmap'>{heatmap_svg(ids, students, matrix)}</div>")
        names = {**syllabus.concepts(), **syllabus.objectives()}
        legend = []
        for x, ident in enumerate(ids):
            values = [row[x] for row in matrix if row[x] is not None]
            legend.append([ident, names.get(ident, ""), f"{statistics.mean(values):.0%}" if values else "",
                           ", ".join(c.grade_id for c in report.cells if ident in c.syllabus)])
        parts.append(_table(["id", "objective", "class average", "graded cells"], legend))
    else:
        parts.append("<p>No graded cell is tagged with a syllabus id, or nothing is graded yet.</p>")

    parts.append("<h2 id='failures'>Submissions that failed to run</h2>")
    failed = [[r.student, r.status, r.reason or ""] for r in report.students if r.status != "graded"]
    parts.append(_table(["student", "status", "why"], failed) if failed else "<p>None.</p>")
    if report.problems:
        parts.append("<p>Cells stopped by the kernel, the sandbox or the time limit:</p>")
        parts.append(_table(["student", "notebook", "cell", "error"],
                            [[p.student, p.notebook, p.cell, p.message] for p in report.problems]))

    parts.append("<h2 id='clusters'>Identical code worth a look</h2>")
    parts.append(f"<p class='muted'>Answers equal once comments, whitespace and untouched scaffold lines are "
                 f"removed, with at least {MIN_CLUSTER_LINES} lines or {MIN_CLUSTER_CHARS} characters.</p>")
    if report.clusters:
        for cluster in report.clusters:
            note = " (the same as the reference solution)" if cluster.same_as_solution else ""
            parts.append(f"<div class='cluster'><p><b>{_e(cluster.notebook)} / "
                         f"<code>{_e(cluster.grade_id)}</code></b>: "
                         f"{_e(', '.join(cluster.students))}{_e(note)}</p><pre>{_e(cluster.code)}</pre></div>")
    else:
        parts.append("<p>None.</p>")

    parts.append("<h2 id='students'>Students</h2>")
    columns = _column_names(report.cells)
    rows = []
    for row in report.students:
        score = row.score(report.cells)
        rows.append([row.student, row.status, "" if score is None else f"{score:g}",
                     *[f"{row.cells.get((c.notebook, c.grade_id), 0.0):g}" if row.status == "graded" else ""
                       for c in report.cells]])
    parts.append(_table(["student", "status", "score", *columns], rows))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Class report: {_e(report.assignment)}</title><style>{CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def build(course_root: Path, assignment: str) -> tuple[Path, Path]:
    """Write ``reports/<assignment>/report.html`` and ``report.csv``; returns their paths."""
    course_root = Path(course_root).resolve()
    report = collect(course_root, assignment)
    folder = course_root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = folder / "report.html", folder / "report.csv"
    write_csv(report, csv_path)
    html_path.write_text(render_html(report), encoding="utf-8")
    return html_path, csv_path
