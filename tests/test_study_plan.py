"""Study plans and the next step, from where a scripted learner stands."""
import pytest

from course import coverage, exam, progress, progress_report, questions, study_plan


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    return progress.default_path()


def _solve(exercise_ids):
    for ident in exercise_ids:
        progress.record("check", ident, correct=True, detail={"status": "correct"})


def test_the_three_week_plan_takes_every_lesson_once_in_course_order():
    lessons = [s.lesson for s in study_plan.plan("three-week") if s.lesson]
    assert lessons == [lesson.id for lesson in coverage.lessons()]


def test_every_plan_names_real_notebooks():
    folder = coverage.notebook_folder()
    for name in study_plan.PLANS:
        for step in study_plan.plan(name):
            if step.path:
                assert (folder / step.path).is_file(), (name, step)
    assert set(study_plan.FAST_TRACK) <= {lesson.id for lesson in coverage.lessons()}


def test_an_unknown_plan_is_refused():
    with pytest.raises(ValueError, match="unknown plan"):
        study_plan.plan("two-day")


def test_a_new_learner_starts_with_the_first_lesson(store):
    advice = study_plan.next_steps(progress_report.summarize())
    assert advice[0].startswith("Next lesson: w1-01 ")


def test_a_started_lesson_comes_first_to_finish(store):
    summary = progress_report.summarize()
    first = summary.exercises_by_lesson[coverage.lessons()[0].stem]
    _solve(first[:1])
    advice = study_plan.next_steps(progress_report.summarize())
    assert advice[0].startswith("Finish: w1-01 ")
    _solve(first)
    assert study_plan.next_steps(progress_report.summarize())[0].startswith("Next lesson: w1-02 ")


def test_the_fast_track_skips_the_lessons_a_spark_user_knows(store):
    advice = study_plan.next_steps(progress_report.summarize(), "fast-track")
    assert advice[0].startswith("Next lesson: w1-01 ")
    summary = progress_report.summarize()
    _solve(summary.exercises_by_lesson[coverage.lessons()[0].stem])
    assert study_plan.next_steps(progress_report.summarize(), "fast-track")[0].startswith("Next lesson: w2-03 ")


def test_the_weakest_concept_is_named_once_there_is_enough_practice(store):
    bank = questions.load_bank()
    weak = [q for q in bank if "D3.grid-count" in q["concepts"]][:4]
    others = [q for q in bank if q["domain"] == "D1"][:20]
    for q in weak:
        exam.record_answer(q, [(q["answer"][0] + 1) % len(q["options"])], "practice")
    for q in others:
        exam.record_answer(q, q["answer"], "practice")
    advice = study_plan.next_steps(progress_report.summarize())
    assert any("course quiz --concept D3.grid-count" in line for line in advice), advice


def test_with_every_lesson_done_a_mock_exam_is_next_and_an_untaken_one(store):
    _solve(e.id for e in coverage.lesson_exercises())
    progress.record("exam_attempt", "official-2025", correct=False,
                    detail={"seed": 1, "percent": 60.0, "asked": 48, "timed_out": False})
    advice = study_plan.next_steps(progress_report.summarize())
    assert "mock exam" in advice[0] and "--seed 2" in advice[0], advice


def test_the_plan_text_ticks_finished_lessons(store):
    summary = progress_report.summarize()
    _solve(summary.exercises_by_lesson[coverage.lessons()[0].stem])
    text = study_plan.text(name="three-week")
    assert "[x] w1-01 " in text and "[ ] w1-02 " in text and "Next:" in text
    _solve(summary.exercises_by_lesson[coverage.lessons()[1].stem][:1])
    assert "[~] w1-02 " in study_plan.text(name="three-week")
