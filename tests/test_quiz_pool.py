"""The instructor-only quiz pool (``source/quiz-pool/``) and the graded quizzes drawn from it.

The pool is valid like the bank, big enough for what the notebooks draw, and new: no stem or key
is shared with the public bank, not even reworded, and nothing of it is in the installed ``course``
package, so a learner cannot look a graded key up. The pool is never released, and the generated
notebooks name no question id (bank ``D1-018`` or pool ``P1-018``) but keep each question's
syllabus tags.
"""
import re
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import yaml

import course
from autograde import nbgrader_run, quizgen
from course import questions, syllabus
from notebook_files import RELEASE, SOURCE

POOL = quizgen.load_pool()
BANK = questions.load_bank()
SIZES = {"D1": 18, "D2": 27, "D3": 22, "D4": 18, "D5": 15}   # what the pool files hold
ANY_ID = re.compile(r"\b[DP][1-5]-\d{3}\b")
STEM_OVERLAP_LIMIT = 0.6   # share of distinct stem words two questions may have in common


def _normal(text) -> str:
    return " ".join(str(text).lower().split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if len(w) > 2}


def _overlap(a: str, b: str) -> float:
    first, second = _words(a), _words(b)
    return len(first & second) / len(first | second) if first | second else 0.0


def _key(q: dict) -> str:
    return " | ".join(sorted(_normal(q["options"][i]) for i in q["answer"]))


def too_close_to_the_bank(q: dict, bank=BANK) -> list[str]:
    """Why a pool question is (nearly) a bank question: the same stem once normalised, most stem
    words in common, or the same key text (short keys such as "2" excepted)."""
    found = []
    for b in bank:
        if _normal(q["stem"]) == _normal(b["stem"]):
            found.append(f"{q['id']} has the stem of {b['id']}")
        elif _overlap(q["stem"], b["stem"]) >= STEM_OVERLAP_LIMIT:
            found.append(f"{q['id']} shares {_overlap(q['stem'], b['stem']):.0%} of its stem words with {b['id']}")
        key = _key(q)
        if key == _key(b) and (len(key) >= 10 or " " in key):
            found.append(f"{q['id']} has the key of {b['id']}: {key}")
    return found


def test_the_pool_is_valid_like_the_bank():
    """load_pool validates every question (schema, syllabus ids, P ids, unique ids); here also
    that each file holds its own domain, numbered from 001."""
    assert sorted({q["_file"] for q in POOL}) == [f"d{n}.yaml" for n in range(1, 6)]
    for q in POOL:
        assert q["_file"] == f"d{q['domain'][1]}.yaml", f"{q['id']} is in {q['_file']}"
    for domain in SIZES:
        ids = sorted(q["id"] for q in POOL if q["domain"] == domain)
        assert ids == [f"P{domain[1]}-{n:03d}" for n in range(1, len(ids) + 1)], f"{domain}: ids {ids}"


def test_the_pool_holds_what_the_graded_notebooks_draw():
    counts = Counter(q["domain"] for q in POOL)
    assert counts == SIZES
    short = {d: (counts[d], n) for d, n in quizgen.needed_per_domain().items() if counts[d] < n}
    assert not short, f"domain: (have, need) {short}"


def test_pool_questions_have_a_spread_of_keys_types_and_tags():
    single = Counter(q["answer"][0] for q in POOL if q["type"] == "single")
    assert all(single[i] >= 0.15 * sum(single.values()) for i in range(4)), f"keys by position: {single}"
    assert sum(q["type"] == "multi" for q in POOL) >= 8
    assert sum(q["code"] for q in POOL) >= 25
    terms = syllabus.concept_terms()
    for q in POOL:
        text = _normal(" ".join([q["stem"], *map(str, q["options"]), str(q["explanation"]["why"]),
                                 *map(str, q["explanation"]["options"])]))
        untouched = [c for c in q["concepts"] if not any(t.lower() in text for t in terms[c])]
        assert not untouched, f"{q['id']} is tagged {untouched} but names none of their key terms"


def test_pool_and_bank_are_disjoint():
    assert not {q["id"] for q in POOL} & {q["id"] for q in BANK}
    found = [reason for q in POOL for reason in too_close_to_the_bank(q)]
    assert not found, "\n".join(found)


def test_a_reworded_bank_question_is_caught():
    """The near-duplicate check is not vacuous: a bank question with a few words changed, or with
    a new stem but the bank's key, is flagged."""
    original = next(q for q in BANK if q["id"] == "D4-019")
    words = original["stem"].split()
    reworded = dict(original, id="P4-999", stem=" ".join(["Each", "evening", *words[2:]]))
    assert any("stem words" in reason for reason in too_close_to_the_bank(reworded))
    same_key = dict(original, id="P4-998", stem="Which approach should a grocery chain pick for its overnight scoring?")
    assert any("the key of D4-019" in reason for reason in too_close_to_the_bank(same_key))


