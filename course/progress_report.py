"""Where the learner stands, read back from the progress store.

    course progress              the summary in the terminal
    course report                one self-contained HTML page with plots
    from course.progress_report import progress; progress()     the same in JupyterLab

Per seed domain (the study guide's five) and per official section (the 2025 exam guide's four):
exercises solved, questions answered and their accuracy, the last activity; then the mock exams
taken with their scores over time, the readiness estimate (``course.readiness``) and the weak
spots, each linked to the lesson section that teaches it.

Only what is really right counts. An exercise is solved when its check said "Correct" (a check
that only found the answer well formed, in classroom mode, does not count). A question's accuracy
uses its latest answer, so answering again after reading the explanation replaces the old verdict
instead of piling up. Mock exams count once each, with their percent.
"""
from __future__ import annotations

import base64
import html
import io
import textwrap
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from course import coverage, questions, readiness, syllabus
from course import progress as progress_store

WEAK_BELOW = 0.6      # a concept or objective is weak below this share right ...
WEAK_MIN_ANSWERS = 3  # ... on at least this many questions (latest answer each)
MOCK_GOAL = 80        # the checklist asks for two different mock exams at this percent or more


@dataclass
class Tally:
    """What the learner did in one domain or section."""
    exercises: int = 0
    solved: int = 0
    questions: int = 0          # distinct questions answered
    right: int = 0              # of those, right on their latest answer
    last_at: float | None = None

    @property
    def accuracy(self) -> float | None:
        return self.right / self.questions if self.questions else None

    def touch(self, at: float) -> None:
        self.last_at = at if self.last_at is None else max(self.last_at, at)


@dataclass(frozen=True)
class WeakSpot:
    ident: str
    about: str
    reason: str
    section: coverage.Section | None


@dataclass(frozen=True)
class MockAttempt:
    at: float
    blueprint: str
    seed: int | None
    percent: float
    passed: bool | None
    timed_out: bool
    asked: int


@dataclass(frozen=True)
class ChecklistItem:
    text: str
    done: bool
    detail: str


@dataclass
class Summary:
    domains: dict[str, Tally]
    sections: dict[str, Tally]
    lessons: list[coverage.Lesson]
    solved: set[str]
    exercises_by_lesson: dict[str, list[str]]
    mocks: list[MockAttempt]
    weak: list[WeakSpot]
    readiness: dict[str, readiness.Readiness]
    solutions_viewed: int = 0
    last_at: float | None = None
    grades: dict[str, dict] = field(default_factory=dict)   # lesson id -> latest self-grading

    @property
    def exercises(self) -> int:
        return sum(t.exercises for t in self.domains.values())

    @property
    def answered(self) -> int:
        return sum(t.questions for t in self.domains.values())

    def lesson_done(self, lesson: coverage.Lesson) -> bool:
        listed = self.exercises_by_lesson.get(lesson.stem, [])
        return bool(listed) and all(e in self.solved for e in listed)

    def lesson_started(self, lesson: coverage.Lesson) -> bool:
        return any(e in self.solved for e in self.exercises_by_lesson.get(lesson.stem, []))


def _teaching_section(ident: str, index: dict[str, list[coverage.Section]],
                      lesson: str | None = None) -> coverage.Section | None:
    """The lesson section that teaches ``ident``: a numbered section before the lesson's title,
    in ``lesson`` when given."""
    listed = [s for s in index.get(ident, []) if lesson is None or s.lesson == lesson]
    body = [s for s in listed if not s.heading.startswith("Week ")]
    return (body or listed or [None])[0]


