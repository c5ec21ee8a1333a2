"""A lesson's first workload in a fresh process: stock PySpark, the classic course session and the
course engine, cold and warm.

Each run is a fresh Python process, as a notebook's kernel is, that gets a session and does a workload:

* ``lesson`` (the headline): what the first cells of a lesson do (week 1, lesson 05). Read the
  ``listings`` dataset from its parquet file, ``randomSplit`` it, fit a ``Pipeline`` of an
  ``Imputer`` (median of ``bedrooms`` and ``bathrooms``, which have missing values), a
  ``VectorAssembler`` and a ``LinearRegression`` on ``price``, and evaluate it once on the test split.
* ``synthetic`` (secondary): ``createDataFrame`` of 100 rows, a ``VectorAssembler`` and one
  ``LinearRegression`` fit; smaller than any lesson, so it flatters whichever session starts faster.

The variants differ only in the lines that start the session:

* ``stock``: ``SparkSession.builder.master('local[2]').getOrCreate()``;
* ``classic``: ``get_spark(classic=True)``, the course's own classic session (class-data-sharing
  archive, client compiler, the course's Python worker daemon; what grading and the classic
  lessons use);
* ``engine-cold``: ``get_spark()`` with no course engine running: the process starts it;
* ``engine-warm``: ``get_spark()`` with the engine already running (started by the cold run just
  before): what every notebook after the first one sees.

All read the same parquet file with ``spark.read.parquet``, as ``course.datasets.load_spark`` does;
it is written once before any run. Each run's order alternates (stock and classic first in odd
runs, the engine pair first in even ones; cold always before warm), so machine noise hits all
alike, and the engine is stopped after the warm run, so the others run beside no server.

Printed per variant, as min/median/max over the runs: the time to the workload's result, measured
inside the child from its first line; the whole process, from launch until it and every process it
started have ended (the engine, which outlives its notebooks, and its watchdog are not waited
for); and, as a median, the peak memory (proportional set size, sampled every 0.2 s by
``autograde.memory``) of the process tree, **plus the engine's whole tree** (server JVM and its
Python workers) for the engine variants. Then the memory of three notebooks open at once: three
processes that each run the lesson workload and stay open, on the engine (one server) and on
classic sessions (three JVMs), summed over every process, server included. The last lines are the
headlines: ratios of the lesson workload's medians, stock / each variant.

    .venv/bin/python bench/startup.py [--runs 5] [--lesson-only]

The classic session uses its class-data-sharing archive; building it is a one-off cost (run
``course warmup``), timed and printed here when the archive is missing.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import psutil

from autograde.memory import PeakMemory, tree


@dataclass(frozen=True)
class Workload:
    name: str
    milestone: str  # what the child's timestamp marks
    code: str       # runs with `spark` (a session) and `LISTINGS` (the parquet path) defined


LESSON = Workload("lesson", "start to evaluation", """
from pyspark.ml import Pipeline
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import Imputer, VectorAssembler
from pyspark.ml.regression import LinearRegression
listings = spark.read.parquet(LISTINGS)
train, test = listings.randomSplit([0.8, 0.2], seed=42)
model = Pipeline(stages=[
    Imputer(strategy="median", inputCols=["bedrooms", "bathrooms"], outputCols=["bedrooms_f", "bathrooms_f"]),
    VectorAssembler(inputCols=["accommodates", "bedrooms_f", "bathrooms_f", "number_of_reviews"], outputCol="features"),
    LinearRegression(featuresCol="features", labelCol="price")]).fit(train)
rmse = RegressionEvaluator(labelCol="price", predictionCol="prediction").evaluate(model.transform(test))
assert 0 < rmse < float("inf"), rmse
""")

SYNTHETIC = Workload("synthetic", "start to first fit", """
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression
df = spark.createDataFrame([(float(i), 2.0 * i + 1.0) for i in range(100)], ["x", "y"])
model = LinearRegression(featuresCol="f", labelCol="y").fit(
    VectorAssembler(inputCols=["x"], outputCol="f").transform(df))
