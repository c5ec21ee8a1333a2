"""The question bank: exam-style questions kept as YAML files in ``course/questions/``.

One file per seed domain (``d1.yaml`` ... ``d5.yaml``), each a list of questions::

    - id: D2-007                      # stable: never renumber
      domain: D2                      # seed domain
      concepts: [D2.imputer]          # the seed concept ids the question exercises; [] when no
                                      # seed concept fits (the objective alone then tags it)
      objective: S2.06                # one official objective id
      tier: 1                         # 1 must know, 2 should know, 3 recognise
      difficulty: 2                   # 1 easy, 2 medium, 3 hard
      type: single                    # or multi
      choose: 1                       # how many to pick; a multi stem says "Choose two." etc.
      code: true                      # the learner reads or completes code
      stem: |
        Markdown; code in ```python fences.
      options: [..., ..., ..., ...]   # four or five
      answer: [2]                     # 0-based indexes of the key(s)
      explanation:
        why: Why the key is right (and, where the exam and current practice differ, what is current).
        options: [..., ..., ..., ...] # one line per option: why it is right or wrong
      reference: lesson or vendor doc (URL)
      verify: |                       # optional: Python that checks the stem's claim locally
        assert ...

``load_bank()`` reads this package's own folder. ``load_folder(path, id_letter)`` reads and
validates another folder of the same schema, such as a pool of questions kept outside the
package whose ids use another letter (``P4-001``: the letter, then the domain digit).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from course import syllabus

FOLDER = Path(__file__).with_name("questions")
FIELDS = {"id", "domain", "concepts", "objective", "tier", "difficulty", "type", "choose", "code",
          "stem", "options", "answer", "explanation", "reference", "verify"}
REQUIRED = FIELDS - {"verify"}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four"}
BANNED_OPTIONS = re.compile(r"\b(all|none) of the (above|options|these)\b", re.IGNORECASE)


class BankError(ValueError):
    """A question file is malformed."""


@lru_cache(maxsize=1)
def load_bank() -> tuple[dict, ...]:
    return _read(FOLDER)


def load_folder(folder: Path | str, id_letter: str = "D") -> tuple[dict, ...]:
    """The questions of every ``*.yaml`` file of ``folder``, validated: each must pass
    ``problems(q, id_letter)`` and ids must be unique, else BankError lists what is wrong."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.glob("*.yaml")):
        raise BankError(f"{folder} holds no question files (*.yaml)")
    found = _read(folder)
    wrong = [p for q in found for p in problems(q, id_letter)]
    seen: set[str] = set()
    for q in found:
        if q.get("id") in seen:
            wrong.append(f"{q['id']}: duplicate id")
        seen.add(q.get("id"))
    if wrong:
        raise BankError(f"{len(wrong)} problems in {folder.name}: " + "; ".join(wrong[:10]))
    return found


def _read(folder: Path) -> tuple[dict, ...]:
    questions: list[dict] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise BankError(f"{path.name} is not valid YAML: {exc}") from exc
        if not isinstance(items, list):
            raise BankError(f"{path.name} must hold a list of questions")
        for item in items:
            item = dict(item)
            item["_file"] = path.name
            questions.append(item)
    return tuple(questions)


def problems(q: dict, id_letter: str = "D") -> list[str]:
    """Everything wrong with one question (empty when it is well formed). Ids are ``id_letter``
    then the domain digit: ``D2-007`` in the bank."""
    found: list[str] = []
    qid = q.get("id", "?")
    missing = REQUIRED - set(q)
    if missing:
        return [f"{qid}: missing {sorted(missing)}"]
    extra = set(q) - FIELDS - {"_file"}
    if extra:
        found.append(f"{qid}: unknown fields {sorted(extra)}")
    if (not re.fullmatch(rf"{re.escape(id_letter)}[1-5]-\d{{3}}", str(qid))
            or str(qid)[1:2] != str(q["domain"])[1:]):
        found.append(f"{qid}: id must look like {id_letter}2-007, with its domain's digit")
    concepts, objectives = syllabus.concepts(), syllabus.objectives()
    if q["domain"] not in syllabus.domains():
        found.append(f"{qid}: unknown domain {q['domain']}")
    if not isinstance(q["concepts"], list) or any(c not in concepts for c in q["concepts"]):
        found.append(f"{qid}: unknown concept ids {q['concepts']}")
    if q["objective"] not in objectives:
        found.append(f"{qid}: unknown objective {q['objective']}")
    if q["tier"] not in (1, 2, 3) or q["difficulty"] not in (1, 2, 3):
        found.append(f"{qid}: tier and difficulty are 1, 2 or 3")
    options, answer = q["options"], q["answer"]
    if not isinstance(options, list) or not 4 <= len(options) <= 5:
        found.append(f"{qid}: needs four or five options")
        return found
    if len(set(map(str, options))) != len(options):
        found.append(f"{qid}: duplicate options")
    if any(BANNED_OPTIONS.search(str(o)) for o in options):
        found.append(f"{qid}: no 'all/none of the above' options")
    if (not isinstance(answer, list) or not answer or len(set(answer)) != len(answer)
            or any(not isinstance(a, int) or not 0 <= a < len(options) for a in answer)):
        found.append(f"{qid}: answer must list distinct option indexes")
        return found
    if q["type"] == "single":
        if len(answer) != 1 or q["choose"] != 1:
            found.append(f"{qid}: a single-answer question has one key and choose: 1")
    elif q["type"] == "multi":
        if len(answer) < 2 or q["choose"] != len(answer):
            found.append(f"{qid}: a multi-answer question has choose == number of keys >= 2")
        elif f"choose {NUMBER_WORDS.get(len(answer), len(answer))}" not in q["stem"].lower():
            found.append(f"{qid}: a multi-answer stem says how many to choose "
                         f"('Choose {NUMBER_WORDS.get(len(answer))}.')")
    else:
        found.append(f"{qid}: type is single or multi")
    explanation = q["explanation"]
    if not isinstance(explanation, dict) or not str(explanation.get("why", "")).strip():
        found.append(f"{qid}: explanation.why is required")
    elif len(explanation.get("options") or []) != len(options):
        found.append(f"{qid}: explanation.options needs one line per option")
    if not str(q["reference"]).strip():
        found.append(f"{qid}: reference is required")
    if not isinstance(q["code"], bool):
        found.append(f"{qid}: code is true or false")
    return found
