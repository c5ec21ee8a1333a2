"""Grading lessons with and without Spark's class archive, side by side.

nbgrader autogrades a lesson's solution as a classroom (and ``make test``) does: in the sandbox,
with the grading guard, one fresh kernel per notebook, each starting a classic Spark session. The
class-data-sharing archive (``course warmup``, run by ``make lab`` and ``make test``) is bound into
the sandbox when it exists; without it (``COURSE_CDS_DIR`` pointing at an empty folder) every
graded kernel's JVM loads and verifies Spark's classes from the jars again.

The two variants alternate, run after run. Printed: each run's wall time per variant, the medians
and the ratio of the medians (with archive / without).

    .venv/bin/python bench/class_archive.py [--runs 3] [source/<assignment>/<lesson>.ipynb ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_LESSONS = ("week1-ml-fundamentals/02-spark-dataframes.ipynb",
                   "week2-feature-engineering/01-exploring-cleaning-data.ipynb")


def grade(lesson: Path) -> float:
    """Seconds nbgrader takes to autograde ``lesson``'s solution; the solution must get full marks."""
    from autograde import grading

    started = time.perf_counter()
    result = grading.autograde_notebook(lesson.parent.name, lesson.name, lesson, "solution")
    seconds = time.perf_counter() - started
    if result.score != result.max_score:
        raise SystemExit(f"{lesson.stem}: the solution got {result.score} of {result.max_score}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs per variant; medians are compared")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    lessons = [p.resolve() for p in args.lessons] or [ROOT / "source" / name for name in DEFAULT_LESSONS]
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-archive-"))
    os.environ["COURSE_HEADLESS"] = "1"
    from course import spark as course_spark

    archive = course_spark.build_class_archive()
    variants = {"with archive": str(archive.parent), "without archive": tempfile.mkdtemp(prefix="bench-no-archive-")}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for run in range(args.runs):
        order = list(variants) if run % 2 == 0 else list(reversed(variants))
        for name in order:
            os.environ["COURSE_CDS_DIR"] = variants[name]   # the folder the archive is looked for in
            times[name].append(sum(grade(lesson) for lesson in lessons))
        print(f"run {run + 1}: " + "  ".join(f"{n} {times[n][-1]:.1f} s" for n in variants), flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nnbgrader autogrades {', '.join(p.stem for p in lessons)} (solutions, sandboxed), "
          f"{args.runs} runs, {os.cpu_count()} cores; median seconds:")
    for name, median in medians.items():
        print(f"  {name:<16} {median:7.1f} s")
    print(f"with / without archive, median: {medians['with archive'] / medians['without archive']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
