"""One truth per exercise: the visible check and the hidden tests agree on every catalogued answer.

Each lesson has two catalogs, keyed by the graded check cell's grade id:
``tests/wrong_answers/<lesson>.yaml`` (plausible mistakes: leakage, wrong strategy, wrong column,
wrong metric...) and ``tests/right_answers/<lesson>.yaml`` (other correct answers: another column
order, an equivalent API, another idiom). Every wrong answer must fail the self-paced check, with
a message that is not "Correct", and fail the hidden tests on their own; every right answer must
pass the whole graded cell (the self-paced check prints "Correct", the hidden tests pass, nothing
goes to stderr: full marks) and the classroom-mode check; a failure is then run part by part to
name the part. Each lesson runs as a learner's does: on the course engine (a
Spark Connect server that this test process's notebooks share), or on a classic session of its own
when it asks for one. A graded cell that writes to stderr (a library warning, say)
gets zero points from nbgrader even when its tests pass, so the solution's graded cells, and each
right answer's, must write nothing there.

The lesson runs as the learner first meets it: the student version from release/, top to bottom,
untouched. Every lesson cell runs without error and every check says "not attempted yet" in one
line (an untouched notebook gets zero). Then, exercise by exercise, the catalogued answers are
tried, and the solution is put in and must pass its whole graded cell before the next exercise.
"""
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from notebook_files import RELEASE, SESSION_PROBE, SOURCE, answer_regions, asks_for_classic, source_notebooks, uses_spark

pytestmark = [pytest.mark.notebooks]
TESTS = Path(__file__).parent
WRONG, RIGHT = TESTS / "wrong_answers", TESTS / "right_answers"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MIN_WRONG, MIN_RIGHT = 3, 2


def lessons() -> list[Path]:
    """Lesson notebooks (generated quizzes are graded by their key alone)."""
    return [p for p in source_notebooks()
            if "questions" not in nbformat.read(p, as_version=4).metadata.get("course", {})]


def _graded(notebook) -> dict[str, tuple[int, nbformat.NotebookNode]]:
    return {c.metadata["nbgrader"]["grade_id"]: (i, c) for i, c in enumerate(notebook.cells)
            if c.metadata.get("nbgrader", {}).get("grade")}


def _parts(check_source: str) -> tuple[str, str]:
    """(visible check, hidden tests) of a check cell."""
    visible, _, rest = check_source.partition(HIDDEN_BEGIN)
    return visible, rest.partition(HIDDEN_END)[0]


def _stderr(cell) -> str:
    """What a cell wrote to stderr: nbgrader gives a graded cell that writes there zero points."""
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.get("name") == "stderr")


class Kernel:
    def __init__(self, client: NotebookClient):
        self.client = client
        self.stderr = ""   # what the last cell run wrote to stderr

    def run(self, code: str, index: int) -> tuple[str | None, str, str]:
        """(error name or None, error message, printed output) of ``code`` run as cell ``index``."""
        cell = nbformat.v4.new_code_cell(code)
        self.client.execute_cell(cell, index)
        self.stderr = _stderr(cell)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        if errors:
            return errors[0].ename, errors[0].evalue, printed
        return None, "", printed


def right_answer_failures(kernel: Kernel, trial, answer: dict, visible: str, hidden: str, check_index: int,
                          whole_cell: str) -> list[str]:
    """What fails, part by part, for a right answer whose whole graded cell did not pass cleanly
    (``whole_cell``: that run's error message, or what it wrote to stderr)."""
    failures = []
    trial(answer)
    error, message, printed = kernel.run(visible, check_index)
    if error or "✔ Correct" not in printed:
        failures.append(f"failed the self-paced check: {message or printed.strip()[:120]}")
    trial(answer)
    error, message, _ = kernel.run(hidden, check_index)
    if error:
        failures.append(f"failed the hidden tests: {message}")
    # both parts pass on their own: together they err, or the cell writes to stderr
    return failures or [f"lost the cell's points (an error, or output on stderr: {whole_cell[:120]})"]


