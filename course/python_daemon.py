"""Spark's Python worker daemon, importing PySpark from its installed files instead of a zip.

Spark starts Python workers with ``PYTHONPATH`` beginning with ``$SPARK_HOME/python/lib/
pyspark.zip`` (and py4j's zip). Modules in those zips carry no compiled bytecode, so the daemon
and every worker it forks compile each PySpark module they import: about half a second before
the first Python job of a session can run. When the zip holds the very PySpark (and py4j)
installed in this environment, this daemon moves the zips behind the installed packages, whose
bytecode is cached, and then runs PySpark's own daemon unchanged.

``course.spark`` selects it with Spark's ``spark.python.daemon.module`` setting, for local
sessions whose workers run this interpreter (where ``course`` can be imported).
"""
from __future__ import annotations

import importlib.machinery
import os
import sys
import zipfile
from pathlib import Path

PACKAGES = ("pyspark", "py4j")


def _installed_version_file(package: str, search_path: list[str]) -> Path | None:
    spec = importlib.machinery.PathFinder.find_spec(package, search_path)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "version.py"


def _zip_holds_installed(archive: str, search_path: list[str]) -> bool:
    """True when every package in the zip is installed, with an identical version file."""
    try:
        with zipfile.ZipFile(archive) as opened:
            names = set(opened.namelist())
            packages = [p for p in PACKAGES if f"{p}/version.py" in names]
            for package in packages:
                installed = _installed_version_file(package, search_path)
                if installed is None or installed.read_bytes() != opened.read(f"{package}/version.py"):
                    return False
            return bool(packages)
    except (OSError, zipfile.BadZipFile):
        return False


def prefer_installed_packages(path: list[str]) -> list[str]:
    """``path`` with Spark's zips moved to the end where they duplicate installed packages."""
    zips = [entry for entry in path if entry.endswith(".zip") and os.path.isfile(entry)]
    rest = [entry for entry in path if entry not in zips]
    duplicates = [entry for entry in zips if _zip_holds_installed(entry, rest)]
    return [entry for entry in path if entry not in duplicates] + duplicates


if __name__ == "__main__":
    sys.path[:] = prefer_installed_packages(sys.path)
    from pyspark import daemon

    daemon.manager()
