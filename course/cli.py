"""The ``course`` command.

  course doctor      check Java, Spark, MLflow and the libraries; exit 1 with what to fix
  course warmup      record Spark's classes once so that every later start is faster
  course workspace   copy new student notebooks into your workspace (never overwrites)
  course lab         open JupyterLab on your workspace, without nbgrader's instructor tools
  course exam        a timed mock exam in the terminal
  course quiz        practice questions with an explanation after each answer
  course coverage    which syllabus ids the lessons, exercises and questions cover
  course grade NB    grade a notebook of yours with the course's full tests (the classroom's)
  course progress    where you stand: exercises, questions, mock exams, readiness, weak spots
  course report      the same as one HTML page with plots
  course plan        a study plan and what to do next
  course guide       the study guide (traps, comparisons, mistakes, checklist) as an HTML page
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import sys
import time
from pathlib import Path


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def doctor(args: argparse.Namespace) -> int:
    """Check Java, the libraries, a Spark start and an MLflow round trip; 0 when all is well."""
    from course import java, paths

    problems: list[str] = []

    def line(label: str, value: str) -> None:
        print(f"  {label:<22} {value}")

    print("course doctor")
    line("python", f"{platform.python_version()} ({sys.executable})")
    if sys.version_info < (3, 10):
        problems.append("PySpark 4 needs Python 3.10 or newer: run `make lab` with a newer python3.")
    try:
        found = java.check_java()
        line("java", f"{found.major} ({found.executable})")
    except java.JavaError as exc:
        line("java", "PROBLEM")
        problems.append(str(exc))
    for dist in ("pyspark", "mlflow", "nbgrader", "pandas", "scikit-learn", "jupyterlab"):
        line(dist, _version(dist))
    line("data folder", str(paths.data_dir()))

    if not problems:
        from course import spark as course_spark

        started = time.perf_counter()
        try:
            session = course_spark.get_spark("course-doctor")
            count = session.range(1000).selectExpr("sum(id) AS s").first()["s"]
            assert count == 499500, count
            line("spark start + query", f"{time.perf_counter() - started:.1f} s")
            from course import engine

            if engine.serves(session):
                line("spark runs on", f"the course engine ({engine.status().url}; `course engine status`)")
            archive = course_spark.class_archive_path()
            line("class archive", "ready" if archive.exists() else "missing: run `course warmup` for a faster start")
        except Exception as exc:  # report, don't crash: this is a diagnosis tool
            problems.append(f"Spark failed to start or run a query: {exc}")
    if not problems:
        problems += _check_mlflow(line)

    if problems:
        print("\nProblems:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("\nAll good: open the course with `make lab`.")
    return 0


def _check_mlflow(line) -> list[str]:
    import mlflow

    from course import tracking

    started = time.perf_counter()
    try:
        tracking.start_tracking("course-doctor")
        with mlflow.start_run() as run:
            mlflow.log_param("check", "doctor")
            mlflow.log_metric("answer", 42.0)
        fetched = mlflow.get_run(run.info.run_id)
        if fetched.data.metrics.get("answer") != 42.0 or fetched.data.params.get("check") != "doctor":
            return ["MLflow wrote a run but read back something else; delete the mlflow folder "
                    f"in {tracking.store_dir()} and run `course doctor` again."]
        line("mlflow run round trip", f"{time.perf_counter() - started:.1f} s ({tracking.tracking_uri()})")
    except Exception as exc:
        return [f"MLflow could not write and read a run in {tracking.tracking_uri()}: {exc}"]
    return []


def warmup(args: argparse.Namespace) -> int:
    """Build the class-data-sharing archive that makes every later Spark start faster."""
    from course import java, spark

    try:
        java.check_java()
    except java.JavaError as exc:
        print(exc, file=sys.stderr)
        return 1
    started = time.perf_counter()
    path = spark.build_class_archive()
    print(f"Spark class archive ready in {time.perf_counter() - started:.0f} s: {path}")
    return 0


def workspace(args: argparse.Namespace) -> int:
    """Copy the student notebooks into the learner's workspace, never overwriting."""
    from course import workspace as ws

    report = ws.sync(Path(args.release), Path(args.workspace))
    print(report.summary())
    for name in report.kept:
        print(f"  kept your copy of {name}")
    for name in report.retired:
        print(f"  kept {name}: not a notebook of the current course (see the week's lessons beside it)")
    return 0


