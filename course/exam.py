"""Mock exams and practice quizzes over the question bank: one engine for the terminal and
for JupyterLab.

Blueprints follow the two views of the exam:

* ``seed``: 45 questions in 90 minutes, domains D1-D5 weighted 18/27/22/18/15, pass mark 70%
  (the study guide's figure);
* ``official-2025``: 48 questions in 90 minutes, sections S1-S4 weighted by their objective
  counts (18/9/15/6 questions). The official guide publishes no pass mark: 70% is shown as a
  practice target and labelled so.

Drawing is deterministic: exam ``seed`` k of a blueprint takes the k-th slice of a fixed
shuffle of each domain's (or section's) questions, so seeds 1, 2, 3... never repeat a question
until a pool runs out. The drawn questions are then mixed in one fixed order per seed, as the real
exam mixes its topics, and a timed exam shows no domain or objective until the review. A
multi-answer question scores only when the chosen set is exactly the key, as on the real exam.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from course import progress, questions, syllabus


@dataclass(frozen=True)
class Blueprint:
    name: str
    title: str
    total: int
    minutes: int
    pass_percent: int
    pass_is_official: bool
    group_by: str                  # "domain" or "section"
    weights: dict[str, float]

    def allocation(self) -> dict[str, int]:
        """Questions per group: weights scaled to ``total`` by largest remainder."""
        whole = sum(self.weights.values())
        exact = {g: self.total * w / whole for g, w in self.weights.items()}
        counts = {g: int(v) for g, v in exact.items()}
        for g in sorted(exact, key=lambda g: (counts[g] - exact[g], g))[: self.total - sum(counts.values())]:
            counts[g] += 1
        return counts

    @property
    def pass_label(self) -> str:
        if self.pass_is_official:
            return f"pass mark {self.pass_percent}%"
        return f"practice target {self.pass_percent}% (the official guide publishes no pass mark)"


def _blueprints() -> dict[str, Blueprint]:
    data = syllabus.load()
    seed_format, official = data["seed_format"], data["official_format"]
    sections = data["official_sections"]
    return {
        "seed": Blueprint("seed", "Mock exam (study-guide blueprint)", seed_format["questions"],
                          seed_format["minutes"], seed_format["pass_percent"], True, "domain",
                          {d["id"]: d["weight"] for d in data["seed_domains"]}),
        "official-2025": Blueprint("official-2025", f"Mock exam (official guide, {official['edition']})",
                                   official["questions"], official["minutes"], 70, False, "section",
                                   {s["id"]: len(s["objectives"]) for s in sections}),
    }


BLUEPRINTS = _blueprints()


def group_of(question: dict, group_by: str) -> str:
    return question["domain"] if group_by == "domain" else question["objective"].split(".")[0]


def pools(group_by: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for q in questions.load_bank():
        found.setdefault(group_of(q, group_by), []).append(q)
    return found


def draw(blueprint: Blueprint | str, seed: int = 1) -> list[dict]:
    """The questions of exam number ``seed`` (1, 2, ...) of a blueprint: the blueprint's count per
    domain (or section), in one deterministic order per seed that mixes the topics."""
    if isinstance(blueprint, str):
        blueprint = blueprint_named(blueprint)
    if seed < 1:
        raise ValueError("exam seeds start at 1")
    chosen: list[dict] = []
    available = pools(blueprint.group_by)
    for group, count in blueprint.allocation().items():
        pool = sorted(available.get(group, []), key=lambda q: q["id"])
        if len(pool) < count:
            raise ValueError(f"the bank has {len(pool)} questions for {group}; {blueprint.name} needs {count}")
        order = pool[:]
        random.Random(f"{blueprint.name}/{group}").shuffle(order)
        per_pass = len(order) // count
        round_, slot = divmod(seed - 1, per_pass)
        if round_:  # every question has been used once: a fresh shuffle for this round
            random.Random(f"{blueprint.name}/{group}/{round_}").shuffle(order)
        chosen += order[slot * count:(slot + 1) * count]
    random.Random(f"{blueprint.name}/order/{seed}").shuffle(chosen)
    return chosen


def disjoint_seeds(blueprint: Blueprint | str) -> int:
    """How many consecutive exams (seeds 1..n) share no question."""
    if isinstance(blueprint, str):
        blueprint = blueprint_named(blueprint)
    sizes = {g: len(p) for g, p in pools(blueprint.group_by).items()}
    return min(sizes.get(g, 0) // n for g, n in blueprint.allocation().items())


def blueprint_named(name: str) -> Blueprint:
    try:
        return BLUEPRINTS[name]
    except KeyError:
        raise ValueError(f"no blueprint {name!r}; choose one of {', '.join(BLUEPRINTS)}") from None


def letters(count: int) -> str:
    return "ABCDE"[:count]


def parse_choice(text: str, question: dict) -> set[int]:
    """'B' or 'a, c' -> option indexes; ValueError with a learner-facing message otherwise."""
    valid = letters(len(question["options"]))
    picked = {c for c in text.upper() if c.isalpha()}
    bad = sorted(picked - set(valid))
    if not picked or bad:
        raise ValueError(f"answer with letters {', '.join(valid)}" + (f" ({', '.join(bad)} is not an option)" if bad else ""))
    if question["type"] == "single" and len(picked) != 1:
        raise ValueError("this question has one answer: give one letter")
    if question["type"] == "multi" and len(picked) != question["choose"]:
        raise ValueError(f"this question asks you to choose {question['choose']}")
    return {valid.index(c) for c in picked}


def is_correct(question: dict, chosen: Iterable[int]) -> bool:
    return set(chosen) == set(question["answer"])


@dataclass
class Outcome:
    blueprint: Blueprint | None
    questions: list[dict]
    answers: dict[str, set[int]]
    seconds: float
    timed_out: bool

    @property
    def correct(self) -> list[bool]:
        return [is_correct(q, self.answers.get(q["id"], ())) for q in self.questions]

    @property
    def score(self) -> int:
        return sum(self.correct)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / len(self.questions) if self.questions else 0.0

    @property
    def passed(self) -> bool | None:
        return None if self.blueprint is None else self.percent >= self.blueprint.pass_percent

    def by_group(self, group_by: str = "domain") -> dict[str, tuple[int, int]]:
        """group -> (correct, asked), in syllabus order."""
        table: dict[str, list[int]] = {}
        for q, ok in zip(self.questions, self.correct):
            row = table.setdefault(group_of(q, group_by), [0, 0])
            row[0] += ok
            row[1] += 1
        return {g: (c, n) for g, (c, n) in sorted(table.items())}


@dataclass
class ExamSession:
    """State of one timed attempt: answers, flags, position and the clock."""
    questions: list[dict]
    blueprint: Blueprint | None = None
    seed: int | None = None
    minutes: float | None = None
    clock: Callable[[], float] = time.monotonic
    mode: str = "exam"
    answers: dict[str, set[int]] = field(default_factory=dict)
    flagged: set[str] = field(default_factory=set)
    position: int = 0
    started: float = field(default=0.0)
    outcome: Outcome | None = None

    def __post_init__(self) -> None:
        if not self.questions:
            raise ValueError("no questions to ask")
        self.started = self.clock()
        if self.minutes is None and self.blueprint is not None:
            self.minutes = self.blueprint.minutes

    @classmethod
    def from_blueprint(cls, name: str, seed: int = 1, **kwargs) -> "ExamSession":
        blueprint = blueprint_named(name)
        return cls(draw(blueprint, seed), blueprint=blueprint, seed=seed, **kwargs)

    @property
    def current(self) -> dict:
        return self.questions[self.position]

    def remaining(self) -> float | None:
        if self.minutes is None:
            return None
        return max(0.0, self.minutes * 60 - (self.clock() - self.started))

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def go(self, index: int) -> None:
        self.position = max(0, min(index, len(self.questions) - 1))

    def answer(self, chosen: Iterable[int], question_id: str | None = None) -> None:
        if self.outcome is not None:
            raise RuntimeError("this attempt is already submitted")
        if self.expired():
            self.submit(timed_out=True)
            raise TimeoutError("time is up: the exam was submitted")
        qid = question_id or self.current["id"]
        self.answers[qid] = set(chosen)

    def toggle_flag(self, question_id: str | None = None) -> bool:
        qid = question_id or self.current["id"]
        self.flagged.symmetric_difference_update({qid})
        return qid in self.flagged

    def unanswered(self) -> list[int]:
        return [i for i, q in enumerate(self.questions) if q["id"] not in self.answers]

    def submit(self, timed_out: bool = False) -> Outcome:
        if self.outcome is not None:
            return self.outcome
        seconds = self.clock() - self.started
        self.outcome = Outcome(self.blueprint, self.questions, dict(self.answers), seconds, timed_out)
        _record_attempt(self)
        return self.outcome


def record_answer(question: dict, chosen: Iterable[int], mode: str) -> bool:
    """Write one answer to the progress store; return whether it was right."""
    chosen = sorted(chosen)
    ok = is_correct(question, chosen)
    try:
        progress.record("quiz_answer", question["id"], correct=ok,
                        detail={"mode": mode, "chosen": chosen, "concepts": question["concepts"],
                                "objective": question["objective"], "domain": question["domain"]})
    except Exception:  # progress never breaks an exam
        pass
    return ok


def _record_attempt(session: ExamSession) -> None:
    """At submit, an exam records every answer and the attempt. Practice answers are recorded
    one by one, when the learner asks for the verdict (``record_answer``)."""
    if session.mode != "exam":
        return
    outcome = session.outcome
    for q in outcome.questions:
        record_answer(q, outcome.answers.get(q["id"], ()), session.mode)
    try:
        progress.record("exam_attempt", session.blueprint.name if session.blueprint else "custom",
                        correct=outcome.passed,
                        detail={"seed": session.seed, "score": outcome.score, "asked": len(outcome.questions),
                                "percent": round(outcome.percent, 1), "seconds": round(outcome.seconds),
                                "timed_out": outcome.timed_out, "domains": outcome.by_group("domain")})
    except Exception:
        pass


def select_practice(domain: str | None = None, concept: str | None = None, objective: str | None = None,
                    weak: bool = False, count: int = 10, seed: int | None = None) -> list[dict]:
    """Questions for a practice quiz: by domain, concept or objective, or the learner's weak spots.

    Weak spots: questions never answered or last answered wrong come first, those in concepts
    with the lowest success rate before the rest.
    """
    bank = list(questions.load_bank())
    if domain:
        bank = [q for q in bank if q["domain"] == domain]
    if concept:
        bank = [q for q in bank if concept in q["concepts"]]
    if objective:
        bank = [q for q in bank if q["objective"] == objective]
    if not bank:
        raise ValueError("no questions match that choice")
    rng = random.Random(seed)
    rng.shuffle(bank)
    if weak:
        history = progress.events(kind="quiz_answer")
        last: dict[str, bool] = {}
        per_concept: dict[str, list[int]] = {}
        for event in history:
            last[event.item] = bool(event.correct)
            for c in event.detail.get("concepts", []):
                per_concept.setdefault(c, []).append(int(bool(event.correct)))

        def rate(q: dict) -> float:
            scores = [s for c in q["concepts"] for s in per_concept.get(c, [])]
            return sum(scores) / len(scores) if scores else 0.0

        bank.sort(key=lambda q: (last.get(q["id"], False), rate(q)))
    return bank[:count]