def summarize(path: Path | None = None) -> Summary:
    """Read the whole progress store into a Summary."""
    names = {**syllabus.concepts(), **syllabus.objectives()}
    lessons = coverage.lessons()
    by_stem = {lesson.stem: lesson for lesson in lessons}
    index = coverage.sections()
    domains = {d: Tally() for d in syllabus.domains()}
    sections = {s: Tally() for s in syllabus.sections()}

    exercises = {e.id: e for e in coverage.lesson_exercises()}
    exercises_by_lesson: dict[str, list[str]] = defaultdict(list)

    def exercise_groups(exercise) -> tuple[str | None, set[str]]:
        lesson = by_stem.get(exercise.id.split(".")[0])
        return (lesson.domain if lesson else None), {i[:2] for i in exercise.syllabus if i.startswith("S")}

    for exercise in exercises.values():
        exercises_by_lesson[exercise.id.split(".")[0]].append(exercise.id)
        domain, secs = exercise_groups(exercise)
        if domain in domains:
            domains[domain].exercises += 1
        for s in secs:
            sections[s].exercises += 1

    everything = progress_store.events(path=path)
    solved, tried = set(), set()
    solutions_viewed = 0
    latest_answer: dict[str, progress_store.Event] = {}
    mocks: list[MockAttempt] = []
    grades: dict[str, dict] = {}
    for event in everything:
        if event.kind == "check" and event.item in exercises:
            domain, secs = exercise_groups(exercises[event.item])
            for tally in [domains.get(domain), *(sections[s] for s in secs)]:
                if tally is not None:
                    tally.touch(event.at)
            if event.correct:
                solved.add(event.item)
            elif event.correct is False:
                tried.add(event.item)
        elif event.kind == "solution":
            solutions_viewed += 1
        elif event.kind == "quiz_answer":
            latest_answer[event.item] = event
        elif event.kind == "exam_attempt":
            d = event.detail
            mocks.append(MockAttempt(event.at, event.item, d.get("seed"), float(d.get("percent", 0.0)),
                                     event.correct, bool(d.get("timed_out")), int(d.get("asked", 0))))
        elif event.kind == "grade":
            grades[event.item] = {"at": event.at, **event.detail}
    for item in solved:
        domain, secs = exercise_groups(exercises[item])
        for tally in [domains.get(domain), *(sections[s] for s in secs)]:
            if tally is not None:
                tally.solved += 1

    bank = {q["id"]: q for q in questions.load_bank()}
    per_id: dict[str, list[bool]] = defaultdict(list)
    for qid, event in latest_answer.items():
        q = bank.get(qid, {})
        domain = q.get("domain") or event.detail.get("domain")
        objective = q.get("objective") or event.detail.get("objective", "")
        ok = bool(event.correct)
        for tally in (domains.get(domain), sections.get(objective[:2])):
            if tally is not None:
                tally.questions += 1
                tally.right += ok
                tally.touch(event.at)
        for ident in [*(q.get("concepts") or event.detail.get("concepts", [])), objective]:
            if ident:
                per_id[ident].append(ok)

    weak: list[tuple[float, WeakSpot]] = []
    for ident, verdicts in per_id.items():
        share = sum(verdicts) / len(verdicts)
        if len(verdicts) >= WEAK_MIN_ANSWERS and share < WEAK_BELOW:
            weak.append((share, WeakSpot(ident, names.get(ident, ident),
                                         f"{sum(verdicts)} of {len(verdicts)} questions right",
                                         _teaching_section(ident, index))))
    for item in sorted(tried - solved):
        exercise = exercises[item]
        lesson = by_stem.get(item.split(".")[0])
        section = next((s for i in exercise.syllabus
                        if (s := _teaching_section(i, index, lesson.id if lesson else None))), None)
        where = f"{lesson.id} " if lesson else ""
        weak.append((0.5, WeakSpot(item, f"{where}{exercise.title}", "tried, not solved yet", section)))
    weak.sort(key=lambda pair: (pair[0], pair[1].ident))

    last = max((e.at for e in everything), default=None)
    estimates = {name: readiness.estimate(name, events=[e for e in latest_answer.values()])
                 for name in ("official-2025", "seed")}
    return Summary(domains, sections, lessons, solved, dict(exercises_by_lesson), mocks,
                   [w for _, w in weak], estimates, solutions_viewed, last, grades)


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at else "never"


def _share(tally: Tally) -> str:
    return "-" if tally.accuracy is None else f"{tally.accuracy:.0%}"


def _rows(summary: Summary) -> list[tuple[str, str, Tally]]:
    domains, sections = syllabus.domains(), syllabus.sections()
    return ([("domain", f"{d} {domains[d]['name']}", t) for d, t in summary.domains.items()]
            + [("section", f"{s} {sections[s]['name']}", t) for s, t in summary.sections.items()])


def text(summary: Summary | None = None) -> str:
    """The summary for a terminal."""
    summary = summary or summarize()
    lines = [f"Your progress (last activity {_when(summary.last_at)})", ""]
    header = f"  {'':<45} {'exercises':>10} {'questions':>10} {'right':>6}  last activity"
    for kind, title in (("domain", "Seed domains (study guide)"), ("section", "Official sections (exam guide 2025)")):
        lines += [title, header]
        for k, label, tally in _rows(summary):
            if k == kind:
                lines.append(f"  {label[:45]:<45} {f'{tally.solved}/{tally.exercises}':>10} "
                             f"{tally.questions:>10} {_share(tally):>6}  {_when(tally.last_at)}")
        lines.append("")
    done = sum(summary.lesson_done(lesson) for lesson in summary.lessons)
    lines.append(f"Lessons with every exercise solved: {done} of {len(summary.lessons)}; "
                 f"solutions viewed: {summary.solutions_viewed}")
    if summary.mocks:
        lines.append("Mock exams:")
        for m in summary.mocks:
            flag = {True: "pass", False: "below the mark", None: ""}[m.passed]
            lines.append(f"  {_when(m.at)}  {m.blueprint} seed {m.seed}: {m.percent:.0f}% {flag}"
                         + (" (time ran out)" if m.timed_out else ""))
    else:
        lines.append("Mock exams: none yet (`course exam`, or the mock exam notebook).")
    lines.append("")
    for estimate in summary.readiness.values():
        lines.append(readiness.text(estimate))
    lines += textwrap.wrap(readiness.explain("official-2025"), 100) + [""]
    if summary.weak:
        lines.append("Weak spots (practise with `course quiz --weak`):")
        for spot in summary.weak[:8]:
            where = f"  -> {spot.section.lesson} \u00a7 {spot.section.heading} ({spot.section.path})" if spot.section else ""
            lines.append(f"  - {spot.ident}: {spot.about[:70]} ({spot.reason}){where}")
    else:
        lines.append("Weak spots: none found yet (a concept counts as weak below "
                     f"{WEAK_BELOW:.0%} on at least {WEAK_MIN_ANSWERS} questions).")
    return "\n".join(lines)


