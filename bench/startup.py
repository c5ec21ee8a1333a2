"""Cold start plus a first Spark ML fit: the course's session against PySpark's stock builder.

Each run is a fresh Python process (so a fresh JVM) that starts a session, assembles a feature
vector and fits a LinearRegression. The two variants alternate, run after run, so machine noise
hits both alike. Printed: per-variant min/median/max of time-to-fitted-model (measured inside
the child from interpreter start) and of the whole process, and the ratio of the medians.

    .venv/bin/python bench/startup.py [--runs 5]

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

WORKLOAD = """
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression
df = spark.createDataFrame([(float(i), 2.0 * i + 1.0) for i in range(100)], ["x", "y"])
model = LinearRegression(featuresCol="f", labelCol="y").fit(
    VectorAssembler(inputCols=["x"], outputCol="f").transform(df))
assert abs(model.coefficients[0] - 2.0) < 1e-6
print("FIT", time.time() - START)
spark.stop()
"""

VARIANTS = {
    "stock": "from pyspark.sql import SparkSession\n"
             "spark = SparkSession.builder.master('local[2]').getOrCreate()\n",
    "course": "from course.spark import get_spark\nspark = get_spark('bench')\n",
}


def run_once(variant: str, env: dict) -> tuple[float, float]:
    code = "import time; START = time.time()\n" + VARIANTS[variant] + WORKLOAD
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{result.stderr[-2000:]}")
    fit = float(next(line for line in result.stdout.splitlines() if line.startswith("FIT")).split()[1])
    return fit, wall


def describe(values: list[float]) -> str:
    return f"min {min(values):5.2f}  median {statistics.median(values):5.2f}  max {max(values):5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, COURSE_HEADLESS="1")
    env.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-startup-"))

    from course import spark as course_spark

    if not course_spark.class_archive_path().exists():
        started = time.perf_counter()
        course_spark.build_class_archive()
        print(f"one-off: class archive built in {time.perf_counter() - started:.1f} s")

    fits: dict[str, list[float]] = {name: [] for name in VARIANTS}
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for run in range(args.runs):
        for name in VARIANTS:  # interleaved: stock, course, stock, course...
            fit, wall = run_once(name, env)
            fits[name].append(fit)
            walls[name].append(wall)
        print(f"run {run + 1}: " + "  ".join(f"{n} {fits[n][-1]:.2f}s" for n in VARIANTS), flush=True)

    print(f"\n{args.runs} runs each, seconds (Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    for name in VARIANTS:
        print(f"  {name:<7} start+first fit: {describe(fits[name])}   whole process: {describe(walls[name])}")
    fit_ratio = statistics.median(fits["stock"]) / statistics.median(fits["course"])
    wall_ratio = statistics.median(walls["stock"]) / statistics.median(walls["course"])
    print(f"\nratio of medians (stock / course): start+first fit {fit_ratio:.2f}x, whole process {wall_ratio:.2f}x")


if __name__ == "__main__":
    main()
