"""Question tags are real syllabus ids, and a question names what it is tagged with.

Each seed concept has a short list of key terms (``concept_terms`` in the syllabus file). A
question tagged with a concept mentions at least one of them in its stem, options or
explanation, so a question tagged with a concept it never touches is caught. A question that no
seed concept fits has ``concepts: []`` and relies on its official objective id.
"""
import pytest

from course import questions, syllabus

BANK = questions.load_bank()


def _text(q: dict) -> str:
    explanation = q["explanation"]
    parts = [q["stem"], *map(str, q["options"]), str(explanation["why"]), *map(str, explanation["options"])]
    return " ".join(parts).lower()


def test_every_concept_has_key_terms():
    terms = syllabus.concept_terms()
    assert set(terms) == set(syllabus.concepts()), "concept_terms must list exactly the seed concepts"
    assert all(terms[c] and all(str(t).strip() for t in terms[c]) for c in terms)


def test_every_tag_is_a_syllabus_id():
    concepts, objectives = syllabus.concepts(), syllabus.objectives()
    wrong = [(q["id"], c) for q in BANK for c in q["concepts"] if c not in concepts]
    wrong += [(q["id"], q["objective"]) for q in BANK if q["objective"] not in objectives]
    assert not wrong, f"unknown ids: {wrong}"


@pytest.mark.parametrize("question", BANK, ids=lambda q: q["id"])
def test_question_mentions_a_key_term_of_each_concept(question):
    terms, text = syllabus.concept_terms(), _text(question)
    untouched = [c for c in question["concepts"] if not any(t.lower() in text for t in terms[c])]
    assert not untouched, (f"{question['id']} is tagged {untouched} but names none of its key terms "
                           f"{[terms[c] for c in untouched]}: re-tag it, or name the concept if it is tested")


def test_a_mis_tag_is_caught():
    """D5-037 asks about the deploy-code pattern; tagging it with the Jobs matrix view must fail."""
    q = next(q for q in BANK if q["id"] == "D5-037")
    terms = syllabus.concept_terms()["D5.jobs-matrix"]
    text = _text(dict(q, concepts=["D5.jobs-matrix"]))
    assert not any(t.lower() in text for t in terms)
