"""The question bank: schema, size and spread, item quality, and the code it claims results for."""
from collections import Counter

import pytest

from course import questions, syllabus

BANK = questions.load_bank()


def test_every_question_is_well_formed():
    problems = [p for q in BANK for p in questions.problems(q)]
    assert not problems, "\n".join(problems[:20])


def test_ids_are_unique():
    counts = Counter(q["id"] for q in BANK)
    assert not [i for i, n in counts.items() if n > 1]


def test_size_and_types():
    assert len(BANK) >= 250
    multi = sum(q["type"] == "multi" for q in BANK)
    code = sum(q["code"] for q in BANK)
    assert multi / len(BANK) >= 0.15, f"{multi} multi-answer questions"
    assert code / len(BANK) >= 0.25, f"{code} code questions"


def test_every_concept_and_objective_has_three_questions():
    per_concept = Counter(c for q in BANK for c in q["concepts"])
    per_objective = Counter(q["objective"] for q in BANK)
    thin = {c: per_concept[c] for c in syllabus.concepts() if per_concept[c] < 3}
    thin.update({o: per_objective[o] for o in syllabus.objectives() if per_objective[o] < 3})
    assert not thin, f"fewer than 3 questions: {thin}"


def test_key_position_is_spread_evenly():
    positions = Counter(q["answer"][0] for q in BANK if q["type"] == "single")
    single = sum(positions.values())
    for index in range(4):
        share = positions[index] / single
        assert 0.18 <= share <= 0.32, f"key at option {index} in {share:.0%} of single-answer questions"


def test_longest_option_is_rarely_the_key():
    def longest_is_key(q):
        lengths = [len(str(o)) for o in q["options"]]
        return lengths.index(max(lengths)) in q["answer"]
    share = sum(map(longest_is_key, BANK)) / len(BANK)
    assert share <= 1 / 3, f"the longest option is the key in {share:.0%} of questions"


def test_no_all_or_none_of_the_above_and_no_duplicate_stems():
    for q in BANK:
        assert not any(questions.BANNED_OPTIONS.search(str(o)) for o in q["options"]), q["id"]
    stems = Counter(" ".join(q["stem"].lower().split()) for q in BANK)
    assert not [s for s, n in stems.items() if n > 1]


def test_multi_answer_stems_say_how_many():
    for q in (q for q in BANK if q["type"] == "multi"):
        word = questions.NUMBER_WORDS[len(q["answer"])]
        assert f"choose {word}" in q["stem"].lower(), q["id"]


def test_deprecations_are_named_where_the_exam_and_practice_differ():
    """A question about model stages or Hyperopt says what is current in its explanation."""
    for q in BANK:
        text = (q["stem"] + " " + " ".join(map(str, q["options"]))).lower()
        why = (str(q["explanation"]["why"]) + " " + " ".join(map(str, q["explanation"]["options"]))).lower()
        if "transition_model_version_stage" in text or "stage='production'" in text.replace('"', "'"):
            assert "alias" in why or "deprecated" in why, q["id"]
        if "delta live tables" in text:
            assert "lakeflow" in text + why or "declarative" in text + why, q["id"]


def _instructor_pool() -> list[dict]:
    from autograde import quizgen

    return list(quizgen.load_pool())


# the public bank's and the instructor-only pool's (graded quizzes) checkable claims
VERIFIED = [q for q in [*BANK, *_instructor_pool()] if q.get("verify")]


@pytest.fixture(scope="module")
def verify_globals(spark):
    return {"spark": spark}


def _fresh_mlflow_store(folder):
    """Each question that uses MLflow gets its own empty store (model names may repeat)."""
    import mlflow

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("verify", artifact_location=(folder / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)


@pytest.mark.spark
@pytest.mark.parametrize("question", VERIFIED, ids=lambda q: q["id"])
def test_code_in_questions_does_what_the_key_says(question, verify_globals, tmp_path):
    import mlflow

    if "mlflow" in question["verify"]:
        _fresh_mlflow_store(tmp_path)
    namespace = dict(verify_globals)
    try:
        exec(compile(question["verify"], f"<verify {question['id']}>", "exec"), namespace)
    finally:
        while mlflow.active_run():
            mlflow.end_run()
