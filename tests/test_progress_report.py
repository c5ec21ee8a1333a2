"""The learner's summary, report, widget and checklist, read from a scripted progress store."""
import re

import pytest

from course import coverage, exam, progress, progress_report, questions


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    return progress.default_path()


def _answer(q, right: bool, mode="practice"):
    chosen = q["answer"] if right else [(q["answer"][0] + 1) % len(q["options"])]
    assert exam.record_answer(q, chosen, mode) is right


def _bank(**match):
    return [q for q in questions.load_bank() if all(q[k] == v for k, v in match.items())]


def test_an_empty_store_says_so(store):
    summary = progress_report.summarize()
    assert summary.solved == set() and summary.mocks == [] and summary.weak == []
    assert summary.exercises == len(coverage.lesson_exercises())
    text = progress_report.text(summary)
    assert "last activity never" in text and "Mock exams: none yet" in text
    assert "Not enough answers" in text and "Predicted score" not in text


def test_only_a_correct_check_solves_an_exercise(store):
    first, second, third = coverage.lesson_exercises()[:3]
    progress.record("check", first.id, correct=False, detail={"status": "wrong"})
    progress.record("check", first.id, correct=True, detail={"status": "correct"})
    progress.record("check", second.id, correct=None, detail={"status": "well formed"})
    progress.record("check", third.id, correct=False, detail={"status": "wrong"})
    summary = progress_report.summarize()
    assert summary.solved == {first.id}
    assert sum(t.solved for t in summary.domains.values()) == 1
    tried = [w for w in summary.weak if w.ident == third.id]
    assert tried and tried[0].reason == "tried, not solved yet"
    assert not [w for w in summary.weak if w.ident in (first.id, second.id)]


def test_a_question_counts_by_its_latest_answer(store):
    q1, q2 = _bank(domain="D3")[:2]
    _answer(q1, False)
    _answer(q1, True)
    _answer(q2, True)
    _answer(q2, False)
    d3 = progress_report.summarize().domains["D3"]
    assert (d3.questions, d3.right) == (2, 1)
    assert d3.last_at is not None


def test_a_weak_concept_links_to_the_section_that_teaches_it(store):
    concept = "D3.grid-count"
    for q in [q for q in questions.load_bank() if concept in q["concepts"]][:3]:
        _answer(q, False)
    weak = {w.ident: w for w in progress_report.summarize().weak}
    assert concept in weak and weak[concept].reason == "0 of 3 questions right"
    section = weak[concept].section
    assert section is not None and not section.heading.startswith("Week ")
    # the link names a lesson in the workspace and a heading that really is in it
    import nbformat
    notebook = nbformat.read(coverage.notebook_folder() / section.path, as_version=4)
    headings = [line.lstrip("# ").strip() for c in notebook.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("#")]
    assert section.heading in headings
    assert section.link.startswith(section.path + "#") and " " not in section.link


def test_mock_exams_are_listed_with_their_scores(store):
    session = exam.ExamSession.from_blueprint("official-2025", 2)
    for q in session.questions[:40]:
        session.answer(q["answer"], q["id"])
    outcome = session.submit()
    summary = progress_report.summarize()
    assert [(m.blueprint, m.seed, m.percent) for m in summary.mocks] == \
        [("official-2025", 2, round(outcome.percent, 1))]
    assert f"official-2025 seed 2: {outcome.percent:.0f}%" in progress_report.text(summary)
    # every answer of the exam is in the tallies (unanswered ones count as wrong)
    assert summary.answered == len(session.questions)


def _mock(percent, seed, asked=48, timed_out=False):
    progress.record("exam_attempt", "official-2025", correct=percent >= 70,
                    detail={"seed": seed, "percent": percent, "asked": asked, "timed_out": timed_out})


def test_the_checklist_ticks_itself(store):
    items = {i.text: i for i in progress_report.checklist_items()}
    two_mocks = next(t for t in items if t.startswith("Two different mock exams"))
    whole = next(t for t in items if t.startswith("A whole mock exam"))
    assert not items[two_mocks].done and not items[whole].done
    _mock(85, 1)
    _mock(90, 1)                        # the same exam again does not count twice
    items = {i.text: i for i in progress_report.checklist_items()}
    assert not items[two_mocks].done and items[whole].done
    _mock(81, 3, timed_out=True)
    assert {i.text: i for i in progress_report.checklist_items()}[two_mocks].done


def test_the_report_is_one_self_contained_page(store, tmp_path):
    q = _bank(domain="D2")[0]
    _answer(q, True)
    _mock(72, 1)
    page = progress_report.write_report(tmp_path / "out" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=['"]https?:""", page)      # no external asset or script
    assert page.count("data:image/png;base64,") >= 2               # progress and mock-exam plots
    assert "Exam-ready checklist" in page and "D2 ML Development and Feature Engineering" in page


def test_the_widget_shows_the_report_and_refreshes(store, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: shown.extend(objs))
    progress_report.progress()
    box = shown[0]
    refresh, body = box.children
    assert "Mock exams" in body.value and "None yet." in body.value
    _mock(64, 4)
    refresh.click()
    assert "64%" in body.value