assert abs(model.coefficients[0] - 2.0) < 1e-6
""")

WORKLOADS = {w.name: w for w in (LESSON, SYNTHETIC)}

SESSIONS = {
    "stock": "from pyspark.sql import SparkSession\n"
             "spark = SparkSession.builder.master('local[2]').getOrCreate()\n",
    "classic": "from course.spark import get_spark\nspark = get_spark(classic=True)\n",
    "engine-cold": "from course.spark import get_spark\nspark = get_spark()\n",
    "engine-warm": "from course.spark import get_spark\nspark = get_spark()\n",
}
ENGINE_VARIANTS = ("engine-cold", "engine-warm")

MARK = "REACHED"


def child_code(variant: str, workload: Workload, listings: str) -> str:
    """The whole program one run executes: clock, session, workload, timestamp, stop."""
    return ("import time; START = time.time()\n"
            f"LISTINGS = {listings!r}\n"
            + SESSIONS[variant] + workload.code
            + f"print({MARK!r}, time.time() - START, flush=True)\nspark.stop()\n")


def engine_processes() -> list[psutil.Process]:
    from course import engine

    return engine.processes()


def _is_engine_part(proc: psutil.Process, engine: set[int]) -> bool:
    """The engine's server or watchdog: they outlive the notebook that started them."""
    try:
        return proc.pid in engine or "course.engine" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


class TreeWatch(PeakMemory):
    """Peak memory of process trees (plus the engine's, when asked), remembering every descendant
    seen (to wait for them)."""

    def __init__(self, interval: float = 0.2, with_engine: bool = False):
        super().__init__(interval, also=engine_processes if with_engine else None)
        self.seen: set[psutil.Process] = set()
        self.pids: list[int] = []   # several roots (open notebooks), or the one watched

    def processes(self, pid: int) -> list[psutil.Process]:
        server = self.also() if self.also else []
        engine = {p.pid for p in server}
        roots = [tree(root) for root in self.pids or [pid]]
        mine = [p for procs in roots for p in procs if not _is_engine_part(p, engine)]
        self.seen.update(p for p in mine if p.pid not in (self.pids or [pid]))
        return [*mine, *server]

    def wait_for_descendants(self, timeout: float = 60) -> None:
        """Return once every descendant seen has ended (a JVM outlives its Python by a moment)."""
        deadline = time.monotonic() + timeout
        while any(_alive(p) for p in self.seen) and time.monotonic() < deadline:
            time.sleep(0.01)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class Run:
    reached: float  # seconds from the child's first line to the workload's result
    whole: float    # seconds from launch until the whole process tree has ended
    pss: int        # peak PSS of the tree, bytes


def run_once(variant: str, workload: Workload, listings: str, env: dict, log_dir: str) -> Run:
    code = child_code(variant, workload, listings)
    out_path = os.path.join(log_dir, f"{variant}-{workload.name}.out")
    watch = TreeWatch(with_engine=variant in ENGINE_VARIANTS)
    with open(out_path, "w") as out:  # a file, not a pipe: no grandchild holds the run open
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=out, stderr=subprocess.STDOUT)
        with watch.watching(proc.pid):
            try:
                returncode = proc.wait(timeout=600)
            except subprocess.TimeoutExpired:
                for child in [proc, *watch.seen]:
                    try:
                        child.kill()
                    except (psutil.NoSuchProcess, ProcessLookupError):
                        pass
                raise SystemExit(f"{variant} {workload.name}: no result after 600 s (output: {out_path})") from None
        watch.wait_for_descendants()
        whole = time.perf_counter() - started
    with open(out_path) as out:
        output = out.read()
    if returncode != 0:
        raise SystemExit(f"{variant} {workload.name} failed (exit {returncode}):\n{output[-2000:]}")
    reached = float(next(line for line in output.splitlines() if line.startswith(MARK)).split()[1])
    return Run(reached, whole, watch.pss)


def describe(values: list[float]) -> str:
    return f"min {min(values):5.2f}  median {statistics.median(values):5.2f}  max {max(values):5.2f}"


def median_ratio(runs: dict[str, list[Run]], field: str, variant: str) -> float:
    stock, other = (statistics.median(getattr(r, field) for r in runs[v]) for v in ("stock", variant))
    return stock / other


def summarise(workload: Workload, runs: dict[str, list[Run]]) -> None:
    for variant in SESSIONS:
        rs = runs[variant]
        engine = " (engine included)" if variant in ENGINE_VARIANTS else ""
        print(f"  {variant:<11} {workload.milestone}: {describe([r.reached for r in rs])}   "
              f"whole process: {describe([r.whole for r in rs])}   "
              f"peak PSS median {statistics.median(r.pss for r in rs) / 2**20:5.0f} MiB{engine}")


def ratios(workload: Workload, runs: dict[str, list[Run]]) -> str:
    return ", ".join(f"{v} {median_ratio(runs, 'reached', v):.2f}x" for v in SESSIONS if v != "stock")


HOLD = "import sys\nsys.stdin.read()\n"   # an open notebook: it stays until told to close