def checklist_items(summary: Summary | None = None) -> list[ChecklistItem]:
    """The exam-ready checklist, each item ticked from the progress store."""
    summary = summary or summarize()
    items = []
    solved, total = len(summary.solved), summary.exercises
    items.append(ChecklistItem(f"Every lesson exercise solved ({total})", total > 0 and solved >= total,
                               f"{solved} of {total} solved"))
    thin = [d for d, t in summary.domains.items() if t.questions < 10 or (t.accuracy or 0) < 0.7]
    items.append(ChecklistItem("At least 10 practice questions in every seed domain, 70% or more right in each",
                               not thin, "all five domains there" if not thin else "not yet: " + ", ".join(thin)))
    good = {(m.blueprint, m.seed) for m in summary.mocks if m.percent >= MOCK_GOAL}
    items.append(ChecklistItem(f"Two different mock exams at {MOCK_GOAL}% or more", len(good) >= 2,
                               f"{len(good)} so far"))
    full = [m for m in summary.mocks if not m.timed_out and m.asked >= 45]
    items.append(ChecklistItem("A whole mock exam finished inside its 90 minutes", bool(full),
                               f"{len(full)} finished in time" if full else "none yet"))
    official = summary.readiness.get("official-2025")
    ready = bool(official and official.enough and official.low >= official.blueprint.pass_percent)
    detail = "not enough answers yet" if not (official and official.enough) else \
        f"80% interval {official.low:.0f}-{official.high:.0f}%"
    items.append(ChecklistItem("Readiness: even the low end of your predicted score reaches the 70% target",
                               ready, detail))
    items.append(ChecklistItem("No weak spot left", not summary.weak,
                               f"{len(summary.weak)} left" if summary.weak else "none"))
    return items


def show_checklist() -> None:
    """Display the checklist in a notebook (ticked from the progress store)."""
    from IPython.display import HTML, display

    display(HTML(_checklist_html(checklist_items())))


