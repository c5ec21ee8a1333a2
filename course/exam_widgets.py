"""Mock exams and practice quizzes in JupyterLab, with ipywidgets.

    from course.exam_widgets import mock_exam, practice
    mock_exam("official-2025", seed=1)     # 48 questions, 90-minute countdown
    practice(concept="D2.imputer")         # feedback after every answer

The exam has a visible countdown (it submits by itself at zero), a question navigator
(answered questions green, flagged ones amber), flag for review, single and multiple selection
and submit; then the score, pass or not against the blueprint's mark, a per-domain bar chart
and a review of every question with its explanation. Code in stems is syntax-highlighted.
"""
from __future__ import annotations

import html
import io
import threading

import ipywidgets as widgets
import mistune
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name

from course import exam, syllabus


class _HighlightRenderer(mistune.HTMLRenderer):
    def block_code(self, code: str, info: str | None = None) -> str:
        try:
            lexer = get_lexer_by_name(info.strip()) if info and info.strip() else PythonLexer()
        except Exception:
            lexer = PythonLexer()
        return highlight(code, lexer, HtmlFormatter(noclasses=True, nobackground=False))


_markdown = mistune.create_markdown(renderer=_HighlightRenderer(escape=True))


def to_html(text: str) -> str:
    """Markdown with highlighted code blocks, as HTML (what the stem widget shows)."""
    return _markdown(str(text))


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "untimed"
    minutes, secs = divmod(int(seconds), 60)
    return f"time left {minutes:02d}:{secs:02d}"


