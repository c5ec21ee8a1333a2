"""``autograde run ASSIGNMENT``: grade every submission of a class, in parallel, into the gradebook.

Run from a course folder, as nbgrader's own commands are (its ``nbgrader_config.py``, ``source/``,
``submitted/<student>/<assignment>/``). ``--workers`` worker processes (``autograde.worker``) each
grade one submission after another with nbgrader's own Autograde converter and the course's
hardened execution (``autograde.execute``: a sandboxed kernel, a guard on the tests, restarts after
kernel deaths), each against a scratch gradebook of its own, so workers never write one database
at once. A submission that runs past ``timeout`` seconds, or kills its worker, fails alone: the
worker is replaced. The executed notebooks land where nbgrader puts them
(``autograded/<student>/<assignment>/``). This process alone writes the class gradebook
(``db_url``: sqlite by default, PostgreSQL as an option), one student at a time, from what each
worker recorded. One bad submission (invalid JSON, a run past the time limit) fails that student
only, with its reason; the batch goes on. A line per student, with a progress bar, and a run log
in ``reports/<assignment>/run.json`` for the class report. An assignment with Spark notebooks first
gets Spark's class archive (``course warmup``) when the installation has none.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from autograde import gradebook, nbgrader_run
from autograde.sandbox import kill_tree, sandbox_mode
from autograde.worker import api_for


class RunError(RuntimeError):
    """The run cannot start (not a course folder, no such assignment, no submissions)."""


@dataclass
class Outcome:
    student: str
    status: str            # "graded" or "failed"
    reason: str | None
    score: float | None
    max_score: float | None
    seconds: float


def submissions(root: Path, assignment: str) -> list[str]:
    """Students with a submitted folder for ``assignment``."""
    submitted = root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())


def reason_of(log: str) -> str:
    """One line saying why nbgrader could not grade a submission, from its log."""
    if "ran past the time limit" in log:
        return log.strip().splitlines()[-1]
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"Notebook JSON is invalid|not valid JSON|NotJSONError|Expecting value|Unterminated string",
                     line):
            return "a notebook is not valid JSON (the file is damaged or was not saved by Jupyter)"
    errors = [re.sub(r"^\[[^\]]*\]\s*", "", line) for line in lines if "ERROR" in line or "CRITICAL" in line]
    errors = [e for e in errors if e and not e.startswith("There was an error processing")]
    return (errors[-1] if errors else (lines[-1] if lines else "nbgrader failed"))[:300]


def _sqlite_file(db_url: str) -> Path | None:
    """The file of a sqlite URL (None for another database)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _generate(root: Path, assignment: str, db_url: str, release: Path) -> None:
    """nbgrader generate_assignment into ``db_url`` (the student version goes to ``release``, a
    scratch folder: the course's release/ is left alone)."""
    api = api_for(root, db_url)
    api.coursedir.release_directory = str(release)
    done = api.generate_assignment(assignment, force=True, create=True)
    if not done.get("success"):
        raise RunError(f"nbgrader generate_assignment {assignment} failed:\n"
                       f"{(done.get('log') or '') + (done.get('error') or '')}"[-2000:])


def _prepare(root: Path, assignment: str, class_url: str, scratch: Path) -> Path:
    """A template scratch gradebook holding the assignment, and the assignment in the class
    gradebook when it is not there yet. Returns the template's path.

    The template is a copy of a sqlite class gradebook that holds the assignment (what stock
    ``nbgrader autograde`` would grade against); otherwise it is generated from source/, and a
    class gradebook that does not exist yet starts as a copy of it (a new gradebook costs a schema
    migration)."""
    template = scratch / "template.db"
    class_file = _sqlite_file(class_url)
    class_exists = class_file is None or class_file.exists()
    if class_exists and gradebook.has_assignment(class_url, assignment):
        if class_file is not None:
            shutil.copyfile(class_file, template)
            return template
        _generate(root, assignment, f"sqlite:///{template}", scratch / "release-template")
        return template
    _generate(root, assignment, f"sqlite:///{template}", scratch / "release-template")
    if class_file is not None and not class_exists:
        class_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, class_file)
    else:
        _generate(root, assignment, class_url, scratch / "release-class")
    return template


