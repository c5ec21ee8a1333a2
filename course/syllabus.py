"""The exam syllabus the course is built on (a copy kept in ``course/syllabus/``).

Two views of one exam: the five seed domains with their must-know concepts (``D1`` ... ``D5``,
concept ids such as ``D2.imputer``) and the official 2025 sections with their objectives
(``S1`` ... ``S4``, objective ids such as ``S3.10``). Lessons, exercises and questions are
tagged with these ids so coverage can be computed.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

FOLDER = Path(__file__).with_name("syllabus")
WEEK_FOLDER_DOMAINS = {  # week folder of the lessons -> the seed domain it mirrors (docs/authoring.md)
    "week1-ml-fundamentals": "D1", "week2-feature-engineering": "D2", "week2-training-evaluation": "D3",
    "week3-deployment": "D4", "week3-mlops": "D5",
}


@lru_cache(maxsize=1)
def load() -> dict:
    return yaml.safe_load((FOLDER / "objectives.yaml").read_text(encoding="utf-8"))


def domains() -> dict[str, dict]:
    return {d["id"]: d for d in load()["seed_domains"]}


def sections() -> dict[str, dict]:
    return {s["id"]: s for s in load()["official_sections"]}


def concepts() -> dict[str, str]:
    """Concept id -> text, for every must-know concept of every seed domain."""
    return {c["id"]: c["text"] for d in load()["seed_domains"] for c in d["concepts"]}


def objectives() -> dict[str, str]:
    """Objective id -> text, for every official objective."""
    return {o["id"]: o["text"] for s in load()["official_sections"] for o in s["objectives"]}


def concept_terms() -> dict[str, list[str]]:
    """Concept id -> its key terms (``concept_terms`` in the syllabus file, a course addition):
    a question tagged with a concept mentions at least one of them."""
    return {ident: [str(t) for t in terms] for ident, terms in (load().get("concept_terms") or {}).items()}


def all_ids() -> set[str]:
    return set(concepts()) | set(objectives())
