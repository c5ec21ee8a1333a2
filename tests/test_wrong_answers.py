"""Hidden tests fail plausible wrong answers (and the visible checks let some through, which is
why the hidden tests exist). Each lesson's wrong answers live in tests/wrong_answers/<lesson>.yaml."""
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from notebook_files import source_notebooks

pytestmark = [pytest.mark.notebooks]
WRONG = Path(__file__).with_name("wrong_answers")


def _cells_by_grade_id(notebook):
    return {c.metadata["nbgrader"]["grade_id"]: (i, c) for i, c in enumerate(notebook.cells)
            if "nbgrader" in c.metadata}


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("path", [p for p in source_notebooks() if (WRONG / f"{p.stem}.yaml").exists()],
                         ids=lambda p: p.stem)
def test_wrong_answers_lose_their_points(path):
    wrong = yaml.safe_load((WRONG / f"{path.stem}.yaml").read_text())
    notebook = nbformat.read(path, as_version=4)
    by_id = _cells_by_grade_id(notebook)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    problems = []
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
            assert not _errors(cell), f"the solution notebook failed at cell {index}: {_errors(cell)[0].evalue[:300]}"
        for check_id, answers in wrong.items():
            check_index, check_cell = by_id[check_id]
            answer_index, answer_cell = by_id[check_id.replace("-check", "-answer")]
            visible = nbformat.v4.new_code_cell(check_cell.source.split("### BEGIN HIDDEN TESTS")[0])
            for answer in answers:
                trial = nbformat.v4.new_code_cell(answer["code"])
                client.execute_cell(trial, answer_index)
                graded = nbformat.v4.new_code_cell(check_cell.source)
                client.execute_cell(graded, check_index)
                if not _errors(graded):
                    problems.append(f"{check_id}: '{answer['why']}' got the points")
                if answer.get("visible_passes"):
                    client.execute_cell(visible, check_index)
                    if _errors(visible):
                        problems.append(f"{check_id}: '{answer['why']}' expected to pass the visible check "
                                        f"(else the hidden test is untested): {_errors(visible)[0].evalue}")
            restore = nbformat.v4.new_code_cell(answer_cell.source)
            client.execute_cell(restore, answer_index)
    assert not problems, "\n".join(problems)
