"""What each part of the classic session's fast start still buys, now that notebooks share the engine.

The classic session (``get_spark(classic=True)``: grading, and the lessons that need the classic
API) starts fast through a few parts. Each variant here switches one part off, in the child process
only (by replacing the function that provides it before ``get_spark`` is called), and runs a
workload (below) in a fresh process, alternating with the full session:

* ``no archive``: no class-data-sharing archive (nor the unsigned jar copies made with it);
* ``no course daemon``: Spark's own Python worker daemon instead of ``course.python_daemon``.

Two workloads, one per run of the script (``--workload``): ``lesson``, the lesson workload of
``bench/startup.py`` (no Python worker needed), and ``python``, what the classic lessons and graded
notebooks also do: ``createDataFrame`` from a Python list and a pandas UDF, which need Spark's
Python workers (XGBoost's estimator and Hyperopt's ``SparkTrials`` run their work in them).

Printed: the median time to the workload's result per variant, and what the part saves (the
variant's median minus the full session's). A part that saves less than half a second on both
workloads is not worth its code. Measured once the engine existed, four more parts were removed that
way (5 runs each, 2 cores; lesson / python workload): starting the JVM without spark-submit's
scripts (0.06 / 0.12 s), starting Python workers in the background (-0.33 / -0.09 s), running
Spark's one-off initialisations on two background threads (-0.05 / -0.03 s) and importing the
lesson's modules while the JVM booted (-0.14 / -0.25 s).

    .venv/bin/python bench/classic_parts.py [--runs 5] [--workload lesson|python]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("bench_startup", HERE / "startup.py")
startup = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = startup
spec.loader.exec_module(startup)

SESSION = "from course.spark import get_spark\nspark = get_spark(classic=True)\n"
SWITCHES = {
    "full": "",
    "no archive": "import course.spark as cs\nfrom pathlib import Path\n"
                  "cs.class_archive_path = lambda: Path('/nonexistent/spark.jsa')\n",
    "no course daemon": "import course.spark as cs\ncs.python_daemon_conf = lambda: {}\n",
}
MINIMUM_SAVING = 0.5   # seconds
PYTHON = startup.Workload("python", "start to a pandas UDF's result", """
import pandas as pd
from pyspark.sql.functions import pandas_udf
df = spark.createDataFrame([(float(i),) for i in range(1000)], ["x"])

@pandas_udf("double")
def doubled(x: pd.Series) -> pd.Series:
    return x * 2

assert df.select(doubled("x").alias("y")).agg({"y": "sum"}).first()[0] == 999000.0
""")
WORKLOADS = {"lesson": startup.LESSON, "python": PYTHON}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workload", default="lesson", choices=list(WORKLOADS))
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-parts-"))
    os.environ["COURSE_HEADLESS"] = "1"
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_MASTER", "SPARK_CONNECT_MODE_ENABLED")}
    from course import datasets
    from course import spark as course_spark

    listings = str(datasets.cache("listings"))
    course_spark.build_class_archive()
    for name, switch in SWITCHES.items():
        startup.SESSIONS[name] = switch + SESSION
    workload = WORKLOADS[args.workload]
    log_dir = tempfile.mkdtemp(prefix="bench-parts-logs-")
    times = {name: [] for name in SWITCHES}
    for run in range(args.runs):
        order = list(SWITCHES) if run % 2 == 0 else list(reversed(SWITCHES))
        for name in order:
            times[name].append(startup.run_once(name, workload, listings, env, log_dir).reached)
        print(f"run {run + 1}: " + "  ".join(f"{n} {times[n][-1]:.2f}s" for n in SWITCHES), flush=True)
    full = statistics.median(times["full"])
    print(f"\n{args.runs} runs each, {workload.name} workload, median seconds {workload.milestone} "
          f"({os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.1f}):")
    for name in SWITCHES:
        median = statistics.median(times[name])
        saving = "" if name == "full" else (
            f"   the part saves {median - full:+.2f} s: "
            + ("keep" if median - full >= MINIMUM_SAVING else f"under {MINIMUM_SAVING} s"))
        print(f"  {name:<20} {median:5.2f} s{saving}")


if __name__ == "__main__":
    main()
