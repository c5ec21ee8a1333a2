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
