"""Graded quiz notebooks generated from the instructor-only question pool (``autograde quizgen``).

One review quiz per week and one fixed mock exam, written into ``source/`` as nbgrader
notebooks: each question is a markdown cell, an answer cell (a Python set of letters; the
solution holds the key) and a check cell (a visible format check, the key in hidden tests).

The questions come from ``source/quiz-pool/d1.yaml ... d5.yaml`` (ids ``P1-001``...), not from the
public bank the ``course`` package installs: a learner could look every bank key up. The pool is
never installed, never released (nbgrader releases only folders holding notebooks) and invisible
to a graded kernel (the sandbox mounts the ``course`` package, not ``source/``). A notebook shows
no question id, neither in its cells nor in its metadata; each question keeps its syllabus tags
(a visible "Syllabus:" line and ``metadata.course.syllabus`` on its check cell) for the class report.
What this does NOT protect: a student who keeps a graded notebook's questions and keys after
feedback and shares them with the next class; drawing the quizzes from a larger pool is the cure.
Generation is deterministic, so a test can tell when the committed notebooks drift from the pool.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import exam, questions

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "source" / "quiz-pool"
POOL_ID_LETTER = "P"


@dataclass(frozen=True)
class Quiz:
    path: str
    lesson: str
    title: str
    domains: tuple[str, ...]
    per_domain: int


WEEKLY = (
    Quiz("week1-ml-fundamentals/90-week1-review-quiz.ipynb", "w1-90", "Week 1 review quiz", ("D1",), 15),
    Quiz("week2-training-evaluation/90-week2-review-quiz.ipynb", "w2-90", "Week 2 review quiz", ("D2", "D3"), 10),
    Quiz("week3-mlops/90-week3-review-quiz.ipynb", "w3-90", "Week 3 review quiz", ("D4", "D5"), 10),
)
MOCK = ("mock-exam/01-mock-exam.ipynb", "seed", 5)   # path, blueprint, seed of the question order


def load_pool(folder: Path = POOL) -> tuple[dict, ...]:
    """The instructor-only questions, validated like the bank (ids ``P1-001``...)."""
    return questions.load_folder(folder, POOL_ID_LETTER)


def _spread(pool: list[dict], count: int) -> list[dict]:
    """``count`` questions taking concepts in turn, so a quiz covers its whole domain."""
    by_concept: dict[str, list[dict]] = {}
    for q in sorted(pool, key=lambda q: q["id"]):
        by_concept.setdefault((q["concepts"] or [q["objective"]])[0], []).append(q)
    picked: list[dict] = []
    while len(picked) < count and any(by_concept.values()):
        for concept in sorted(by_concept):
            if by_concept[concept] and len(picked) < count:
                picked.append(by_concept[concept].pop(0))
    return picked


def needed_per_domain() -> dict[str, int]:
    """The fewest pool questions per domain the notebooks need: the mock exam's allocation and the
    weekly quizzes may share questions, so each domain needs the larger of the two."""
    _, blueprint, _ = MOCK
    needed = dict(exam.BLUEPRINTS[blueprint].allocation())
    for quiz in WEEKLY:
        for domain in quiz.domains:
            needed[domain] = max(needed.get(domain, 0), quiz.per_domain)
    return needed


def selections(pool: tuple[dict, ...] | None = None) -> dict[str, tuple[str, str, list[dict]]]:
    """path -> (lesson id, title, questions) for every generated notebook. The mock exam takes the
    blueprint's count per domain, spread over the domain's concepts, in one fixed mixed order; a
    weekly quiz takes questions the mock exam does not ask first, then shares some when the
    domain's pool is too small for both."""
    pool = load_pool() if pool is None else pool
    path, name, seed = MOCK
    blueprint = exam.BLUEPRINTS[name]
    by_domain = {d: [q for q in pool if q["domain"] == d] for d in sorted({q["domain"] for q in pool})}
    short = {d: (len(by_domain.get(d, [])), n) for d, n in needed_per_domain().items()
             if len(by_domain.get(d, [])) < n}
    if short:
        raise questions.BankError("the quiz pool is too small: " + ", ".join(
            f"{d} has {have}, needs {need}" for d, (have, need) in sorted(short.items())))
    mock: list[dict] = []
    for domain, count in blueprint.allocation().items():
        mock += _spread(by_domain[domain], count)
    random.Random(f"{name}/order/{seed}").shuffle(mock)
    used = {q["id"] for q in mock}
    chosen = {path: ("mock", f"Mock exam ({blueprint.total} questions, {blueprint.minutes} minutes)", mock)}
    for quiz in WEEKLY:
        picked: list[dict] = []
        for domain in quiz.domains:
            fresh = _spread([q for q in by_domain[domain] if q["id"] not in used], quiz.per_domain)
            shared = _spread([q for q in by_domain[domain] if q["id"] in used], quiz.per_domain - len(fresh))
            picked += fresh + shared
        chosen[quiz.path] = (quiz.lesson, quiz.title, picked)
    return chosen


