"""Where the course's notebooks are, for the tests."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"


def source_notebooks() -> list[Path]:
    return sorted(p for p in SOURCE.glob("*/*.ipynb"))


def release_notebooks() -> list[Path]:
    return sorted(p for p in RELEASE.glob("*/*.ipynb"))


def assignments() -> list[str]:
    return sorted({p.parent.name for p in source_notebooks()})


def answer_regions(source: str) -> tuple[str, str]:
    """(scaffold, solution) of an answer cell: the lines outside nbgrader's solution region (what
    the student version holds) and the lines inside it."""
    outside, inside, within = [], [], False
    for line in source.splitlines():
        if line.strip().startswith(("### BEGIN SOLUTION", "### END SOLUTION")):
            within = line.strip().startswith("### BEGIN")
        else:
            (inside if within else outside).append(line)
    return "\n".join(outside), "\n".join(inside)


def lesson_notebooks() -> list[Path]:
    """The lesson notebooks of source/ (not the quizzes or the mock exam)."""
    import nbformat

    return [p for p in source_notebooks()
            if "questions" not in nbformat.read(p, as_version=4).metadata.get("course", {})]


def asks_for_classic(path: Path) -> bool:
    """Whether a lesson asks for a classic session (``get_spark(classic=True)``) rather than the
    course engine: the lessons that need the classic API (``sparkContext``, RDDs)."""
    import nbformat

    return any("get_spark(classic=True)" in cell.source
               for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


def uses_spark(path: Path) -> bool:
    """False for a lesson whose metadata says it needs no Spark (``"spark": false``)."""
    import nbformat

    return nbformat.read(path, as_version=4).metadata.get("course", {}).get("spark", True)


SESSION_PROBE = ("from course import engine\nfrom course.spark import is_connect\n"
                 "print('session:', 'none' if 'spark' not in globals() else 'engine' if engine.serves(spark) "
                 "else 'connect' if is_connect(spark) else 'classic')")


def execute_lesson(path: Path, prelude: str, epilogue: str = "", timeout: int = 300):
    """Run a lesson top to bottom in a fresh kernel, after a ``prelude`` cell (environment
    variables that choose the Spark to use) and before an optional ``epilogue`` cell; return the
    executed notebook, whose cell 0 is the prelude."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [nbformat.v4.new_code_cell(prelude), *notebook.cells,
                      *([nbformat.v4.new_code_cell(epilogue)] if epilogue else [])]
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def cell_errors(notebook) -> list[str]:
    """'cell N: Error: message' for every cell that raised (N counts the lesson's own cells)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index - 1}: {output.ename}: {output.evalue[:300]}")
    return found


def nbgrader_cell(grade_id: str, source: str, points: float | None = None, solution: bool = False,
                  course: dict | None = None):
    """A code cell with nbgrader's metadata: an answer cell (``solution``), a graded test cell
    (``points``; locked) or a plain cell, with the course's own cell metadata when given."""
    from nbformat.v4 import new_code_cell

    meta = {"grade": points is not None, "grade_id": grade_id, "locked": points is not None,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return new_code_cell(source, metadata={"nbgrader": meta, **({"course": course} if course else {})})


def answered(release, answers: dict[str, str]):
    """A copy of the student version ``release`` with ``answers`` (grade_id -> source) in its cells."""
    import nbformat

    copy = nbformat.from_dict(release)
    for cell in copy.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return copy
