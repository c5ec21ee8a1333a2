"""The readiness estimate: honest intervals on simulated learners, the data rules, the text."""
from __future__ import annotations

import random

import numpy as np
import pytest

from course import exam, progress, readiness
from course.progress import Event

OFFICIAL = exam.BLUEPRINTS["official-2025"]
SEED = exam.BLUEPRINTS["seed"]


def answer(group: str, item: str, correct: bool, at: float, mode: str = "practice") -> Event:
    """A quiz answer tagged like ``exam.record_answer`` tags it, placed in ``group`` (D1..D5 or S1..S4)."""
    if group.startswith("S"):
        detail = {"domain": "D1", "objective": f"{group}.01"}
    else:
        detail = {"domain": group, "objective": "S1.01"}
    detail.update(mode=mode, concepts=[], chosen=[0])
    return Event(at, "quiz_answer", item, None, correct, detail)


def history(results: dict[str, list[bool]], start: float = 0.0) -> list[Event]:
    """Events for each group's answers, one question each, in time order within the group."""
    events, at = [], start
    for group, answers in results.items():
        for i, ok in enumerate(answers):
            at += 1
            events.append(answer(group, f"{group}-{start:.0f}-{i}", ok, at))
    return events


def groups(estimate: readiness.Readiness) -> dict[str, tuple[int, int]]:
    return {g.group: (g.answered, g.right) for g in estimate.groups}


@pytest.mark.parametrize("blueprint", [OFFICIAL, SEED], ids=lambda b: b.name)
def test_the_80_percent_interval_holds_the_actual_score_about_80_percent_of_the_time(blueprint):
    """Learners of known skill: answer histories drawn from their true skills, then an actual mock
    exam drawn from the same skills. The interval must hold that score most of the time, without
    being uselessly wide."""
    rng = np.random.default_rng(2025)
    allocation = blueprint.allocation()
    learners, inside, widths = 200, 0, []
    for learner in range(learners):
        skill = {g: rng.uniform(0.4, 0.95) for g in allocation}
        results = {g: list(rng.random(rng.integers(8, 21)) < skill[g]) for g in allocation}
        estimate = readiness.estimate(blueprint, events=history(results), now=1e9)
        assert estimate.enough
        actual = 100.0 * sum(rng.binomial(n, skill[g]) for g, n in allocation.items()) / blueprint.total
        inside += estimate.low <= actual <= estimate.high
        widths.append(estimate.high - estimate.low)
    coverage = inside / learners
    assert 0.70 <= coverage <= 0.95, f"coverage {coverage:.2f}"
    assert np.mean(widths) < 30, f"mean width {np.mean(widths):.1f} points"
    assert np.mean(widths) > 5, "an interval this narrow would ignore the exam's own randomness"


def test_too_few_answers_in_a_group_names_the_group_and_shows_no_number():
    results = {"S1": [True] * 10, "S2": [True] * 10, "S3": [True] * 10, "S4": [True, False]}
    estimate = readiness.estimate(OFFICIAL, events=history(results), now=1e9)
    assert not estimate.enough
    assert "answer at least 3 more questions in S4 Model Deployment" in estimate.missing
    shown = readiness.text(estimate)
    assert estimate.missing in shown
    assert "%" not in shown and "Predicted" not in shown


def test_too_few_answers_in_all_asks_for_more_anywhere():
    results = {g: [True] * 6 for g in OFFICIAL.allocation()}  # 24 answers, 5+ in every section
    estimate = readiness.estimate(OFFICIAL, events=history(results), now=1e9)
    assert not estimate.enough
    assert estimate.missing == ("Not enough answers yet for a prediction: "
                                "answer at least 6 more questions in any section.")


def test_several_gaps_are_listed_together():
    estimate = readiness.estimate(SEED, events=history({"D1": [True] * 30, "D2": [False] * 4}), now=1e9)
    assert estimate.missing == (
        "Not enough answers yet for a prediction: answer at least 1 more question in D2 ML Development and "
        "Feature Engineering, 5 more in D3 Model Training and Evaluation, 5 more in D4 Model Deployment "
        "and Management and 5 more in D5 ML Operations (MLOps).")


def test_enough_answers_show_a_prediction():
    results = {g: [True, False, True] * 4 for g in OFFICIAL.allocation()}
    estimate = readiness.estimate(OFFICIAL, events=history(results), now=1e9)
    assert estimate.enough and estimate.missing == ""
    shown = readiness.text(estimate)
    assert f"Predicted score: {estimate.median:.0f}%" in shown
    assert "practice target of 70%" in shown
    assert estimate.low <= estimate.median <= estimate.high


def test_answers_older_than_the_window_are_ignored():
    old = history({"S1": [False] * 40}, start=0)
    recent = {"S1": [True] * readiness.WINDOW, "S2": [True] * 8, "S3": [True] * 8, "S4": [True] * 8}
    with_old = readiness.estimate(OFFICIAL, events=old + history(recent, start=1000), now=1e9)
    without = readiness.estimate(OFFICIAL, events=history(recent, start=1000), now=1e9)
    assert groups(with_old)["S1"] == (readiness.WINDOW, readiness.WINDOW)
    assert with_old == without