def _meta(**values) -> dict:
    base = {"grade": False, "locked": False, "schema_version": 3, "solution": False, "task": False}
    base.update(values)
    return {"nbgrader": base}


def balance_keys(picked: list[dict]) -> list[dict]:
    """The questions with single-answer keys spread over the letters: each key moves, by swapping
    two options, to the letter used least so far (options never refer to each other by letter).
    A small draw from a balanced bank can still pile up on one letter; a learner who always
    answers "C" should not pass."""
    used: dict[int, int] = {}
    balanced = []
    for number, q in enumerate(picked):
        if q["choose"] != 1:
            balanced.append(q)
            continue
        key, count = q["answer"][0], len(q["options"])
        target = min(range(count), key=lambda i: (used.get(i, 0), (i - number) % count))
        order = list(range(count))
        order[key], order[target] = order[target], order[key]
        moved = dict(q, options=[q["options"][i] for i in order], answer=[target])
        if "explanation" in q:
            moved["explanation"] = dict(q["explanation"], options=[q["explanation"]["options"][i] for i in order])
        used[target] = used.get(target, 0) + 1
        balanced.append(moved)
    return balanced


def build(lesson: str, title: str, picked: list[dict]) -> nbformat.NotebookNode:
    picked = balance_keys(picked)
    cells = [new_markdown_cell(
        f"# {title}\n\n"
        f"{len(picked)} exam-style questions. For each one, set the variable under it to a **Python set of "
        "option letters**: `answer_03 = {\"B\"}`, or `answer_07 = {\"A\", \"D\"}` when the question says "
        "*Choose two*. The check under each answer only tells you whether the answer is well formed; the "
        "score comes when your instructor grades the notebook.\n\n"
        "Working on your own? `course quiz` in a terminal, or `course.exam_widgets.practice()` in a "
        "notebook, gives feedback and an explanation after every answer.")]
    cells.append(new_code_cell("from course.checks import check_quiz_answer"))
    for number, q in enumerate(picked, start=1):
        name = f"answer_{number:02d}"
        valid = exam.letters(len(q["options"]))
        options = "\n".join(f"- **{letter})** {option}" for letter, option in zip(valid, q["options"]))
        tags = [*q["concepts"], q["objective"]]
        cells.append(new_markdown_cell(
            f"### Question {number}\n*Syllabus: {', '.join(tags)}*\n\n"
            f"{q['stem'].strip()}\n\n{options}\n\n"
            f"*Your answer goes in `{name}`: a set of {q['choose']} letter{'s' if q['choose'] > 1 else ''}.*"))
        key = "{" + ", ".join(f'"{valid[i]}"' for i in sorted(q["answer"])) + "}"
        example = '{"A", "C"}' if q["choose"] > 1 else '{"B"}'
        answer = new_code_cell(f"{name} = ...  # a set of {q['choose']} letter{'s' if q['choose'] > 1 else ''}, "
                               f"such as {example}\n### BEGIN SOLUTION\n{name} = {key}\n### END SOLUTION")
        answer.metadata.update(_meta(grade_id=f"{lesson}-{name}", solution=True))
        check = new_code_cell(f'check_quiz_answer("{name}", choose={q["choose"]}, letters="{valid}")\n'
                              f"### BEGIN HIDDEN TESTS\nassert {{a.strip().upper() for a in {name}}} == {key}\n"
                              f"### END HIDDEN TESTS")
        check.metadata.update(_meta(grade_id=f"{lesson}-{name}-check", grade=True, locked=True, points=1))
        check.metadata["course"] = {"syllabus": tags}
        cells += [answer, check]
    concepts = sorted({c for q in picked for c in q["concepts"]} | {q["objective"] for q in picked})
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"lesson": lesson, "title": title, "syllabus": concepts, "tier": 1,
                   "questions": len(picked)}})   # how many, never which: no question id
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{lesson}-{index:03d}"
    nbformat.validate(notebook)
    return notebook


def generate(root: Path = ROOT, pool: Path = POOL) -> list[Path]:
    """Write the quiz and mock-exam notebooks into ``root/source`` from the pool in ``pool``."""
    written = []
    for relative, (lesson, title, picked) in selections(load_pool(pool)).items():
        target = Path(root) / "source" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(lesson, title, picked), target)
        written.append(target)
    return written
