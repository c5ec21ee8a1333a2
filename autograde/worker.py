"""A grading worker: one long-lived process that autogrades students one after another.

``autograde run`` starts one per worker slot (``python -m autograde.worker COURSE ASSIGNMENT DB_URL``)
and writes a student's name on its standard input for each submission; the worker grades it
with nbgrader's own Autograde converter, in this process (nbgrader's Python API: the same
preprocessors and configuration as ``nbgrader autograde``, without starting Python and nbgrader
again for every student), into its own scratch gradebook ``DB_URL``, and answers one JSON line:
``{"student", "success", "seconds", "log"}``. The grader copies the grades into the class gradebook before
sending the next name. The worker never sees the class gradebook's URL.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def api_for(root: Path, db_url: str):
    """nbgrader's API for the course folder ``root``, with its nbgrader_config.py and ``db_url``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from autograde.nbgrader_run import course_config

    config = course_config(root)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = db_url
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def main(argv: list[str] | None = None) -> int:
    root, assignment, db_url = (argv or sys.argv[1:])[:3]
    root_path = Path(root).resolve()
    os.chdir(root_path)
    sys.path.insert(0, str(root_path))
    api = api_for(root_path, db_url)
    reply = sys.stdout
    sys.stdout = sys.stderr   # only replies go to the grader's pipe
    for line in sys.stdin:
        student = line.strip()
        if not student:
            continue
        started = time.monotonic()
        result = api.autograde(assignment, student, force=True, create=True)
        log = (result.get("log") or "") + (result.get("error") or "")
        reply.write(json.dumps({"student": student, "success": bool(result.get("success")),
                                "seconds": round(time.monotonic() - started, 2), "log": log[-6000:]}) + "\n")
        reply.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