def lab_command(args: argparse.Namespace) -> int:
    """The learner's JupyterLab on the workspace (see course.lab)."""
    from course import lab

    return lab.run(Path(args.workspace), args.jupyter_args)


def exam_command(args: argparse.Namespace) -> int:
    """A timed mock exam in the terminal."""
    from course import exam, exam_terminal

    session = exam.ExamSession.from_blueprint(args.blueprint, args.seed, minutes=args.minutes)
    exam_terminal.run_exam(session, review=args.review)
    return 0


def quiz_command(args: argparse.Namespace) -> int:
    """A practice quiz with feedback after every answer."""
    from course import exam, exam_terminal

    picked = exam.select_practice(domain=args.domain, concept=args.concept, objective=args.objective,
                                  weak=args.weak, count=args.count, seed=args.seed)
    session = exam.ExamSession(picked, minutes=None, mode="practice")
    exam_terminal.run_exam(session)
    return 0


def coverage_command(args: argparse.Namespace) -> int:
    """Which syllabus ids have lesson sections, exercises and questions."""
    from course import coverage, syllabus

    ids = None
    if args.domain:
        ids = [c for c in syllabus.concepts() if c.startswith(args.domain + ".")]
    print(coverage.report(ids))
    return 0


def grade_command(args: argparse.Namespace) -> int:
    """Grade a notebook with the course's full tests (see course.self_grading); 0 once graded."""
    from course import self_grading

    graded = self_grading.grade(Path(args.notebook), announce=lambda line: print(line, flush=True))
    print(self_grading.report(graded))
    return 0


def progress_command(args: argparse.Namespace) -> int:
    """The progress summary; or export, import or reset the progress store."""
    from course import progress, progress_report

    if args.export:
        count = progress.export(Path(args.export))
        print(f"exported {count} events to {args.export}")
        return 0
    if args.import_file:
        added, skipped = progress.import_events(Path(args.import_file))
        print(f"imported {added} events from {args.import_file} ({skipped} were already there)")
        return 0
    if args.reset:
        count = len(progress.events())
        if not args.yes:
            answer = input(f"Delete all {count} progress events? A backup is kept first. Type 'reset' to go on: ")
            if answer.strip() != "reset":
                print("Nothing deleted.")
                return 1
        deleted, saved = progress.reset()
        print(f"deleted {deleted} events; the backup is {saved} (`course progress --import` cannot read it: "
              "copy it back over progress.sqlite to restore)")
        return 0
    print(progress_report.text())
    return 0


def _page_target(args: argparse.Namespace, name: str) -> Path:
    """Where a page the course writes goes: ``--output``, else the workspace, else the data folder."""
    from course import paths

    workspace = Path(args.workspace)
    return Path(args.output) if args.output else (workspace if workspace.is_dir() else paths.data_dir()) / name


def report_command(args: argparse.Namespace) -> int:
    """One self-contained HTML page of the learner's progress."""
    from course import progress_report

    workspace = Path(args.workspace)
    target = _page_target(args, "progress-report.html")
    base = ""   # links to lesson sections are relative to the workspace
    if workspace.is_dir():
        relative = os.path.relpath(workspace.resolve(), target.parent.resolve())
        base = "" if relative == "." else Path(relative).as_posix() + "/"
    written = progress_report.write_report(target, base=base)
    print(f"wrote {written}")
    return 0


def plan_command(args: argparse.Namespace) -> int:
    """A study plan, ticked from progress, and the next step."""
    from course import study_plan

    print(study_plan.text(name=args.plan))
    return 0


def guide_command(args: argparse.Namespace) -> int:
    """The study guide as one HTML page, its checklist ticked from progress."""
    from course import study_guide

    try:
        written = study_guide.write_html(_page_target(args, "study-guide.html"))
    except study_guide.GuideError as problem:
        print(f"course guide: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {written}")
    return 0


