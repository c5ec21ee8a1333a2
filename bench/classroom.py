"""Grading a class: stock ``nbgrader autograde`` (one student after another) against
``autograde run`` (parallel workers, sandboxed, guarded), side by side in one run.

A class of generated submissions of a graded notebook (by default the week 1 review quiz: 15
questions, a kernel per submission; ``--notebook`` takes a Spark lesson): right, partly right,
wrong, untouched and broken (a damaged file; a cell that kills the kernel). Each side grades the same class in its own copy of a scratch
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

QUIZ_PATH = "week1-ml-fundamentals/90-week1-review-quiz.ipynb"
STOCK = ("\nfrom nbgrader.converters import Autograde\n"
         "c.Autograde.autograde_preprocessors = Autograde.class_traits()['autograde_preprocessors'].default()\n")


def crash_and_damaged(size: int) -> tuple[str, str]:
    return f"student{size - 2:02d}", f"student{size - 1:02d}"


def solutions(notebook: str) -> list[str]:
    """The solution region of every answer cell of the instructor's ``notebook``."""
    source = nbformat.read(ROOT / "source" / notebook, as_version=4)
    return [re.search(r"### BEGIN SOLUTION\n(.*?)\n### END SOLUTION", c.source, re.S).group(1)
            for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]


def wrong_letter(line: str, rng: random.Random) -> str | None:
    """A quiz answer with another letter than the key (None when ``line`` is no quiz answer)."""
    found = re.fullmatch(r"(answer_\d+) = (\{.*\})", line.strip())
    if not found:
        return None
    return f'{found.group(1)} = {{"{rng.choice([x for x in "ABCD" if x not in found.group(2)])}"}}'


def class_of(size: int, notebook: str = QUIZ_PATH, seed: int = 0) -> dict[str, str | nbformat.NotebookNode]:
    """student -> notebook (or the text of a damaged file): right, partly right, wrong (another
    letter on a quiz; a lesson's answer left as the scaffold) and untouched in turn, one damaged file
    and one right submission whose fifth (or last) answer kills the kernel."""
    rng = random.Random(seed)
    right = solutions(notebook)
    release = nbformat.read(ROOT / "release" / notebook, as_version=4)
    scaffolds = [c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    crash, damaged = crash_and_damaged(size)
    students: dict[str, str | nbformat.NotebookNode] = {}
    for number in range(size):
        name = f"student{number:02d}"
        if name == damaged:
            students[name] = '{"cells": [ damaged'
            continue
        kind = "right" if name == crash else ["right", "partly", "wrong", "untouched"][number % 4]
        answers = []
        for line, scaffold in zip(right, scaffolds):
            good = kind == "right" or (kind == "partly" and rng.random() < 0.6)
            if good:
                answers.append(line)
            elif kind == "wrong":
                answers.append(wrong_letter(line, rng) or scaffold)
            else:
                answers.append(scaffold)
        if name == crash:
            answers[min(4, len(answers) - 1)] = "import os\nos._exit(1)"
        nb = nbformat.from_dict(release)
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        for cell, answer in zip(cells, answers):
            cell.source = answer
        students[name] = nb
    return students


def scratch_course(folder: Path, students: dict, notebook: str = QUIZ_PATH, extra_config: str = "") -> Path:
    assignment, name = notebook.split("/")
    (folder / "source" / assignment).mkdir(parents=True)
    shutil.copyfile(ROOT / "source" / notebook, folder / "source" / notebook)
    (folder / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra_config)
    for student, nb in students.items():
        target = folder / "submitted" / student / assignment
        target.mkdir(parents=True)
        if isinstance(nb, str):
            (target / name).write_text(nb)
        else:
            nbformat.write(nb, target / name)
    return folder


def scores(course: Path, assignment: str) -> dict[str, float]:
    return gradebook.scores(f"sqlite:///{course / 'gradebook.db'}", assignment)


def stock_side(folder: Path, students: dict, notebook: str) -> tuple[float, dict[str, float]]:
    course = scratch_course(folder, students, notebook, STOCK)
    assignment = notebook.split("/")[0]
    env = nbgrader_run.environment()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment], cwd=course, env=env,
                   capture_output=True, check=True)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment], cwd=course, env=env,
                   capture_output=True)   # exits 1: the damaged file and the crash fail
    return time.perf_counter() - started, scores(course, assignment)


class Quiet:
    def write(self, text):
        pass

    def flush(self):
        pass


def parallel_side(folder: Path, students: dict, notebook: str, workers: int) -> tuple[float, dict[str, float]]:
    course = scratch_course(folder, students, notebook)
    started = time.perf_counter()
    outcomes = run.run(course, notebook.split("/")[0], workers=workers, out=Quiet())
    seconds = time.perf_counter() - started
    return seconds, {o.student: o.score for o in outcomes if o.status == "graded"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=run.default_workers(),
                        help="autograde run's workers (default: its own default here, %(default)s)")
    parser.add_argument("--notebook", default=QUIZ_PATH,
                        help="the graded notebook, under source/ (default: %(default)s; a Spark lesson "
                             "such as week1-ml-fundamentals/03-supervised-learning.ipynb takes minutes)")
    args = parser.parse_args(argv)
    students = class_of(args.students, args.notebook)
    crash, damaged = crash_and_damaged(args.students)
    stock_times, parallel_times, ratios, agree = [], [], [], True
    print(f"{args.students} submissions of {args.notebook}; autograde run with {args.workers} workers")
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-classroom-") as folder:
            sides = [("stock", lambda f: stock_side(f, students, args.notebook)),
                     ("run", lambda f: parallel_side(f, students, args.notebook, args.workers))]
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