def three_notebooks(variant: str, listings: str, env: dict) -> int:
    """Peak PSS (bytes) of three notebooks open at once, each after the lesson workload, plus the
    engine for the engine variant."""
    code = ("import time; START = time.time()\n" f"LISTINGS = {listings!r}\n" + SESSIONS[variant]
            + LESSON.code + f"print({MARK!r}, flush=True)\n" + HOLD)
    procs = []
    watch = TreeWatch(with_engine=variant in ENGINE_VARIANTS)
    try:
        for _ in range(3):
            procs.append(subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        watch.pids = [p.pid for p in procs]
        with watch.watching(procs[0].pid):
            for proc in procs:
                for line in proc.stdout:   # the engine says one line first
                    if MARK in line:
                        break
                else:
                    raise SystemExit(f"three {variant} notebooks: one ended without its result")
            time.sleep(2)   # all three open, idle, as notebooks between cells
    finally:
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.stdin.close()
            with contextlib.suppress(Exception):
                proc.wait(timeout=120)
    return watch.pss


def stop_engine() -> None:
    from course import engine

    engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per variant and workload (medians are compared)")
    parser.add_argument("--lesson-only", action="store_true", help="skip the secondary, synthetic workload")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-startup-"))
    os.environ["COURSE_HEADLESS"] = "1"
    # Every variant gets a local session: no other Spark Connect server, no other master.
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPARK_REMOTE", "SPARK_MASTER", "COURSE_ENGINE", "SPARK_CONNECT_MODE_ENABLED")}
    workloads = [LESSON] if args.lesson_only else [LESSON, SYNTHETIC]

    from course import datasets
    from course import spark as course_spark

    listings = str(datasets.cache("listings"))
    if not course_spark.class_archive_path().exists():
        started = time.perf_counter()
        course_spark.build_class_archive()
        print(f"one-off: class archive built in {time.perf_counter() - started:.1f} s")

    load_before = os.getloadavg()
    stop_engine()
    try:
        results, open_three = measure(args.runs, workloads, listings, env)
    finally:
        stop_engine()   # the engine outlives its notebooks: never leave one behind
    report(args.runs, workloads, results, open_three, load_before)


def measure(runs: int, workloads: list[Workload], listings: str, env: dict):
    log_dir = tempfile.mkdtemp(prefix="bench-startup-logs-")
    results = {w.name: {v: [] for v in SESSIONS} for w in workloads}
    for run in range(runs):
        others = ["stock", "classic"] if run % 2 == 0 else ["classic", "stock"]
        order = [*others, *ENGINE_VARIANTS] if run % 2 == 0 else [*ENGINE_VARIANTS, *others]
        for workload in workloads:
            for variant in order:
                results[workload.name][variant].append(run_once(variant, workload, listings, env, log_dir))
                if variant == "engine-warm":
                    stop_engine()
        print(f"run {run + 1}: " + "   ".join(
            f"{w.name}: " + "  ".join(f"{v} {results[w.name][v][-1].reached:.2f}s" for v in SESSIONS)
            for w in workloads), flush=True)
    open_three = {"engine-warm": three_notebooks("engine-warm", listings, env)}
    stop_engine()
    open_three["classic"] = three_notebooks("classic", listings, env)
    return results, open_three


def report(run_count: int, workloads: list[Workload], results: dict, open_three: dict, load_before) -> None:
    load_after = os.getloadavg()
    print(f"\n{run_count} runs each, seconds (Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)")
    if SYNTHETIC in workloads:
        runs = results[SYNTHETIC.name]
        print("\nsecondary, synthetic workload (createDataFrame of 100 rows, one LinearRegression fit):")
        summarise(SYNTHETIC, runs)
        print(f"  ratio of medians, stock / variant, {SYNTHETIC.milestone}: {ratios(SYNTHETIC, runs)}")
    runs = results[LESSON.name]
    print("\nlesson workload (read listings, randomSplit, Pipeline of Imputer, VectorAssembler and "
          "LinearRegression, one evaluation):")
    summarise(LESSON, runs)
    print("\nthree notebooks open at once after the lesson workload, peak PSS of every process: "
          f"on the engine {open_three['engine-warm'] / 2**30:.2f} GiB (server included), "
          f"on classic sessions {open_three['classic'] / 2**30:.2f} GiB (Binder's limit: 2 GB = 1.86 GiB)")
    print(f"\nheadline, lesson workload, ratio of medians (stock / variant), {LESSON.milestone}: "
          f"{ratios(LESSON, runs)}")


if __name__ == "__main__":
    main()