def _checklist_html(items: list[ChecklistItem]) -> str:
    rows = "".join(f"<li>{'&#9745;' if i.done else '&#9744;'} {html.escape(i.text)} "
                   f"<span style='color:#666'>({html.escape(i.detail)})</span></li>" for i in items)
    return f"<ul style='list-style:none;padding-left:0'>{rows}</ul>"


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def charts(summary: Summary) -> dict[str, str]:
    """The report's plots as PNG data URLs: progress per domain, mock exams over time, readiness."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    found = {}
    figure = Figure(figsize=(7, 3.2))
    ax = figure.subplots()
    labels = list(summary.domains)
    ys = range(len(labels))
    solved = [t.solved / t.exercises if t.exercises else 0 for t in summary.domains.values()]
    right = [t.accuracy or 0 for t in summary.domains.values()]
    ax.barh([y + 0.2 for y in ys], solved, height=0.4, label="exercises solved", color="#4c72b0")
    ax.barh([y - 0.2 for y in ys], right, height=0.4, label="questions right (latest answer)", color="#dd8452")
    ax.axvline(0.7, color="#444", linestyle="--", linewidth=1)
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Progress per seed domain")
    found["domains"] = _png(figure)

    if summary.mocks:
        figure = Figure(figsize=(7, 3))
        ax = figure.subplots()
        for name in sorted({m.blueprint for m in summary.mocks}):
            taken = [m for m in summary.mocks if m.blueprint == name]
            ax.plot(range(1, len(taken) + 1), [m.percent for m in taken], marker="o", label=name)
        ax.axhline(70, color="#444", linestyle="--", linewidth=1, label="70% (pass mark / target)")
        ax.set_ylim(0, 100)
        ax.set_xlabel("attempt")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("percent")
        ax.legend(fontsize=8)
        ax.set_title("Mock exams over time")
        found["mocks"] = _png(figure)

    shown = [r for r in summary.readiness.values() if r.enough]
    if shown:
        figure = Figure(figsize=(7, 1.1 + 0.6 * len(shown)))
        ax = figure.subplots()
        for y, r in enumerate(shown):
            ax.errorbar([r.median], [y], xerr=[[r.median - r.low], [r.high - r.median]], fmt="o", capsize=5)
        ax.axvline(70, color="#444", linestyle="--", linewidth=1)
        ax.set_yticks(range(len(shown)), [r.blueprint.name for r in shown])
        ax.set_xlim(0, 100)
        ax.set_xlabel("predicted mock-exam percent (median, 80% interval)")
        found["readiness"] = _png(figure)
    return found


def _link(spot: WeakSpot, base: str) -> str:
    if spot.section is None:
        return ""
    label = html.escape(f"{spot.section.lesson} \u00a7 {spot.section.heading}".replace("`", ""))
    return f" &rarr; <a href='{html.escape(base + spot.section.link)}'>{label}</a>"


def fragment(summary: Summary | None = None, base: str = "") -> str:
    """The report's body as HTML (used by the page and the widget). ``base`` prefixes the links
    to lesson sections, which are relative to the workspace folder."""
    summary = summary or summarize()
    pictures = charts(summary)
    out = [f"<p>Last activity: {_when(summary.last_at)}. Solutions viewed: {summary.solutions_viewed}.</p>"]
    for kind, title in (("domain", "Seed domains (study guide)"), ("section", "Official sections (exam guide 2025)")):
        out.append(f"<h3>{title}</h3><table><tr><th></th><th>exercises solved</th><th>questions answered</th>"
                   "<th>right</th><th>last activity</th></tr>")
        for k, label, tally in _rows(summary):
            if k == kind:
                out.append(f"<tr><td>{html.escape(label)}</td><td>{tally.solved} / {tally.exercises}</td>"
                           f"<td>{tally.questions}</td><td>{_share(tally)}</td><td>{_when(tally.last_at)}</td></tr>")
        out.append("</table>")
    out.append(f"<img alt='progress per seed domain' src='{pictures['domains']}'>")
    out.append("<h3>Readiness</h3>")
    for estimate in summary.readiness.values():
        out.append(f"<pre>{html.escape(readiness.text(estimate))}</pre>")
    out.append(f"<p><small>{html.escape(readiness.explain('official-2025'))}</small></p>")
    if "readiness" in pictures:
        out.append(f"<img alt='predicted score' src='{pictures['readiness']}'>")
    out.append("<h3>Mock exams</h3>")
    if summary.mocks:
        out.append("<table><tr><th>when</th><th>blueprint</th><th>seed</th><th>percent</th><th></th></tr>")
        for m in summary.mocks:
            note = "time ran out" if m.timed_out else ("pass" if m.passed else "")
            out.append(f"<tr><td>{_when(m.at)}</td><td>{m.blueprint}</td><td>{m.seed}</td>"
                       f"<td>{m.percent:.0f}%</td><td>{note}</td></tr>")
        out.append(f"</table><img alt='mock exams over time' src='{pictures['mocks']}'>")
    else:
        out.append("<p>None yet.</p>")
    out.append("<h3>Weak spots</h3>")
    if summary.weak:
        out.append("<ul>" + "".join(f"<li><b>{html.escape(s.ident)}</b> {html.escape(s.about)} "
                                    f"({html.escape(s.reason)}){_link(s, base)}</li>" for s in summary.weak[:12]) + "</ul>")
    else:
        out.append("<p>None found yet.</p>")
    out.append("<h3>Exam-ready checklist</h3>" + _checklist_html(checklist_items(summary)))
    return "\n".join(out)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Course progress</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1rem; }}
td, th {{ border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }}
img {{ max-width: 100%; }}
pre {{ background: #f6f6f6; padding: .5rem; white-space: pre-wrap; }}
</style></head>
<body><h1>Databricks ML Associate course: your progress</h1>
<p>Generated {when} from your progress store.</p>
{body}
</body></html>
"""


def write_report(target: Path, summary: Summary | None = None, base: str = "") -> Path:
    """Write the report as one self-contained HTML page (plots inlined)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    page = PAGE.format(when=_when(time.time()), body=fragment(summary, base))
    partial = target.with_name(target.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    return target


def progress() -> None:
    """The progress report in JupyterLab, with a button that reads the store again."""
    import ipywidgets as widgets
    from IPython.display import display

    body = widgets.HTML(fragment())
    refresh = widgets.Button(description="Refresh", icon="refresh")

    def again(_button) -> None:
        body.value = fragment()

    refresh.on_click(again)
    display(widgets.VBox([refresh, body]))
