"""nbgrader autograde: the solution gets full marks, the untouched student version zero, and the
student version runs top to bottom with only the checks failing (its answer cells hold `...`).

Every assignment's solution is autograded whole. The untouched student version of every lesson
already runs top to bottom in tests/test_answer_catalogs.py (each check must say "not attempted
yet" there), so nbgrader autogrades untouched only the notebooks no catalog runs, the quizzes and
the mock exam, and one lesson, to show nbgrader's own zero end to end.
"""
import nbformat
import pytest

from autograde import grading
from notebook_files import RELEASE, SOURCE, assignments, release_notebooks

# The lesson that nbgrader also autogrades untouched: the first one a learner opens.
UNTOUCHED_LESSON = RELEASE / "week1-ml-fundamentals" / "01-orientation.ipynb"


def untouched_by_nbgrader() -> list:
    """The student notebooks nbgrader autogrades untouched: every quiz, the mock exam, one lesson."""
    return [p for p in release_notebooks()
            if p == UNTOUCHED_LESSON or "questions" in nbformat.read(p, as_version=4).metadata.get("course", {})]

pytestmark = [pytest.mark.notebooks]

# mybinder.org restarts a kernel that goes over 2 GB, read here as 2 * 10**9 bytes (the stricter reading).
BINDER_MEMORY = 2 * 10**9


def assert_fits_binder(result: grading.Result) -> None:
    """nbgrader runs every notebook of the assignment top to bottom, in a fresh kernel each, as a
    Binder visitor would; the peak is that of the kernel with everything it starts (Spark's JVM and
    Python workers, model servers)."""
    peak = result.peak_memory
    assert 0 < peak < BINDER_MEMORY, (f"{result.assignment}: its notebooks peaked at {peak / 2**30:.2f} GiB "
                                      "(PSS of the kernel and all it starts); Binder allows 2 GB")


@pytest.mark.parametrize("assignment", assignments())
def test_solution_gets_full_marks(assignment):
    result = grading.autograde_folder(assignment, SOURCE / assignment, "solution")
    assert result.max_score > 0
    failed = [c.grade_id for c in result.cells if c.score < c.max_score]
    assert not failed, f"cells without full marks: {failed}"
    for name, notebook in result.autograded.items():   # no cell of the solution may raise
        for cell in notebook.cells:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            assert not errors, f"{name}: a cell of the solution raised {errors[0].ename}: {errors[0].evalue[:300]}"
    assert_fits_binder(result)


@pytest.mark.parametrize("path", untouched_by_nbgrader(), ids=lambda p: p.stem)
def test_untouched_release_gets_zero_and_says_not_attempted(path):
    result = grading.autograde_notebook(path.parent.name, path.name, path, "untouched")
    assert result.max_score > 0 and result.score == 0, [(c.grade_id, c.score) for c in result.cells if c.score]
    assert_fits_binder(result)
    for name, notebook in result.autograded.items():
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            errors = [o for o in cell.outputs if o.output_type == "error"]
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                assert errors and errors[0].ename == "NotAttempted", f"{name}: {meta['grade_id']} {errors}"
                assert "not attempted yet" in errors[0].evalue
                assert len(errors[0].traceback) == 1, "a failed check shows one line, not a traceback"
            else:
                assert not errors, f"{name}: a lesson or answer cell failed in the student version: {errors[0].evalue[:300]}"
