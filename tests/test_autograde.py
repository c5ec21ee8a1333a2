"""nbgrader autograde: the solution gets full marks, the untouched student version zero, and the
student version runs top to bottom with only the checks failing (its answer cells hold `...`)."""
import pytest

from autograde import grading
from notebook_files import RELEASE, SOURCE, assignments

pytestmark = [pytest.mark.notebooks]


@pytest.mark.parametrize("assignment", assignments())
def test_solution_gets_full_marks(assignment):
    result = grading.autograde_folder(assignment, SOURCE / assignment, "solution")
    assert result.max_score > 0
    failed = [c.grade_id for c in result.cells if c.score < c.max_score]
    assert not failed, f"cells without full marks: {failed}"


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_release_gets_zero_and_says_not_attempted(assignment):
    result = grading.autograde_folder(assignment, RELEASE / assignment, "untouched")
    assert result.max_score > 0 and result.score == 0, [(c.grade_id, c.score) for c in result.cells if c.score]
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