def _normalised(code: str) -> str:
    return "".join(code.split())


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.stem)
def test_catalogued_answers_get_one_verdict(path):
    notebook = nbformat.read(path, as_version=4)
    wrong_file, right_file = WRONG / f"{path.stem}.yaml", RIGHT / f"{path.stem}.yaml"
    assert wrong_file.exists() and right_file.exists(), f"{path.stem}: write {wrong_file.name} in both catalogs"
    wrong, right = yaml.safe_load(wrong_file.read_text()), yaml.safe_load(right_file.read_text())
    graded = _graded(notebook)
    by_id = {c.metadata["nbgrader"]["grade_id"]: (i, c) for i, c in enumerate(notebook.cells)
             if "nbgrader" in c.metadata}
    assert set(wrong) == set(graded) == set(right), \
        f"catalogs and graded cells differ: {sorted(set(graded) ^ set(wrong))} {sorted(set(graded) ^ set(right))}"

    student = nbformat.read(RELEASE / path.relative_to(SOURCE), as_version=4)   # in step: tests/test_release.py
    client = NotebookClient(student, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    problems = []
    with client.setup_kernel():
        kernel = Kernel(client)
        kernel.run("import os; os.environ.pop('COURSE_MODE', None); os.environ.pop('NBGRADER_EXECUTION', None)", 0)
        for index, cell in enumerate(student.cells):
            client.execute_cell(cell, index)
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("grade"):
                assert errors and errors[0].ename == "NotAttempted" and "not attempted yet" in errors[0].evalue, \
                    f"the untouched {grade_id} does not say 'not attempted yet': {errors}"
                assert len(errors[0].traceback) == 1, f"{grade_id}: a failed check shows one line, not a traceback"
            else:
                assert not errors, (f"the student version failed at cell {index} ({grade_id or 'a lesson cell'}): "
                                    f"{errors[0].evalue[:300]}")
        # A lesson runs on the course engine (Spark Connect) unless it asks for a classic session.
        expected = "classic" if asks_for_classic(path) else "engine" if uses_spark(path) else "none"
        printed = kernel.run(SESSION_PROBE, 0)[2]
        assert f"session: {expected}" in printed, f"expected a session on {expected}: {printed}"
        for check_id, (check_index, check_cell) in graded.items():
            answer_index, answer_cell = by_id[check_id.replace("-check", "-answer")]
            visible, hidden = _parts(check_cell.source)
            assert hidden.strip(), f"{check_id} has no hidden tests"
            scaffold, solution = answer_regions(answer_cell.source)
            solution = _normalised(solution)
            assert len(wrong[check_id]) >= MIN_WRONG, f"{check_id}: catalogue at least {MIN_WRONG} wrong answers"
            assert len(right[check_id]) >= MIN_RIGHT, f"{check_id}: catalogue at least {MIN_RIGHT} right answers"

            def trial(answer):
                kernel.run(scaffold, answer_index)   # back to the student's starting point
                error, message, _ = kernel.run(answer["code"], answer_index)
                assert error is None, f"{check_id}: the catalogued answer '{answer['why']}' itself fails: {message}"

            for answer in wrong[check_id]:
                trial(answer)
                error, message, printed = kernel.run(visible, check_index)
                if error not in ("CheckFailed", "NotAttempted") or "Correct" in printed:
                    problems.append(f"{check_id}: wrong answer '{answer['why']}' passed the self-paced check "
                                    f"({error or printed.strip()[:80]})")
                if kernel.run(hidden, check_index)[0] is None:
                    problems.append(f"{check_id}: wrong answer '{answer['why']}' passed the hidden tests")
            for answer in right[check_id]:
                if _normalised(answer["code"]) == solution:
                    problems.append(f"{check_id}: right answer '{answer['why']}' is the solution itself")
                trial(answer)
                # The whole graded cell runs the visible check, then the hidden tests: no error, "✔ Correct"
                # printed and nothing on stderr means both parts pass and the cell keeps its points. Only a
                # failure is run again part by part, to say which part failed.
                error, message, printed = kernel.run(check_cell.source, check_index)
                if error or kernel.stderr or "✔ Correct" not in printed:
                    problems.extend(f"{check_id}: right answer '{answer['why']}' {failure}"
                                    for failure in right_answer_failures(kernel, trial, answer, visible, hidden,
                                                                         check_index, message or kernel.stderr))
                error, message, printed = kernel.run(
                    "os.environ['COURSE_MODE'] = 'classroom'\ntry:\n"
                    + "".join(f"    {line}\n" for line in visible.strip().splitlines())
                    + "finally:\n    os.environ.pop('COURSE_MODE')", check_index)
                if error or "✔" not in printed:
                    problems.append(f"{check_id}: right answer '{answer['why']}' failed the classroom check: {message}")
            # The solution, for later exercises: its whole graded cell passes and writes nothing to stderr.
            error, message, _ = kernel.run(answer_cell.source, answer_index)
            assert error is None, f"{check_id}: the solution fails: {message[:300]}"
            error, message, printed = kernel.run(check_cell.source, check_index)
            assert error is None and "✔ Correct" in printed, f"{check_id}: the solution fails its graded cell: {message[:300]}"
            assert not kernel.stderr, (f"{check_id} writes to stderr with the solution, which costs its points in "
                                       f"nbgrader: {kernel.stderr[:300]}")
    assert not problems, "\n".join(problems)
