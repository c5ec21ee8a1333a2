"""Run nbgrader commands for the course from Python, with the environment nbgrader expects.

nbgrader starts ``alembic`` and Jupyter kernels as subprocesses, so the folder of the running
interpreter must be on PATH; every command runs from the course root so ``nbgrader_config.py``
applies.
"""
from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from pathlib import Path

from autograde.memory import PeakMemory

ROOT = Path(__file__).resolve().parents[1]


class NbgraderError(RuntimeError):
    pass


def environment(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("COURSE_HEADLESS", "1")
    env.update(extra or {})
    return env


@functools.lru_cache(maxsize=1)
def alembic_head() -> str:
    """The gradebook schema's alembic revision, read in this process. nbgrader asks a new ``alembic``
    process for it each time it creates a gradebook (``nbgrader.api.get_alembic_version``, over a
    second); ``faster_gradebook_creation`` makes nbgrader ask this instead."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def faster_gradebook_creation() -> None:
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head


@contextlib.contextmanager
def interpreter_on_path():
    """nbgrader's Gradebook runs ``alembic`` when it creates a database: in this process too."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = environment()["PATH"]
    try:
        yield
    finally:
        os.environ["PATH"] = before


def run(args: list[str], root: Path = ROOT, db: Path | None = None, timeout: float = 3600,
        peak: PeakMemory | None = None) -> str:
    """``nbgrader <args>`` in ``root``; returns its log, raises NbgraderError on failure. With
    ``peak``, the memory of nbgrader's process tree (its kernels and their Spark JVMs too) is
    sampled while it runs and its peak kept there."""
    command = [sys.executable, "-m", "nbgrader", *args]
    if db is not None:
        command.append(f"--CourseDirectory.db_url=sqlite:///{Path(db).resolve()}")
    with subprocess.Popen(command, cwd=root, env=environment(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        with peak.watching(process.pid) if peak is not None else contextlib.nullcontext():
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise
    log = stdout + stderr
    if process.returncode != 0 or "[ERROR]" in log or "| ERROR]" in log:
        raise NbgraderError(f"nbgrader {' '.join(args)} failed:\n{log[-4000:]}")
    return log


def course_config(course_root: Path):
    """A course folder's ``nbgrader_config.py``, loaded as nbgrader loads it (traitlets)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()


def assignments(root: Path = ROOT) -> list[str]:
    """Every assignment: a folder of ``source/`` that holds notebooks."""
    source = root / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
