"""release/ is generated from source/, in sync, and leaks nothing."""
import re
import shutil

import nbformat
import pytest

from autograde import grading, release
from notebook_files import RELEASE, ROOT, SOURCE, assignments, release_notebooks, source_notebooks

MARKERS = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS)|END (SOLUTION|HIDDEN TESTS)")


def test_every_assignment_has_a_release():
    assert source_notebooks(), "no source notebooks found"
    assert [p.relative_to(SOURCE) for p in source_notebooks()] == [p.relative_to(RELEASE) for p in release_notebooks()]


def test_release_is_in_sync_with_source(tmp_path):
    """Regenerating release/ from source/ changes no byte: run `make release` when this fails."""
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(SOURCE, tmp_path / "source")
    written = release.generate(tmp_path)
    assert written
    for fresh in written:
        committed = RELEASE / fresh.relative_to(tmp_path / "release")
        assert committed.exists(), f"{committed} is missing: run `make release`"
        assert fresh.read_bytes() == committed.read_bytes(), f"{committed} is out of date: run `make release`"


def test_quiz_notebooks_are_in_sync_with_the_question_bank(tmp_path):
    """Regenerating the quiz and mock-exam notebooks from the bank changes nothing: else run
    `autograde quizgen` and `make release`."""
    from autograde import quizgen

    for fresh in quizgen.generate(tmp_path):
        committed = SOURCE / fresh.relative_to(tmp_path / "source")
        assert committed.exists() and fresh.read_bytes() == committed.read_bytes(), f"{committed} is stale"


def _protected_lines(notebook):
    """Distinctive lines inside solution and hidden-test regions of a source notebook (lines that
    also appear outside those regions, in the lesson itself, are public)."""
    inside, protected, public = False, set(), set()
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if MARKERS.search(line):
                inside = "BEGIN" in line
                continue
            (protected if inside else public).add(line.strip())
    return {line for line in protected - public if len(line) >= 25}


@pytest.mark.parametrize("path", release_notebooks(), ids=lambda p: p.name)
def test_no_solution_or_hidden_test_reaches_release(path):
    text = path.read_text(encoding="utf-8")
    assert not MARKERS.search(text)
    source = nbformat.read(SOURCE / path.relative_to(RELEASE), as_version=4)
    released = nbformat.read(path, as_version=4)
    released_lines = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    protected = _protected_lines(source)
    if "questions" not in source.metadata.get("course", {}):  # lessons: solutions have long lines
        assert protected, "the leak check found no distinctive solution line to look for"
    leaked = protected & released_lines
    assert not leaked, f"solution or hidden-test lines in {path}: {sorted(leaked)[:3]}"


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.name)
def test_source_notebooks_are_clean_and_graded_cells_have_points(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: commit notebooks without outputs"
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "BEGIN SOLUTION" in cell.source, f"{path.name}: solution cell {meta['grade_id']} has no solution region"
    points = grading.points(notebook)
    assert points and all(value > 0 for value in points.values()), f"{path.name}: a graded cell has no points"
    assert notebook.metadata["course"]["syllabus"], "tag the lesson with its syllabus ids"


@pytest.mark.parametrize("assignment", assignments())
def test_each_assignment_reports_its_total(assignment):
    total = sum(sum(grading.points(nbformat.read(p, as_version=4)).values())
                for p in (SOURCE / assignment).glob("*.ipynb"))
    assert total > 0


def _single_answer_keys(notebook) -> list[str]:
    keys = []
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            letters = re.findall(r'"([A-E])"', cell.source.partition("### BEGIN HIDDEN TESTS")[2])
            if len(letters) == 1:
                keys += letters
    return keys


@pytest.mark.parametrize("path", [p for p in source_notebooks()
                                  if "questions" in nbformat.read(p, as_version=4).metadata.get("course", {})],
                         ids=lambda p: p.stem)
def test_quiz_keys_are_spread_over_the_letters(path):
    """A learner who always answers the same letter must not pass: in every generated quiz and mock
    exam each of A to D is a single-answer key, and no letter holds more than 40% of them."""
    keys = _single_answer_keys(nbformat.read(path, as_version=4))
    assert len(keys) >= 8, f"{path.name}: too few single-answer questions to judge the spread"
    counts = {letter: keys.count(letter) for letter in "ABCD"}
    assert all(counts.values()), f"{path.name}: a letter is never the key: {counts}"
    assert max(counts.values()) <= 0.4 * len(keys), f"{path.name}: one letter holds over 40% of the keys: {counts}"


def test_balancing_moves_options_with_their_explanations():
    from autograde import quizgen
    from course import questions

    single = [q for q in questions.load_bank() if q["choose"] == 1][:12]
    for before, after in zip(single, quizgen.balance_keys(single)):
        assert sorted(after["options"]) == sorted(before["options"])
        assert after["options"][after["answer"][0]] == before["options"][before["answer"][0]]
        for option, why in zip(after["options"], after["explanation"]["options"]):
            assert why == before["explanation"]["options"][before["options"].index(option)]


def test_the_start_page_links_every_notebook_of_the_release():
    """release/00-start-here.ipynb (written by `make release`) maps the whole course."""
    page = nbformat.read(RELEASE / "00-start-here.ipynb", as_version=4)
    text = "\n".join(c.source for c in page.cells if c.cell_type == "markdown")
    links = set(re.findall(r"\]\(([^)]+\.ipynb)\)", text))
    assert links and all((RELEASE / link).exists() for link in links), sorted(l for l in links if not (RELEASE / l).exists())
    assert {p.relative_to(RELEASE).as_posix() for p in release_notebooks()} <= links
    launchers = "\n".join(c.source for c in page.cells if c.cell_type == "code")
    for call in ("practice(domain=", "practice(concept=", "practice(weak=True", 'mock_exam("official-2025"', 'mock_exam("seed"'):
        assert call in launchers, f"the start page has no launcher {call}"
