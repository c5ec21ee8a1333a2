import time

from course import exam, progress
from course.exam_widgets import ExamWidget, to_html




def test_code_in_stems_is_highlighted():
    rendered = to_html("What does this print?\n\n```python\nprint(1 + 1)\n```")
    assert "<span" in rendered and "print" in rendered and "What does this print?" in rendered


def test_answer_flag_navigate_and_submit(clock):
    session = exam.ExamSession.from_blueprint("seed", 1, clock=clock)
    view = ExamWidget(session, tick_seconds=0)
    assert "Question 1 of 45" in view.stem.value
    first_shown = session.questions[0]
    assert first_shown["objective"] not in view.stem.value and f"· {first_shown['domain']}" not in view.stem.value, \
        "a mock exam names a question's domain and objective only in the review"
    single_index = next(i for i, q in enumerate(session.questions) if q["type"] == "single")
    view.nav_buttons[single_index].click()
    first = session.questions[single_index]
    view.single.value = view.single.options[first["answer"][0]]
    assert session.answers[first["id"]] == set(first["answer"])
    assert view.nav_buttons[single_index].button_style == "success"
    view.next_button.click()
    assert session.position == single_index + 1
    view.flag_button.value = True
    flagged = session.questions[single_index + 1]["id"]
    assert flagged in session.flagged and view.nav_buttons[single_index + 1].button_style == "warning"
    multi_index = next(i for i, q in enumerate(session.questions) if q["type"] == "multi")
    view.nav_buttons[multi_index].click()
    multi = session.questions[multi_index]
    for i in multi["answer"]:
        view.multi[i].value = True
    assert session.answers[multi["id"]] == set(multi["answer"])
    view.submit_button.click()
    outcome = session.outcome
    assert outcome.score == 2
    assert "Score: 2 / 45" in view.results.children[0].value and "NOT YET" in view.results.children[0].value
    assert view.results.children[1].value[:8] == b"\x89PNG\r\n\x1a\n"
    review = view.results.children[3]
    assert len(review.children) == 45
    assert review.get_title(0).endswith(f"({first_shown['domain']})"), "the review names each question's domain"
    assert review.get_title(single_index).startswith(f"✔ {single_index + 1}.")
    assert view.next_button.disabled


def test_countdown_submits_at_zero():
    session = exam.ExamSession.from_blueprint("official-2025", 2, minutes=0.01)
    view = ExamWidget(session, tick_seconds=0.05)
    deadline = time.time() + 10
    while not view.results.children and time.time() < deadline:
        time.sleep(0.05)
    assert session.outcome is not None and session.outcome.timed_out
    assert "Time is up" in view.results.children[0].value


def test_practice_mode_explains_after_each_answer():
    picked = exam.select_practice(domain="D1", count=3, seed=2)
    session = exam.ExamSession(picked, minutes=None, mode="practice")
    view = ExamWidget(session, tick_seconds=0)
    q = picked[0]
    assert f"· {q['domain']} · {q['objective']}" in view.stem.value, "a practice quiz names its topic"
    wrong = next(i for i in range(len(q["options"])) if i not in q["answer"])
    if q["type"] == "single":
        view.single.value = view.single.options[wrong]
    else:
        view.multi[wrong].value = True
        for i in [i for i in range(len(q["options"])) if i not in q["answer"] and i != wrong][: q["choose"] - 1]:
            view.multi[i].value = True
    before = len(progress.events(kind="quiz_answer", item=q["id"]))
    view.check_button.click()
    assert "Not this time" in view.feedback.value and "Reference" in view.feedback.value
    recorded = progress.events(kind="quiz_answer", item=q["id"])
    assert len(recorded) == before + 1 and recorded[-1].correct is False


def test_launchers_display_the_widget_and_return_nothing(monkeypatch):
    from IPython import display as ipython_display

    from course import exam_widgets

    shown = []
    monkeypatch.setattr(ipython_display, "display", lambda *objects, **_: shown.extend(objects))
    assert exam_widgets.mock_exam("seed", seed=1, minutes=0.5) is None
    assert exam_widgets.practice(domain="D2", count=2, seed=1) is None
    assert [type(w).__name__ for w in shown] == ["VBox", "VBox"]