def engine_command(args: argparse.Namespace) -> int:
    """The course engine: the local Spark Connect server the learner's notebooks share."""
    from course import engine

    problem = engine.interface_problem()
    if problem:
        print(f"course engine: {problem}; notebooks use a classic session each", file=sys.stderr)
        return 2
    if args.action == "stop":
        print("Stopped the course engine." if engine.stop() else "The course engine was not running.")
        return 0
    if args.action == "start":
        try:
            engine.start()
        except engine.EngineError as problem:
            print(f"course engine: {problem}", file=sys.stderr)
            return 1
    print(engine.status().text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check Java, Spark, MLflow and the libraries").set_defaults(func=doctor)
    commands.add_parser("warmup", help="make Spark start faster (run once after installing)").set_defaults(func=warmup)
    exam_parser = commands.add_parser("exam", help="a timed mock exam in the terminal")
    exam_parser.add_argument("--blueprint", default="official-2025", choices=["official-2025", "seed"])
    exam_parser.add_argument("--seed", type=int, default=1, help="exam number: seeds 1-5 share no question")
    exam_parser.add_argument("--minutes", type=float, default=None, help="override the blueprint's time")
    exam_parser.add_argument("--review", default="wrong", choices=["wrong", "all", "none"])
    exam_parser.set_defaults(func=exam_command)
    quiz = commands.add_parser("quiz", help="practice questions with immediate feedback")
    quiz.add_argument("--domain", help="D1 ... D5")
    quiz.add_argument("--concept", help="a concept id such as D2.imputer")
    quiz.add_argument("--objective", help="an official objective id such as S3.10")
    quiz.add_argument("--weak", action="store_true", help="your weak spots first")
    quiz.add_argument("--count", type=int, default=10)
    quiz.add_argument("--seed", type=int, default=None)
    quiz.set_defaults(func=quiz_command)
    cover = commands.add_parser("coverage", help="syllabus ids covered by lessons, exercises and questions")
    cover.add_argument("--domain", help="only the concepts of one seed domain, e.g. D1")
    cover.set_defaults(func=coverage_command)
    grade_parser = commands.add_parser("grade", help="grade a notebook of yours with the course's full tests")
    grade_parser.add_argument("notebook", help="e.g. workspace/week1-ml-fundamentals/05-spark-ml-building-blocks.ipynb")
    grade_parser.set_defaults(func=grade_command)
    prog = commands.add_parser("progress", help="where you stand; --export, --import or --reset the record")
    moves = prog.add_mutually_exclusive_group()
    moves.add_argument("--export", metavar="FILE", help="write every event to a new JSON file")
    moves.add_argument("--import", dest="import_file", metavar="FILE", help="merge an export into your record")
    moves.add_argument("--reset", action="store_true", help="delete your record (asks first, keeps a backup)")
    prog.add_argument("--yes", action="store_true", help="with --reset: do not ask")
    prog.set_defaults(func=progress_command)
    for name, page, helped, run in (("report", "progress-report.html", "your progress as one HTML page with plots",
                                     report_command),
                                    ("guide", "study-guide.html", "the study guide as one HTML page", guide_command)):
        writer = commands.add_parser(name, help=helped)
        writer.add_argument("--output", help=f"the HTML file (default: {page} in your workspace)")
        writer.add_argument("--workspace", default="workspace")
        writer.set_defaults(func=run)
    plan_parser = commands.add_parser("plan", help="a study plan and what to do next")
    plan_parser.add_argument("--plan", default="three-week", choices=["three-week", "fast-track", "last-week"])
    plan_parser.set_defaults(func=plan_command)
    sync = commands.add_parser("workspace", help="copy new student notebooks into your workspace")
    sync.add_argument("--release", default="release")
    sync.add_argument("--workspace", default="workspace")
    sync.set_defaults(func=workspace)
    engine_parser = commands.add_parser("engine", help="the local Spark server your notebooks share: status, start, stop")
    engine_parser.add_argument("action", nargs="?", default="status", choices=["status", "start", "stop"])
    engine_parser.set_defaults(func=engine_command)
    lab_parser = commands.add_parser("lab", help="open JupyterLab on your workspace, without nbgrader's instructor tools")
    lab_parser.add_argument("--workspace", default="workspace")
    lab_parser.epilog = "Other options (--port=8890, --no-browser...) are passed on to jupyter lab."
    lab_parser.set_defaults(func=lab_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    from course.progress import ProgressError

    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.jupyter_args = rest
    try:
        return args.func(args)
    except ProgressError as problem:
        print(f"course {args.command}: {problem}", file=sys.stderr)
        return 2
    except (ValueError, KeyboardInterrupt) as problem:
        print(f"course {args.command}: {problem or 'stopped'}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