def test_no_stem_or_key_is_in_the_installed_course_package():
    """Every text file the ``course`` package installs (the bank, lessons' helpers, standins...)
    is searched for each pool stem and each key longer than a word or two."""
    package = Path(course.__file__).resolve().parent
    texts = []
    for path in package.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                texts.append(_normal(path.read_text(encoding="utf-8")))
            except UnicodeDecodeError:
                continue
    assert len(texts) > 20 and any("d4-019" in t for t in texts), "the search did not reach the bank"
    leaked = [q["id"] for q in POOL if any(_normal(q["stem"]) in t for t in texts)]
    leaked += [f"{q['id']} key" for q in POOL for i in q["answer"]
               if len(_normal(q["options"][i])) >= 20 and any(_normal(q["options"][i]) in t for t in texts)]
    assert not leaked, leaked
    assert not any(path.suffix == ".yaml" and "P1-001" in path.read_text(encoding="utf-8")
                   for path in package.rglob("*.yaml"))


def test_the_pool_is_never_released():
    """nbgrader releases only folders of ``source/`` that hold notebooks: the pool folder holds
    none, so it is no assignment and never reaches ``release/``."""
    assert quizgen.POOL.parent == SOURCE and not any(quizgen.POOL.glob("*.ipynb"))
    assert quizgen.POOL.name not in nbgrader_run.assignments()
    assert not (RELEASE / quizgen.POOL.name).exists()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    root = tmp_path_factory.mktemp("quizzes")
    return {str(p.relative_to(root / "source")): nbformat.read(p, as_version=4) for p in quizgen.generate(root)}


def _questions(notebook) -> list[tuple[str, str, dict]]:
    """(markdown, hidden key, check cell metadata) per question of a generated notebook."""
    cells = notebook.cells
    found = []
    for index, cell in enumerate(cells):
        if cell.metadata.get("nbgrader", {}).get("grade"):
            found.append((cells[index - 2].source, cell.source.partition("BEGIN HIDDEN TESTS")[2], cell.metadata))
    return found


def test_generated_notebooks_name_no_question_id(generated):
    assert set(generated) == {quiz.path for quiz in quizgen.WEEKLY} | {quizgen.MOCK[0]}
    for path, notebook in generated.items():
        text = nbformat.writes(notebook)
        assert not ANY_ID.search(text), f"{path} names {ANY_ID.search(text).group()}"
        meta = notebook.metadata["course"]
        assert meta["questions"] == len(_questions(notebook)) and meta["syllabus"]


def test_each_question_keeps_its_syllabus_tags(generated):
    known = syllabus.all_ids()
    for path, notebook in generated.items():
        for markdown, _, meta in _questions(notebook):
            tags = meta["course"]["syllabus"]
            assert tags and set(tags) <= known and tags[-1] in syllabus.objectives(), (path, tags)
            assert f"*Syllabus: {', '.join(tags)}*" in markdown
            assert set(tags) <= set(notebook.metadata["course"]["syllabus"])


def test_graded_questions_come_from_the_pool_not_the_bank(generated):
    pool_stems = {_normal(q["stem"]) for q in POOL}
    bank_stems = {_normal(q["stem"]) for q in BANK}
    for path, notebook in generated.items():
        for markdown, key, _ in _questions(notebook):
            stem = _normal(markdown.split("\n\n", 1)[1].rsplit("\n\n", 2)[0])
            assert stem in pool_stems and stem not in bank_stems, f"{path}: {stem[:80]}"
            assert re.search(r'== \{"[A-E]"', key), "the hidden test holds the key"


def test_the_mock_follows_the_blueprint_and_the_weekly_quizzes_their_domains():
    chosen = quizgen.selections(POOL)
    path, blueprint, _ = quizgen.MOCK
    mock = chosen[path][2]
    assert Counter(q["domain"] for q in mock) == Counter(quizgen.exam.BLUEPRINTS[blueprint].allocation())
    assert len({q["id"] for q in mock}) == len(mock)
    for quiz in quizgen.WEEKLY:
        picked = chosen[quiz.path][2]
        assert Counter(q["domain"] for q in picked) == {d: quiz.per_domain for d in quiz.domains}
        assert len({q["id"] for q in picked}) == len(picked)


def test_a_pool_too_small_for_the_notebooks_is_refused(tmp_path):
    for path in quizgen.POOL.glob("*.yaml"):
        shutil.copy(path, tmp_path)
    d5 = yaml.safe_load((tmp_path / "d5.yaml").read_text(encoding="utf-8"))
    (tmp_path / "d5.yaml").write_text(yaml.safe_dump(d5[:5], sort_keys=False), encoding="utf-8")
    with pytest.raises(questions.BankError, match="D5 has 5, needs"):
        quizgen.selections(quizgen.load_pool(tmp_path))


def test_load_folder_refuses_a_malformed_pool(tmp_path):
    question = dict(next(q for q in POOL if q["id"] == "P4-001"))
    question.pop("_file")
    (tmp_path / "d4.yaml").write_text(yaml.safe_dump([question, question]), encoding="utf-8")
    with pytest.raises(questions.BankError, match="P4-001: duplicate id"):
        questions.load_folder(tmp_path, "P")
    with pytest.raises(questions.BankError, match="id must look like D2-007"):
        questions.load_folder(tmp_path, "D")
