"""The ``autograde`` command for instructors, over nbgrader and the course's nbgrader_config.py.

  autograde quizgen              regenerate the graded quiz and mock-exam notebooks in source/ from
                                 the instructor-only pool source/quiz-pool/
  autograde release              regenerate every student version in release/ from source/
  autograde selftest ASSIGNMENT  grade the solution (expect full marks) and the untouched
                                 student version (expect zero), without touching the gradebook
  autograde points               points per assignment and notebook
  autograde run ASSIGNMENT       grade every submission in submitted/, in parallel and sandboxed,
                                 into the gradebook (from a course folder, as nbgrader's commands)
  autograde feedback ASSIGNMENT  feedback pages per student: points, pass or fail and the reason
                                 of every graded cell, never the hidden tests
  autograde report ASSIGNMENT    the class report: reports/ASSIGNMENT/report.html and report.csv

The classroom cycle itself is nbgrader's: `nbgrader release_assignment`, `nbgrader collect`,
then `autograde run` (or `nbgrader autograde`, one student at a time), `autograde feedback`
(not `nbgrader generate_feedback`, which shows hidden tests), `nbgrader release_feedback`,
`autograde report`, `nbgrader export`.
"""
from __future__ import annotations

import argparse
import sys

import nbformat

from autograde import grading, nbgrader_run, release


def cmd_release(args) -> int:
    for path in release.generate():
        print(f"wrote {path.relative_to(nbgrader_run.ROOT)}")
    return 0


def cmd_quizgen(args) -> int:
    from autograde import quizgen

    for path in quizgen.generate():
        print(f"wrote {path.relative_to(nbgrader_run.ROOT)}")
    return 0


def cmd_points(args) -> int:
    for name in nbgrader_run.assignments():
        total = 0.0
        for path in sorted((nbgrader_run.ROOT / "source" / name).glob("*.ipynb")):
            pts = grading.points(nbformat.read(path, as_version=4))
            total += sum(pts.values())
            print(f"  {name}/{path.name}: {sum(pts.values()):g} points in {len(pts)} graded cells")
        print(f"{name}: {total:g} points")
    return 0


def cmd_selftest(args) -> int:
    root = nbgrader_run.ROOT
    full = grading.autograde_folder(args.assignment, root / "source" / args.assignment, "solution")
    empty = grading.autograde_folder(args.assignment, root / "release" / args.assignment, "untouched")
    print(f"solution:  {full.score:g} / {full.max_score:g}")
    print(f"untouched: {empty.score:g} / {empty.max_score:g}")
    ok = full.score == full.max_score > 0 and empty.score == 0
    print("OK" if ok else "PROBLEM: the solution must get full marks and the untouched version zero")
    return 0 if ok else 1


def cmd_run(args) -> int:
    from pathlib import Path

    from autograde import run

    try:
        outcomes = run.run(Path.cwd(), args.assignment, workers=args.workers, students=args.student or None,
                           timeout=args.timeout)
    except run.RunError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0 if all(o.status == "graded" for o in outcomes) else 1


def cmd_feedback(args) -> int:
    from pathlib import Path

    from autograde import feedback

    root = Path.cwd()
    for path in feedback.generate(root, args.assignment):
        print(f"wrote {path.relative_to(root)}")
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from autograde import class_report

    root = Path.cwd()
    for path in class_report.build(root, args.assignment):
        print(f"wrote {path.relative_to(root)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograde", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("release", help="regenerate release/ from source/").set_defaults(func=cmd_release)
    commands.add_parser("quizgen", help="regenerate the graded quizzes and mock exam from source/quiz-pool/").set_defaults(
        func=cmd_quizgen)
    commands.add_parser("points", help="points per assignment").set_defaults(func=cmd_points)
    selftest = commands.add_parser("selftest", help="solution gets full marks, untouched gets zero")
    selftest.add_argument("assignment")
    selftest.set_defaults(func=cmd_selftest)
    from autograde.run import default_workers

    grade_all = commands.add_parser("run", help="grade every submission of an assignment, in parallel")
    grade_all.add_argument("assignment")
    grade_all.add_argument("--workers", type=int, default=default_workers(),
                           help="submissions graded at once (default: %(default)s)")
    grade_all.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade_all.add_argument("--timeout", type=float, default=3600,
                           help="seconds one submission may take before it fails (default: %(default)g)")
    grade_all.set_defaults(func=cmd_run)
    for name, func, text in (("feedback", cmd_feedback, "feedback pages without hidden tests"),
                             ("report", cmd_report, "the class report (HTML and CSV)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("assignment")
        command.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with nbgrader_run.interpreter_on_path():   # nbgrader's gradebook runs alembic
            return args.func(args)
    except nbgrader_run.NbgraderError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
