"""Where the course keeps its data: one folder per learner, never the current directory.

The folder is ``$COURSE_DATA`` when set, otherwise ``$XDG_DATA_HOME/ml-associate-course``
(``~/.local/share/ml-associate-course`` on Linux and macOS, ``%LOCALAPPDATA%`` on Windows).
Everything the course writes lives below it: Spark's warehouse and temp files, the MLflow
tracking store and artifacts, cached datasets and the progress store.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "ml-associate-course"


def data_dir() -> Path:
    """Return the course data folder, creating it when missing."""
    override = os.environ.get("COURSE_DATA")
    if override:
        root = Path(override).expanduser()
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        root = Path(os.environ["LOCALAPPDATA"]) / APP_NAME
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        root = Path(base) / APP_NAME
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def sub_dir(name: str) -> Path:
    """A named folder inside the data folder (``spark``, ``mlflow``, ``datasets``...)."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
