"""``autograde run`` on an installation without Spark's class archive: grading the class without it
(the run as it was) against building it first (the run as it is), side by side.

An instructor who has not run ``make lab`` or ``course warmup`` has no class-data-sharing archive.
The run now builds it before grading an assignment with Spark notebooks (about a minute, once per
installation) and every graded kernel maps it. Whether that pays depends on the size of the class,
so this grades a whole class: ``--students`` copies of a solved Spark lesson (by default week 1's
first), in a scratch course, with the course's ``nbgrader_config.py`` and parallel workers.

Each round starts both variants from an empty archive folder (``COURSE_CDS_DIR``), so the variant
that builds pays for the build every round; the variants alternate. Printed: each round's wall
time per variant, the medians and their ratio, and whether every submission got full marks.

    .venv/bin/python bench/class_archive_run.py [--students 12] [--rounds 3] [--workers N]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograde import run

ROOT = Path(__file__).resolve().parents[1]
LESSON = "week1-ml-fundamentals/01-orientation.ipynb"


def solved_submission(lesson: str) -> nbformat.NotebookNode:
    """The student version of ``lesson`` with the instructor's answers in its answer cells."""
    solved = nbformat.read(ROOT / "source" / lesson, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    student = nbformat.read(ROOT / "release" / lesson, as_version=4)
    for cell in student.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return student


def scratch_course(folder: Path, lesson: str, students: int) -> Path:
    assignment, name = lesson.split("/")
    course = folder / "course"
    (course / "source" / assignment).mkdir(parents=True)
    shutil.copyfile(ROOT / "source" / lesson, course / "source" / assignment / name)
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    submission = solved_submission(lesson)
    for number in range(students):
        (course / "submitted" / f"student{number:02d}" / assignment).mkdir(parents=True)
        nbformat.write(submission, course / "submitted" / f"student{number:02d}" / assignment / name)
    return course


def grade_class(lesson: str, students: int, workers: int, build: bool) -> float:
    """Seconds ``autograde run`` takes for the class, starting without an archive; every
    submission must get full marks."""
    with tempfile.TemporaryDirectory(prefix="bench-class-archive-") as folder:
        os.environ["COURSE_CDS_DIR"] = str(Path(folder) / "cds")   # empty: no archive yet
        course = scratch_course(Path(folder), lesson, students)
        ensure = run.ensure_class_archive
        if not build:
            run.ensure_class_archive = lambda out=None: None        # the run as it was
        try:
            started = time.perf_counter()
            outcomes = run.run(course, lesson.split("/")[0], workers=workers, out=io.StringIO())
            seconds = time.perf_counter() - started
        finally:
            run.ensure_class_archive = ensure
        built = any((Path(folder) / "cds").glob("spark-*.jsa"))
    short = [o for o in outcomes if o.status != "graded" or o.score != o.max_score]
    if short or built != build:
        raise SystemExit(f"not every submission got full marks ({short}), or the archive was "
                         f"{'not ' if build else ''}built")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default=LESSON, help="a Spark lesson, as <assignment>/<notebook>")
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant; medians are compared")
    parser.add_argument("--workers", type=int, default=run.default_workers())
    args = parser.parse_args()
    if min(args.students, args.rounds, args.workers) < 1:
        parser.error("--students, --rounds and --workers must be 1 or more")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-class-archive-data-"))
    os.environ["COURSE_HEADLESS"] = "1"
    variants = {"grading without it": False, "building it first": True}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(args.rounds):
        order = list(variants) if round_number % 2 == 0 else list(reversed(variants))
        for name in order:
            times[name].append(grade_class(args.lesson, args.students, args.workers, variants[name]))
        print(f"round {round_number + 1}: " + "  ".join(f"{n} {times[n][-1]:.1f} s" for n in variants), flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nautograde run, {args.students} solved submissions of {Path(args.lesson).stem}, {args.workers} workers, "
          f"{os.cpu_count()} cores, no class archive at the start; {args.rounds} rounds, median seconds:")
    for name, median in medians.items():
        print(f"  {name:<20} {median:7.1f} s")
    print("every submission got full marks on both sides")
    print(f"building it first / grading without it, median: "
          f"{medians['building it first'] / medians['grading without it']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
