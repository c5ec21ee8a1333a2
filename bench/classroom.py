"""Grading a class: stock ``nbgrader autograde`` (one student after another) against
``autograde run`` (parallel workers, sandboxed, guarded), side by side in one run.

A class of generated submissions of the week 1 review quiz (15 questions; a kernel per
submission, as any graded notebook): right, partly right, wrong, untouched and broken (a damaged
file; a cell that kills the kernel). Each side grades the same class in its own copy of a scratch
course, with the course's ``nbgrader_config.py`` (stock: with nbgrader's own Execute).

Prints each side's wall time per round, the medians, the median of the per-round ratios, and
whether the grades agree: every submission but the kernel crash gets the same score on both sides
and ``autograde run`` does not grade the damaged file; the kernel crash's two scores are printed
(``autograde run`` keeps the credit of the cells that did not crash; stock nbgrader gives none).

    .venv/bin/python bench/classroom.py --students 30 --rounds 3
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograde import gradebook, nbgrader_run, run  # noqa: E402

ASSIGNMENT = "week1-ml-fundamentals"
QUIZ = "90-week1-review-quiz.ipynb"
STOCK = ("\nfrom nbgrader.converters import Autograde\n"
         "c.Autograde.autograde_preprocessors = Autograde.class_traits()['autograde_preprocessors'].default()\n")


def crash_and_damaged(size: int) -> tuple[str, str]:
    return f"student{size - 2:02d}", f"student{size - 1:02d}"


def keys() -> list[str]:
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / QUIZ, as_version=4)
    return [re.search(r"### BEGIN SOLUTION\n(.*?)\n### END SOLUTION", c.source, re.S).group(1)
            for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]


def class_of(size: int, seed: int = 0) -> dict[str, str | nbformat.NotebookNode]:
    """student -> notebook (or the text of a damaged file): about a third right, a third partly
    right, the rest wrong or untouched, one damaged file and one kernel crash."""
    rng = random.Random(seed)
    right = keys()
    release = nbformat.read(ROOT / "release" / ASSIGNMENT / QUIZ, as_version=4)
    students: dict[str, str | nbformat.NotebookNode] = {}
    for number in range(size):
        name = f"student{number:02d}"
        crash, damaged = crash_and_damaged(size)
        kind = "right" if name == crash else ["right", "partly", "wrong", "untouched"][number % 4]
        if name == damaged:
            students[name] = '{"cells": [ damaged'
            continue
        answers = []
        for line in right:
            variable, key = line.split(" = ", 1)
            letters = "ABCD"
            good = kind == "right" or (kind == "partly" and rng.random() < 0.6)
            if kind == "untouched":
                answers.append(f"{variable} = ...")
            elif good:
                answers.append(line)
            else:
                answers.append(f'{variable} = {{"{rng.choice([x for x in letters if x not in key])}"}}')
        if name == crash:
            answers[4] = "import os\nos._exit(1)"
        nb = nbformat.from_dict(release)
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        for cell, answer in zip(cells, answers):
            cell.source = answer
        students[name] = nb
    return students


def scratch_course(folder: Path, students: dict, extra_config: str = "") -> Path:
    (folder / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(ROOT / "source" / ASSIGNMENT / QUIZ, folder / "source" / ASSIGNMENT / QUIZ)
    (folder / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra_config)
    for student, nb in students.items():
        target = folder / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        if isinstance(nb, str):
            (target / QUIZ).write_text(nb)
        else:
            nbformat.write(nb, target / QUIZ)
    return folder


def scores(course: Path) -> dict[str, float]:
    return gradebook.scores(f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT)


def stock_side(folder: Path, students: dict) -> tuple[float, dict[str, float]]:
    course = scratch_course(folder, students, STOCK)
    env = nbgrader_run.environment()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT], cwd=course, env=env,
                   capture_output=True, check=True)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course, env=env,
                   capture_output=True)   # exits 1: the damaged file and the crash fail
    return time.perf_counter() - started, scores(course)


class Quiet:
    def write(self, text):
        pass

    def flush(self):
        pass


def parallel_side(folder: Path, students: dict, workers: int) -> tuple[float, dict[str, float]]:
    course = scratch_course(folder, students)
    started = time.perf_counter()
    outcomes = run.run(course, ASSIGNMENT, workers=workers, out=Quiet())
    seconds = time.perf_counter() - started
    return seconds, {o.student: o.score for o in outcomes if o.status == "graded"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=run.default_workers(),
                        help="autograde run's workers (default: its own default here, %(default)s)")
    args = parser.parse_args(argv)
    students = class_of(args.students)
    crash, damaged = crash_and_damaged(args.students)
    stock_times, parallel_times, ratios, agree = [], [], [], True
    print(f"{args.students} submissions of {ASSIGNMENT}/{QUIZ}; autograde run with {args.workers} workers")
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-classroom-") as folder:
            sides = [("stock", lambda f: stock_side(f, students)),
                     ("run", lambda f: parallel_side(f, students, args.workers))]
            if number % 2 == 0:
                sides.reverse()   # alternate which side runs first
            results = {name: side(Path(folder) / name) for name, side in sides}
        (stock_time, stock_scores), (run_time, run_scores) = results["stock"], results["run"]
        stock_times.append(stock_time)
        parallel_times.append(run_time)
        both = set(stock_scores) & set(run_scores) - {crash}
        differ = sorted(s for s in both if stock_scores[s] != run_scores[s])
        agree &= not differ and damaged not in run_scores
        ratios.append(stock_time / run_time)
        print(f"round {number}: stock {stock_time:6.1f} s   autograde run {run_time:6.1f} s   "
              f"ratio {ratios[-1]:4.2f}x   same grades on {len(both) - len(differ)}/{len(both)}"
              f"{'; differ: ' + ', '.join(differ) if differ else ''}   kernel crash ({crash}): stock "
              f"{stock_scores.get(crash, 'not graded')}, autograde run {run_scores.get(crash, 'not graded')}")
    print(f"median of {args.rounds} rounds: stock {statistics.median(stock_times):.1f} s, autograde run "
          f"{statistics.median(parallel_times):.1f} s, ratio {statistics.median(ratios):.2f}x; "
          f"grades {'agree' if agree else 'DISAGREE'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