def test_each_question_counts_once_with_its_latest_answer():
    base = {"S1": [True] * 10, "S2": [True] * 10, "S3": [True] * 10}
    retried = [answer("S4", f"S4-{i}", False, 500 + i) for i in range(6)]
    retried += [answer("S4", f"S4-{i}", True, 600 + i) for i in range(6)]   # right after the explanation
    estimate = readiness.estimate(OFFICIAL, events=history(base) + retried, now=1e9)
    assert groups(estimate)["S4"] == (6, 6)
    forgot = [answer("S4", f"S4-{i}", True, 500 + i) for i in range(6)]
    forgot += [answer("S4", "S4-0", False, 700)]
    assert groups(readiness.estimate(OFFICIAL, events=history(base) + forgot, now=1e9))["S4"] == (6, 5)


def test_answers_after_now_and_untagged_or_other_events_are_ignored():
    results = {g: [True] * 8 for g in OFFICIAL.allocation()}
    events = history(results)
    later = [answer("S2", f"late-{i}", False, 5000 + i) for i in range(10)]
    untagged = [Event(10.0, "quiz_answer", f"bare-{i}", None, False, {}) for i in range(10)]
    checks = [Event(10.0, "check", "w1-02.q1", "w1-02", False,
                    {"domain": "D1", "objective": "S2.01"}) for _ in range(10)]
    estimate = readiness.estimate(OFFICIAL, events=events + later + untagged + checks, now=4000)
    assert estimate == readiness.estimate(OFFICIAL, events=events, now=4000)
    assert groups(estimate)["S2"] == (8, 8)
    assert groups(readiness.estimate(OFFICIAL, events=events + later, now=1e9))["S2"] == (18, 8)


def test_a_perfect_learner_is_very_likely_to_pass():
    results = {g: [True] * readiness.WINDOW for g in SEED.allocation()}
    estimate = readiness.estimate(SEED, events=history(results), now=1e9)
    assert estimate.p_pass > 0.9
    assert estimate.median >= 90


def test_a_weak_learner_is_unlikely_to_pass():
    results = {g: [True, False] * 10 for g in SEED.allocation()}  # half right everywhere
    estimate = readiness.estimate(SEED, events=history(results), now=1e9)
    assert estimate.p_pass < 0.1
    assert 40 <= estimate.median <= 60


def test_groups_weigh_as_the_blueprint_weighs_them():
    """S1 asks 18 questions and S4 asks 6: strength in S1 is worth more than strength in S4."""
    middle = {"S2": [True, False] * 5, "S3": [True, False] * 5}
    strong_s1 = readiness.estimate(OFFICIAL, events=history({"S1": [True] * 20, "S4": [False] * 20, **middle}),
                                   now=1e9)
    strong_s4 = readiness.estimate(OFFICIAL, events=history({"S1": [False] * 20, "S4": [True] * 20, **middle}),
                                   now=1e9)
    assert OFFICIAL.allocation()["S1"] > OFFICIAL.allocation()["S4"]
    assert strong_s1.median > strong_s4.median + 15


def test_more_answers_narrow_the_interval():
    few = readiness.estimate(OFFICIAL, events=history({g: [True, True, False] * 3 for g in "S1 S2 S3 S4".split()}),
                             now=1e9)
    many = readiness.estimate(OFFICIAL, events=history({g: [True, True, False] * 10 for g in "S1 S2 S3 S4".split()}),
                              now=1e9)
    assert many.high - many.low < few.high - few.low


def test_the_same_answers_give_the_same_numbers_in_any_order():
    rng = random.Random(7)
    results = {g: [rng.random() < 0.7 for _ in range(12)] for g in OFFICIAL.allocation()}
    events = history(results)
    first = readiness.estimate(OFFICIAL, events=events, now=1e9)
    shuffled = events[:]
    rng.shuffle(shuffled)
    assert readiness.estimate(OFFICIAL, events=shuffled, now=1e9) == first
    assert readiness.text(readiness.estimate(OFFICIAL, events=events, now=1e9)) == readiness.text(first)


def test_by_default_it_reads_the_progress_store(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    pools = exam.pools("section")
    for section in OFFICIAL.allocation():
        for q in pools[section][:5]:
            exam.record_answer(q, q["answer"], "practice")
    q = pools["S4"][0]
    wrong = next(i for i in range(len(q["options"])) if i not in q["answer"])
    exam.record_answer(q, [wrong], "exam")   # answered again, wrong this time
    assert len(progress.events(kind="quiz_answer")) == 21
    estimate = readiness.estimate("official-2025")
    assert groups(estimate) == {"S1": (5, 5), "S2": (5, 5), "S3": (5, 5), "S4": (5, 4)}
    assert not estimate.enough and "10 more questions in any section" in estimate.missing
    assert (tmp_path / "progress.sqlite").exists()


def test_an_unknown_blueprint_is_a_clear_error():
    with pytest.raises(ValueError, match="no blueprint 'final'; choose one of seed, official-2025"):
        readiness.estimate("final", events=[])


def test_explain_states_the_method_and_the_target():
    official = readiness.explain("official-2025")
    assert f"{readiness.WINDOW} most recent answers of each section" in official
    assert "latest answer" in official and "Beta(1 + right, 1 + wrong)" in official
    assert "80% interval" in official and OFFICIAL.pass_label in official
    assert "each domain" in readiness.explain("seed") and "pass mark 70%" in readiness.explain("seed")
