"""Readiness: the score a learner can expect on a mock exam, with an honest interval.

The prediction is made from the quiz answers in the progress store (practice and exam answers
alike), group by group, where a group is what the blueprint allocates questions to: a seed domain
(D1-D5) for ``seed``, an official section (S1-S4) for ``official-2025``.

Method:

1. **One answer per question, the latest.** Answering a question again after reading its
   explanation must not count twice, so each question counts once, with its most recent answer.
   (A question answered again soon after its explanation may still flatter you: new questions,
   such as the next mock-exam seed, measure best.)
2. **A window of recent answers.** Per group, only the ``WINDOW`` (30) most recent of those answers
   count, so the estimate follows what you know now, not what you knew in week 1.
3. **A Beta posterior per group.** Starting from a uniform prior, Beta(1, 1), a group with ``right``
   and ``wrong`` answers in the window has the posterior Beta(1 + right, 1 + wrong) for the chance
   of answering one of its questions right.
4. **The score of a simulated mock exam.** ``DRAWS`` (20,000) times: draw each group's chance from
   its posterior, then the number right out of the questions the blueprint gives that group
   (a binomial). The sum is one possible mock-exam score, weighted as the blueprint weights its
   groups by construction. From the 20,000 scores: the median, an 80% interval (10th to 90th
   percentile: the actual score should land inside it about 4 times in 5) and the probability of
   reaching the blueprint's pass mark (or practice target). The simulation is seeded, so the same
   answers always give the same numbers.

Too little data: with fewer than ``MIN_PER_GROUP`` (5) answers in a group or ``MIN_TOTAL`` (30) in
all, the estimate is flagged ``enough=False``, its message says what to answer next, and
``text()`` shows no predicted score. The numbers are still computed (they are then wide); a
display should show them only when ``enough`` is true.

What it cannot know: the bank's questions stand in for the exam's. The prediction is of a mock
exam of this course, a guide to the real exam, not a promise about it.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from course import progress, syllabus
from course.exam import Blueprint, blueprint_named, group_of

WINDOW = 30          # most recent answers counted per group
MIN_PER_GROUP = 5    # answers needed in every group
MIN_TOTAL = 30       # answers needed in all
DRAWS = 20_000       # simulated mock exams
SEED = 14            # the simulation's fixed seed: same answers, same numbers
INTERVAL = (10, 90)  # percentiles of the 80% interval


@dataclass(frozen=True)
class GroupReadiness:
    group: str          # D1..D5 or S1..S4
    name: str           # "Model Deployment"
    questions: int      # how many the mock exam asks in this group
    answered: int       # answers counted (latest per question, inside the window)
    right: int

    @property
    def mean(self) -> float:
        """Posterior mean of the chance of answering one of this group's questions right."""
        return (1 + self.right) / (2 + self.answered)

    @property
    def label(self) -> str:
        return f"{self.group} {self.name}"


@dataclass(frozen=True)
class Readiness:
    blueprint: Blueprint
    groups: tuple[GroupReadiness, ...]
    median: float       # predicted mock-exam score, percent
    low: float          # 80% interval, percent
    high: float
    p_pass: float       # probability of reaching blueprint.pass_percent
    enough: bool
    missing: str        # what to answer next when not enough, else ""

    @property
    def answered(self) -> int:
        return sum(g.answered for g in self.groups)


def _group_names(blueprint: Blueprint) -> dict[str, str]:
    table = syllabus.domains() if blueprint.group_by == "domain" else syllabus.sections()
    return {ident: entry["name"] for ident, entry in table.items()}


def counted_answers(blueprint: Blueprint, events: Iterable[progress.Event], now: float) -> dict[str, list[bool]]:
    """Group -> the answers that count, oldest first: the latest answer of each question,
    answered no later than ``now``, the ``WINDOW`` most recent per group."""
    latest: dict[str, progress.Event] = {}
    for event in events:
        if event.kind != "quiz_answer" or event.correct is None or event.at > now:
            continue
        if not {"domain", "objective"} <= set(event.detail):
            continue  # an answer recorded without its tags cannot be placed in a group
        if event.item not in latest or event.at >= latest[event.item].at:
            latest[event.item] = event
    counted: dict[str, list[bool]] = {group: [] for group in blueprint.allocation()}
    for event in sorted(latest.values(), key=lambda e: e.at):
        group = group_of(event.detail, blueprint.group_by)
        if group in counted:
            counted[group].append(bool(event.correct))
    return {group: answers[-WINDOW:] for group, answers in counted.items()}