class Worker:
    """One ``autograde.worker`` process and its scratch gradebook. The process starts at once (its
    Python and nbgrader load while the run prepares); ``grade`` first fills the gradebook with a
    copy of the template."""

    def __init__(self, root: Path, assignment: str, scratch: Path, number: int):
        self.db = scratch / f"worker{number}.db"
        self.db_url = f"sqlite:///{self.db}"
        self.log = open(scratch / f"worker{number}.log", "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograde.worker", str(root), assignment, self.db_url], cwd=root,
            env=nbgrader_run.environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True, start_new_session=True)
        self.replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def grade(self, student: str, template: Path, timeout: float) -> dict:
        """The worker's reply for ``student``, or {"failure": why} when it ran out of time or died."""
        if not self.db.exists():
            shutil.copyfile(template, self.db)
        try:
            self.process.stdin.write(student + "\n")
            self.process.stdin.flush()
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            return {"failure": f"ran past the time limit of {timeout:g} s"}
        except (BrokenPipeError, OSError):
            line = None
        if line is None:
            return {"failure": f"the grading worker stopped (exit code {self.process.poll()})"}
        return json.loads(line)

    def close(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                kill = True
        if kill:
            kill_tree(self.process.pid, wait=10)
            self.process.wait()
        self.log.close()


def uses_spark(root: Path, assignment: str) -> bool:
    """True when a notebook of the assignment starts Spark (the course's ``get_spark``)."""
    return any("get_spark" in path.read_text(errors="replace")
               for path in (root / "source" / assignment).glob("*.ipynb"))


def ensure_class_archive(out=sys.stdout) -> None:
    """Build Spark's class archive before grading, as ``make lab`` and ``course warmup`` do.

    Every graded kernel maps it (the sandbox binds it read-only), so each notebook's Spark starts
    seconds sooner. It is built once per installation: a first run of a small class pays more for the
    build than it saves (``bench/class_archive_run.py``), every later run gets it free. If it cannot
    be built (no Java, say), grading goes on without it and each notebook says what is wrong."""
    from course import spark

    if spark.class_archive_path().exists():
        return
    print("Building Spark's class archive first (once per installation, about a minute): "
          "every graded notebook then starts Spark sooner", file=out, flush=True)
    began = time.monotonic()
    try:
        spark.build_class_archive()
    except Exception as exc:
        print(f"Could not build it ({type(exc).__name__}: {exc}); grading without it", file=out, flush=True)
        return
    print(f"Spark class archive ready in {time.monotonic() - began:.0f} s", file=out, flush=True)


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done}/{total}"


def run(root: Path, assignment: str, workers: int = 2, students: list[str] | None = None,
        timeout: float = 3600, out=sys.stdout) -> list[Outcome]:
    nbgrader_run.faster_gradebook_creation()
    with nbgrader_run.interpreter_on_path():
        return _run(root, assignment, workers, students, timeout, out)