def domain_chart(outcome: exam.Outcome) -> bytes:
    """A horizontal bar chart of the share right per seed domain, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = {d: v["name"] for d, v in syllabus.domains().items()}
    table = outcome.by_group("domain")
    labels = [f"{d} {names.get(d, d)}" for d in table]
    shares = [100 * right / asked for right, asked in table.values()]
    figure = Figure(figsize=(6.5, 0.45 * len(labels) + 1.0))
    ax = figure.subplots()
    bars = ax.barh(labels[::-1], shares[::-1], color=["#2e7d32" if s >= 70 else "#c62828" for s in shares[::-1]])
    ax.axvline(outcome.blueprint.pass_percent if outcome.blueprint else 70, color="black", linestyle="--", linewidth=1)
    for bar, (right, asked) in zip(bars, list(table.values())[::-1]):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{right}/{asked}", va="center", fontsize=9)
    ax.set_xlim(0, 110)
    ax.set_xlabel("% correct")
    ax.set_title("Score by exam domain")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


class ExamWidget:
    """The widget tree and its behaviour; ``widget`` is what the notebook displays."""

    def __init__(self, session: exam.ExamSession, tick_seconds: float = 1.0):
        self.session = session
        self.tick_seconds = tick_seconds
        self.practice = session.mode == "practice"
        self._stop = threading.Event()
        title = session.blueprint.title if session.blueprint else "Practice quiz"
        self.header = widgets.HTML(f"<h3 style='margin:0'>{html.escape(title)}</h3>")
        self.countdown = widgets.HTML()
        self.status = widgets.HTML()
        self.nav_buttons = [widgets.Button(description=str(i + 1), layout=widgets.Layout(width="42px"))
                            for i in range(len(session.questions))]
        for i, button in enumerate(self.nav_buttons):
            button.on_click(lambda _, i=i: self.go(i))
        self.navigator = widgets.GridBox(self.nav_buttons, layout=widgets.Layout(
            grid_template_columns="repeat(12, 46px)", grid_gap="2px"))
        self.stem = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.single = widgets.RadioButtons(layout=widgets.Layout(width="100%"))
        self.multi: list[widgets.Checkbox] = []
        self.multi_box = widgets.VBox()
        self.feedback = widgets.HTML()
        self.previous_button = widgets.Button(description="◀ Previous")
        self.next_button = widgets.Button(description="Next ▶")
        self.flag_button = widgets.ToggleButton(description="⚑ Flag for review")
        self.check_button = widgets.Button(description="Check answer", button_style="info")
        self.submit_button = widgets.Button(description="Submit", button_style="danger")
        self.previous_button.on_click(lambda _: self.go(self.session.position - 1))
        self.next_button.on_click(lambda _: self.go(self.session.position + 1))
        self.flag_button.observe(self._flag, names="value")
        self.check_button.on_click(lambda _: self.check())
        self.submit_button.on_click(lambda _: self.submit())
        self.single.observe(lambda change: self._save(), names="value")
        self.results = widgets.VBox()
        buttons = [self.previous_button, self.next_button]
        buttons += [self.check_button] if self.practice else [self.flag_button]
        buttons.append(self.submit_button)
        self.question_box = widgets.VBox([self.navigator, self.stem, self.single, self.multi_box,
                                          self.feedback, widgets.HBox(buttons)])
        style = widgets.HTML(
            "<style>.course-exam .widget-radio-box label, .course-exam .widget-checkbox label,"
            " .course-exam .widget-html-content {white-space: normal; height: auto; line-height: 1.4}"
            " .course-exam .widget-radio-box label {margin-bottom: 4px}</style>")
        self.widget = widgets.VBox([style, widgets.HBox([self.header, self.countdown]), self.status,
                                    self.question_box, self.results])
        self.widget.add_class("course-exam")
        self._loading = False
        self.show()
        self._tick()
        if session.minutes is not None and tick_seconds > 0:
            threading.Thread(target=self._run_clock, daemon=True).start()

    # --- display -----------------------------------------------------------------------
    def show(self) -> None:
        session, q = self.session, self.session.current
        self._loading = True
        # A practice quiz names the topic; a mock exam, like the real one, names it only in the review.
        topic = f" · {q['domain']} · {q['objective']}" if self.practice else ""
        self.stem.value = (f"<p><b>Question {session.position + 1} of {len(session.questions)}</b>{topic}</p>"
                           + to_html(q["stem"]))
        chosen = session.answers.get(q["id"], set())
        labels = [f"{letter}) {option}" for letter, option in zip(exam.letters(len(q["options"])), q["options"])]
        if q["type"] == "single":
            self.single.options = labels
            self.single.value = labels[next(iter(chosen))] if chosen else None
            self.single.layout.display = None
            self.multi_box.layout.display = "none"
        else:
            self.multi = [widgets.Checkbox(value=i in chosen, description=label, indent=False,
                                           layout=widgets.Layout(width="100%")) for i, label in enumerate(labels)]
            for box in self.multi:
                box.observe(lambda change: self._save(), names="value")
            self.multi_box.children = [widgets.HTML(f"<i>Choose {q['choose']}.</i>"), *self.multi]
            self.single.layout.display = "none"
            self.multi_box.layout.display = None
        self.flag_button.value = q["id"] in session.flagged
        self.feedback.value = ""
        self._loading = False
        self._paint_navigator()

    def _paint_navigator(self) -> None:
        for i, (button, q) in enumerate(zip(self.nav_buttons, self.session.questions)):
            if q["id"] in self.session.flagged:
                button.button_style = "warning"
            elif q["id"] in self.session.answers:
                button.button_style = "success"
            else:
                button.button_style = ""
            button.description = f"[{i + 1}]" if i == self.session.position else str(i + 1)
        answered = len(self.session.answers)
        self.status.value = (f"{answered} of {len(self.session.questions)} answered · "
                             f"{len(self.session.flagged)} flagged")

    def _tick(self) -> None:
        remaining = self.session.remaining()
        self.countdown.value = f"<h3 style='margin:0 0 0 2em'>{_clock(remaining)}</h3>"

    def _run_clock(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            if self.session.outcome is not None:
                return
            self._tick()
            if self.session.expired():
                self.submit(timed_out=True)
                return

    # --- actions -----------------------------------------------------------------------
    def selected(self) -> set[int]:
        q = self.session.current
        if q["type"] == "single":
            return set() if self.single.value is None else {self.single.options.index(self.single.value)}
        return {i for i, box in enumerate(self.multi) if box.value}

    def _save(self) -> None:
        if self._loading or self.session.outcome is not None:
            return
        chosen = self.selected()
        if not chosen:
            self.session.answers.pop(self.session.current["id"], None)
        else:
            try:
                self.session.answer(chosen)
            except TimeoutError:
                self.submit(timed_out=True)
                return
        self._paint_navigator()

    def go(self, index: int) -> None:
        if self.session.outcome is None:
            self.session.go(index)
            self.show()

    def _flag(self, change) -> None:
        if self._loading or self.session.outcome is not None:
            return
        q = self.session.current
        if (q["id"] in self.session.flagged) != change["new"]:
            self.session.toggle_flag()
        self._paint_navigator()

    def check(self) -> None:
        """Practice mode: judge the current answer and explain it."""
        q = self.session.current
        chosen = self.selected()
        if q["type"] == "multi" and len(chosen) != q["choose"]:
            self.feedback.value = f"<p>Choose {q['choose']} options, then check.</p>"
            return
        if not chosen:
            self.feedback.value = "<p>Pick an option, then check.</p>"
            return
        exam.record_answer(q, chosen, self.session.mode)
        self.feedback.value = self._explanation_html(q, chosen)

    def _explanation_html(self, q: dict, chosen: set[int]) -> str:
        valid = exam.letters(len(q["options"]))
        ok = exam.is_correct(q, chosen)
        key = ", ".join(valid[i] for i in sorted(q["answer"]))
        head = ("<b style='color:#2e7d32'>✔ Correct.</b>" if ok else
                f"<b style='color:#c62828'>✘ Not this time: the answer is {key}.</b>")
        lines = "".join(f"<li><b>{valid[i]}</b> {html.escape(str(line))}</li>"
                        for i, line in enumerate(q["explanation"]["options"]))
        return (f"<div style='border-left:4px solid #999;padding-left:8px'>{head} "
                f"{html.escape(str(q['explanation']['why']))}<ul>{lines}</ul>"
                f"<small>Reference: {html.escape(str(q['reference']))}</small></div>")

    def submit(self, timed_out: bool = False) -> exam.Outcome:
        outcome = self.session.submit(timed_out=timed_out)
        self._stop.set()
        self._tick()
        for control in (self.previous_button, self.next_button, self.flag_button, self.check_button,
                        self.submit_button, self.single, *self.multi, *self.nav_buttons):
            control.disabled = True
        self.question_box.layout.display = "none"
        self.results.children = self._results_children(outcome)
        return outcome

    def _results_children(self, outcome: exam.Outcome) -> list:
        parts = []
        if outcome.timed_out:
            parts.append("<p><b>Time is up: your answers were submitted.</b></p>")
        parts.append(f"<h3>Score: {outcome.score} / {len(outcome.questions)} ({outcome.percent:.0f}%)</h3>")
        if outcome.blueprint is not None:
            colour = "#2e7d32" if outcome.passed else "#c62828"
            verdict = "PASS" if outcome.passed else "NOT YET"
            parts.append(f"<p style='color:{colour}'><b>{verdict}</b> against the "
                         f"{html.escape(outcome.blueprint.pass_label)}</p>")
        summary = widgets.HTML("".join(parts))
        chart = widgets.Image(value=domain_chart(outcome), format="png", layout=widgets.Layout(width="600px"))
        review = widgets.Accordion()
        items = []
        for index, (q, ok) in enumerate(zip(outcome.questions, outcome.correct)):
            chosen = outcome.answers.get(q["id"], set())
            body = widgets.HTML(to_html(q["stem"]) + "<ol type='A'>" + "".join(
                f"<li>{html.escape(str(o))}</li>" for o in q["options"]) + "</ol>" + self._explanation_html(q, chosen))
            items.append((f"{'✔' if ok else '✘'} {index + 1}. {q['id']} ({q['domain']})", body))
        review.children = [body for _, body in items]
        for i, (title, _) in enumerate(items):
            review.set_title(i, title)
        return [summary, chart, widgets.HTML("<h4>Review every question</h4>"), review]


def mock_exam(blueprint: str = "official-2025", seed: int = 1, minutes: float | None = None) -> None:
    """Display a timed mock exam (an ``ExamWidget``'s ``.session`` holds the state of one)."""
    from IPython.display import display

    display(ExamWidget(exam.ExamSession.from_blueprint(blueprint, seed, minutes=minutes)).widget)


def practice(domain: str | None = None, concept: str | None = None, objective: str | None = None,
             weak: bool = False, count: int = 10, seed: int | None = None) -> None:
    """Display a practice quiz with feedback after each answer."""
    from IPython.display import display

    picked = exam.select_practice(domain=domain, concept=concept, objective=objective, weak=weak,
                                  count=count, seed=seed)
    display(ExamWidget(exam.ExamSession(picked, minutes=None, mode="practice")).widget)
