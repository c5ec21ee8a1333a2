"""Cold start plus a lesson's first workload: the course's session against PySpark's stock builder.

Each run is a fresh Python process (so a fresh JVM) that starts a session and does a workload:

* ``lesson`` (the headline): what the first cells of a lesson do (week 1, lesson 05). Read the
  ``listings`` dataset from its parquet file, ``randomSplit`` it, fit a ``Pipeline`` of an
  ``Imputer`` (median of ``bedrooms`` and ``bathrooms``, which have missing values), a
  ``VectorAssembler`` and a ``LinearRegression`` on ``price``, and evaluate it once on the test split.
* ``synthetic`` (secondary): ``createDataFrame`` of 100 rows, a ``VectorAssembler`` and one
  ``LinearRegression`` fit; smaller than any lesson, so it flatters whichever session starts faster.

The two variants differ only in the lines that start the session: ``stock`` is
``SparkSession.builder.master('local[2]').getOrCreate()``, ``course`` is ``get_spark()`` as a lesson
calls it (its default, classic local session). Both read the same parquet file with
``spark.read.parquet``, as ``course.datasets.load_spark`` does; it is written once before any run,
so neither pays for generating the data. The variants alternate run after run (stock first in
odd runs, course first in even ones), so machine noise hits both alike.

Printed per variant, as min/median/max over the runs: the time to the workload's result, measured
inside the child from its first line; the whole process tree, from launch until its last process
(Python, the JVM, Spark's Python workers) has ended; and, as a median, the tree's peak memory
(proportional set size, sampled every 0.2 s by ``autograde.memory``, as ``bench/notebooks.py``
does). The last line is the headline: the ratio of the lesson workload's medians, which is what a
lesson sees.

    .venv/bin/python bench/startup.py [--runs 5] [--lesson-only]

The course's session uses its class-data-sharing archive; building it is a one-off cost (run
``course warmup``), timed and printed here when the archive is missing. Its first start in a new
data folder also asks Spark's launcher for the JVM command once (later starts reuse it); that
first run is counted like the others.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import psutil

from autograde.memory import PeakMemory


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
    "course": "from course.spark import get_spark\nspark = get_spark()\n",
}

MARK = "REACHED"


def child_code(variant: str, workload: Workload, listings: str) -> str:
    """The whole program one run executes: clock, session, workload, timestamp, stop."""
    return ("import time; START = time.time()\n"
            f"LISTINGS = {listings!r}\n"
            + SESSIONS[variant] + workload.code
            + f"print({MARK!r}, time.time() - START, flush=True)\nspark.stop()\n")


class TreeWatch(PeakMemory):
    """Peak memory of a process tree, remembering every descendant it saw (to wait for them)."""

    def __init__(self, interval: float = 0.2):
        super().__init__(interval)
        self.seen: set[psutil.Process] = set()

    def record(self, pid: int) -> None:
        super().record(pid)
        try:
            self.seen.update(psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass

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
    watch = TreeWatch()
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


def median_ratio(runs: dict[str, list[Run]], field: str) -> float:
    stock, course = (statistics.median(getattr(r, field) for r in runs[v]) for v in ("stock", "course"))
    return stock / course


def summarise(workload: Workload, runs: dict[str, list[Run]]) -> None:
    for variant in SESSIONS:
        rs = runs[variant]
        print(f"  {variant:<7} {workload.milestone}: {describe([r.reached for r in rs])}   "
              f"whole process tree: {describe([r.whole for r in rs])}   "
              f"peak PSS median {statistics.median(r.pss for r in rs) / 2**20:5.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per variant and workload (medians are compared)")
    parser.add_argument("--lesson-only", action="store_true", help="skip the secondary, synthetic workload")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-startup-"))
    os.environ["COURSE_HEADLESS"] = "1"
    # Both variants get the default local session: no Spark Connect, no other master.
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_MASTER")}
    workloads = [LESSON] if args.lesson_only else [LESSON, SYNTHETIC]

    from course import datasets
    from course import spark as course_spark

    listings = str(datasets.cache("listings"))
    if not course_spark.class_archive_path().exists():
        started = time.perf_counter()
        course_spark.build_class_archive()
        print(f"one-off: class archive built in {time.perf_counter() - started:.1f} s")

    load_before = os.getloadavg()
    log_dir = tempfile.mkdtemp(prefix="bench-startup-logs-")
    results = {w.name: {v: [] for v in SESSIONS} for w in workloads}
    for run in range(args.runs):
        order = list(SESSIONS) if run % 2 == 0 else list(reversed(SESSIONS))
        for workload in workloads:
            for variant in order:
                results[workload.name][variant].append(run_once(variant, workload, listings, env, log_dir))
        print(f"run {run + 1}: " + "   ".join(
            f"{w.name}: " + "  ".join(f"{v} {results[w.name][v][-1].reached:.2f}s" for v in SESSIONS)
            for w in workloads), flush=True)

    load_after = os.getloadavg()
    print(f"\n{args.runs} runs each, seconds (Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)")
    if SYNTHETIC in workloads:
        runs = results[SYNTHETIC.name]
        print("\nsecondary, synthetic workload (createDataFrame of 100 rows, one LinearRegression fit):")
        summarise(SYNTHETIC, runs)
        print(f"  ratio of medians (stock / course): {SYNTHETIC.milestone} {median_ratio(runs, 'reached'):.2f}x, "
              f"whole process tree {median_ratio(runs, 'whole'):.2f}x")
    runs = results[LESSON.name]
    print("\nlesson workload (read listings, randomSplit, Pipeline of Imputer, VectorAssembler and "
          "LinearRegression, one evaluation):")
    summarise(LESSON, runs)
    print(f"\nheadline, lesson workload, ratio of medians (stock / course): {LESSON.milestone} "
          f"{median_ratio(runs, 'reached'):.2f}x, whole process tree {median_ratio(runs, 'whole'):.2f}x")


if __name__ == "__main__":
    main()