def _run(root: Path, assignment: str, workers: int = 2, students: list[str] | None = None,
        timeout: float = 3600, out=sys.stdout) -> list[Outcome]:
    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise RunError(f"{root} is not a course folder: it has no nbgrader_config.py")
    if not any((root / "source" / assignment).glob("*.ipynb")):
        raise RunError(f"no assignment {assignment!r} in {root / 'source'}")
    everyone = submissions(root, assignment)
    chosen = students or everyone
    missing = sorted(set(chosen) - set(everyone))
    if missing:
        raise RunError(f"no submission of {assignment} for: {', '.join(missing)}")
    if not chosen:
        raise RunError(f"no submissions of {assignment} in {root / 'submitted'}")
    class_url = gradebook.class_db_url(root)
    if uses_spark(root, assignment):
        ensure_class_archive(out)
    mode = sandbox_mode()
    workers = max(1, min(workers, len(chosen)))
    print(f"Grading {len(chosen)} submission(s) of {assignment} with {workers} worker(s); "
          f"sandbox: {mode}", file=out, flush=True)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    write_lock = threading.Lock()
    width = max(len(s) for s in chosen)
    with tempfile.TemporaryDirectory(prefix="autograde-run-") as folder:
        scratch = Path(folder)
        first = [Worker(root, assignment, scratch, n) for n in range(workers)]   # they load meanwhile
        try:
            template = _prepare(root, assignment, class_url, scratch)
        except BaseException:
            for started_worker in first:
                started_worker.close(kill=True)
            raise
        todo: queue.Queue = queue.Queue()
        for student in chosen:
            todo.put(student)
        print_lock = threading.Lock()

        def finish(outcome: Outcome) -> None:
            with print_lock:
                outcomes.append(outcome)
                result = (f"graded {outcome.score:g}/{outcome.max_score:g}" if outcome.status == "graded"
                          else f"FAILED: {outcome.reason}")
                print(f"{_bar(len(outcomes), len(chosen))} {outcome.student:<{width}}  {result}  "
                      f"({outcome.seconds:g} s)", file=out, flush=True)

        def slot(number: int) -> None:
            worker, replacements = first[number], 0
            while True:
                try:
                    student = todo.get_nowait()
                except queue.Empty:
                    break
                began = time.monotonic()
                try:
                    if worker is None:
                        replacements += 1
                        worker = Worker(root, assignment, scratch, workers * replacements + number)
                    reply = worker.grade(student, template, timeout)
                except Exception as exc:  # this student only
                    reply = {"failure": f"{type(exc).__name__}: {exc}"}
                seconds = round(time.monotonic() - began, 1)
                if "failure" in reply:
                    if worker is not None:
                        worker.close(kill=True)
                        worker = None
                    finish(Outcome(student, "failed", reply["failure"], None, None, seconds))
                    continue
                graded = reply["success"] and any((root / "autograded" / student / assignment).glob("*.ipynb"))
                if not graded:
                    finish(Outcome(student, "failed", reason_of(reply["log"]), None, None, seconds))
                    continue
                outcome = Outcome(student, "graded", None, None, None, seconds)
                with write_lock:   # the class gradebook: written here only, one student at a time
                    try:
                        outcome.score = gradebook.copy_submission(worker.db_url, class_url, assignment, student)
                        outcome.max_score = gradebook.max_score(worker.db_url, assignment)
                    except Exception as exc:
                        outcome.status, outcome.reason = "failed", f"writing the gradebook: {exc}"
                finish(outcome)
            if worker is not None:
                worker.close()

        threads = [threading.Thread(target=slot, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    seconds = round(time.monotonic() - started, 1)
    outcomes.sort(key=lambda o: o.student)
    log = {"assignment": assignment, "sandbox": mode, "workers": workers, "seconds": seconds,
           "students": [asdict(o) for o in outcomes]}
    report_dir = root / "reports" / assignment
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "run.json").write_text(json.dumps(log, indent=2) + "\n")
    failed = [o for o in outcomes if o.status != "graded"]
    print(f"Done in {seconds:g} s: {len(outcomes) - len(failed)} graded, {len(failed)} failed. "
          f"Run log: {(report_dir / 'run.json').relative_to(root)}", file=out, flush=True)
    return outcomes


GRADING_MEMORY = 1.5 * 2**30   # a Spark lesson's kernel, JVM and workers at their peak


def default_workers() -> int:
    """One more worker than cores (a worker waits on its kernel part of the time: on 2 cores, 3
    workers grade a class of quizzes about 12% faster than 2), as many as memory allows."""
    memory = psutil.virtual_memory().available
    return max(1, min((os.cpu_count() or 1) + 1, int(memory // GRADING_MEMORY), 8))
