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