def _missing(groups: tuple[GroupReadiness, ...], unit: str) -> str:
    """What to answer next, or "" when there is enough: each group's shortfall, then the total's."""
    gaps = [(MIN_PER_GROUP - g.answered, g.label) for g in groups if g.answered < MIN_PER_GROUP]
    rest = MIN_TOTAL - sum(g.answered for g in groups) - sum(n for n, _ in gaps)
    if rest > 0:
        gaps.append((rest, f"any {unit}"))
    if not gaps:
        return ""
    (n, where), others = gaps[0], gaps[1:]
    parts = [f"{n} more question{'' if n == 1 else 's'} in {where}"] + [f"{n} more in {w}" for n, w in others]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Not enough answers yet for a prediction: answer at least {listed}."


def _simulate(blueprint: Blueprint, groups: tuple[GroupReadiness, ...]) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(SEED)
    scores = np.zeros(DRAWS, dtype=np.int64)
    for g in groups:
        chance = rng.beta(1 + g.right, 1 + g.answered - g.right, size=DRAWS)
        scores += rng.binomial(g.questions, chance)
    percent = 100.0 * scores / blueprint.total
    median, low, high = np.quantile(percent, [0.5, INTERVAL[0] / 100, INTERVAL[1] / 100], method="inverted_cdf")
    p_pass = float(np.mean(scores * 100 >= blueprint.pass_percent * blueprint.total))
    return float(median), float(low), float(high), p_pass


def estimate(blueprint: Blueprint | str = "official-2025", events: Iterable[progress.Event] | None = None,
             now: float | None = None) -> Readiness:
    """The readiness for a blueprint, from ``events`` (default: the progress store's quiz answers)
    as of ``now`` (default: the present; later answers are ignored)."""
    if isinstance(blueprint, str):
        blueprint = blueprint_named(blueprint)
    if events is None:
        events = progress.events(kind="quiz_answer")
    now = time.time() if now is None else now
    counted = counted_answers(blueprint, events, now)
    names = _group_names(blueprint)
    groups = tuple(GroupReadiness(group, names.get(group, group), questions, len(counted[group]),
                                  sum(counted[group]))
                   for group, questions in blueprint.allocation().items())
    missing = _missing(groups, blueprint.group_by)
    median, low, high, p_pass = _simulate(blueprint, groups)
    return Readiness(blueprint, groups, median, low, high, p_pass, not missing, missing)


def explain(blueprint: Blueprint | str = "official-2025") -> str:
    """How the prediction is made, in a few sentences for the learner."""
    if isinstance(blueprint, str):
        blueprint = blueprint_named(blueprint)
    unit = "domain" if blueprint.group_by == "domain" else "section"
    return (
        f"How this is predicted: each question counts once, with your latest answer, and only the "
        f"{WINDOW} most recent answers of each {unit} count. From a {unit}'s right and wrong answers "
        f"the chance of answering one of its questions right is estimated (a Beta(1 + right, 1 + wrong) "
        f"distribution, starting from a uniform prior), and {DRAWS:,} mock exams of {blueprint.total} "
        f"questions are simulated with the blueprint's questions per {unit}. The predicted score is their "
        f"median; the actual score should land inside the 80% interval about 4 times in 5. The chance "
        f"shown is the share of simulated exams reaching the {blueprint.pass_label}. A prediction needs "
        f"at least {MIN_PER_GROUP} answers in every {unit} and {MIN_TOTAL} in all. It predicts this "
        f"course's mock exam, a guide to the real exam, not a promise."
    )


def text(readiness: Readiness) -> str:
    """A few lines for the terminal: the groups, then the prediction or what is missing."""
    bp = readiness.blueprint
    width = max(len(g.label) for g in readiness.groups)
    lines = [f"Readiness for the {bp.title} ({bp.total} questions)"]
    for g in readiness.groups:
        row = f"  {g.label:<{width}}  {g.questions:>2} on the exam, answered {g.answered:>2}, right {g.right:>2}"
        if readiness.enough:
            row += f", estimated {100 * g.mean:.0f}%"
        lines.append(row)
    if not readiness.enough:
        lines.append(readiness.missing)
        return "\n".join(lines)
    target = "pass mark" if bp.pass_is_official else "practice target"
    lines.append(f"Predicted score: {readiness.median:.0f}% "
                 f"(80% interval {readiness.low:.0f}% to {readiness.high:.0f}%)")
    lines.append(f"Chance of reaching the {target} of {bp.pass_percent}%: {100 * readiness.p_pass:.0f}%")
    return "\n".join(lines)
