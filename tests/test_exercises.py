"""Each exercise definition agrees with its notebook: one solution, a scaffold that names what to
define, hints that escalate without giving the solution away."""
import re

import nbformat
import pytest

from course.coverage import lesson_exercises
from notebook_files import answer_regions, source_notebooks

EXERCISES = lesson_exercises()
NOTEBOOKS = {p.stem: p for p in source_notebooks()}


def _squeeze(code: str) -> str:
    return "".join(code.split())


def _cells(exercise):
    stem, number = exercise.id.split(".")
    assert stem in NOTEBOOKS, f"{exercise.id}: no source notebook {stem}.ipynb"
    notebook = nbformat.read(NOTEBOOKS[stem], as_version=4)
    found = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        for kind in ("answer", "check"):
            if grade_id.endswith(f"-{number}-{kind}"):
                found[kind] = cell
    assert set(found) == {"answer", "check"}, f"{exercise.id}: answer or check cell missing"
    return found["answer"], found["check"]


def test_exercise_ids_are_unique():
    ids = [e.id for e in EXERCISES]
    assert ids and len(ids) == len(set(ids))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_solution_code_is_the_notebooks_solution(exercise):
    answer, check = _cells(exercise)
    assert _squeeze(exercise.solution_code) == _squeeze(answer_regions(answer.source)[1]), \
        f"{exercise.id}: solution_code and the notebook's solution region differ"
    number = exercise.id.split(".")[1]
    assert check.source.lstrip().startswith(f"{number}.check()"), f"{exercise.id}: the check cell opens with {number}.check()"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_scaffold_names_every_answer(exercise):
    scaffold = answer_regions(_cells(exercise)[0].source)[0]
    for name in exercise.names:
        assert re.search(rf"^{re.escape(name)} = \.\.\.", scaffold, re.MULTILINE), \
            f"{exercise.id}: the answer cell should open with `{name} = ...` (one name per line)"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_hints_escalate_without_the_solution(exercise):
    assert len(exercise.hints) >= 3, f"{exercise.id}: three hints (concept, API, skeleton)"
    solution_lines = [_squeeze(line) for line in exercise.solution_code.splitlines() if len(line.strip()) >= 20]
    for hint in exercise.hints:
        squeezed = _squeeze(hint)
        given = [line for line in solution_lines if line in squeezed]
        assert not given, f"{exercise.id}: a hint gives a line of the solution away: {given[0]}"
    assert _squeeze(exercise.solution_code) not in _squeeze(" ".join(exercise.hints))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_guessable_exercises_check_their_form(exercise):
    if exercise.guessable:
        assert exercise.form is not None, f"{exercise.id}: a guessable exercise needs a form check for classroom mode"


def test_a_late_load_from_an_earlier_job_is_not_counted(tmp_path):
    # A task of a failed job can finish loading after the next check reset the counter: its line
    # arrives late but says when its load began, so the next count leaves it out.
    from course.exercises.w3_batch_inference import LoadCounter

    counter = LoadCounter(tmp_path / "model", tmp_path / "loads.log")
    began_before_reset = counter.since - 1.0
    counter.reset()
    with open(counter.log_path, "a") as log:
        log.write(f"101 {began_before_reset}\n")          # the earlier job's late line
        log.write(f"102 {counter.since + 0.5}\n")         # a load of this job
    assert counter.count() == 1
