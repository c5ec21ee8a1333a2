"""The course engine's code cache: lessons in a row on one engine, with the client compiler's
default code cache (48 MB) and with the course's 240 MB, side by side.

A learner keeps one engine for a whole sitting, and Spark compiles code for every new query it
runs, so the engine's code cache keeps filling. With the client compiler alone the JVM reserves
48 MB for it; once that is nearly full the JVM sweeps the cache again and again and compiles the
same methods anew. The course's JVM options (``course.spark.FAST_START_JAVA_OPTIONS``) reserve
240 MB instead, the JVM's own default for tiered compilation.

Each run is a fresh course data folder and a fresh engine. The student versions of the given
lessons (default: week 2's metrics and cross-validation lessons) run one after the other, each in
a fresh kernel, as a learner runs them top to bottom; the first one starts the engine and the next
one finds it. Then the engine's JVM is read and stopped. The 48 MB variant differs only in the
environment: ``_JAVA_OPTIONS=-XX:ReservedCodeCacheSize=48m``, which the JVM applies after its
command line. The variants alternate, the first one changing every run, so machine noise hits both
alike.

Printed per variant, as min/median/max over the runs: the lessons' wall time (kernel start to last
cell, summed), and the CPU time the engine's JVM used (user + system: the work
the cache change is about, and what a busy 2-core machine pays); then the ratios of the medians.

    .venv/bin/python bench/code_cache.py [--runs 3] [release/<week>/<lesson>.ipynb ...]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = (ROOT / "release" / "week2-training-evaluation" / "03-metrics.ipynb",
           ROOT / "release" / "week2-training-evaluation" / "04-cross-validation.ipynb")
VARIANTS = {"48 MB (client default)": "-XX:ReservedCodeCacheSize=48m", "240 MB (course)": None}


def one_run(lessons: list[Path]) -> dict:
    """In this process (started by ``main`` with its own data folder): the lessons in a row on one
    engine; their summed wall time and the engine JVM's CPU time."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    from course import engine

    seconds, failed = 0.0, []
    for path in lessons:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        started = time.perf_counter()
        client.execute()
        seconds += time.perf_counter() - started
        for cell in notebook.cells:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            # an untouched exercise's check says "not attempted"; anything else is a broken lesson
            if errors and errors[0].ename != "NotAttempted":
                failed.append(f"{path.name}: {errors[0].ename}: {errors[0].evalue[:200]}")
    status = engine.status()
    if not status.running:
        raise SystemExit(f"no course engine ran these lessons: {', '.join(p.name for p in lessons)}")
    times = psutil.Process(status.pid).cpu_times()
    cpu = times.user + times.system
    engine.stop()
    return {"seconds": seconds, "engine_cpu": cpu, "failed": failed}


def measure(option: str | None, lessons: list[Path]) -> dict:
    """``one_run`` in a fresh process with a fresh data folder; ``option`` goes to ``_JAVA_OPTIONS``."""
    with tempfile.TemporaryDirectory(prefix="bench-code-cache-") as data:
        env = {**os.environ, "COURSE_DATA": data, "COURSE_HEADLESS": "1"}
        env.pop("COURSE_ENGINE", None)
        env.pop("_JAVA_OPTIONS", None)
        if option:
            env["_JAVA_OPTIONS"] = option
        done = subprocess.run([sys.executable, __file__, "--one-run", *map(str, lessons)], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"a run failed ({option or 'course options'}):\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["failed"]:
        raise SystemExit("a lesson cell failed:\n" + "\n".join(result["failed"]))
    return result


def spread(values: list[float]) -> str:
    return f"{min(values):7.1f} {statistics.median(values):7.1f} {max(values):7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs per variant; medians are compared")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    lessons = [p.resolve() for p in args.lessons] or list(LESSONS)
    if args.one_run:
        print(json.dumps(one_run(lessons)))
        return 0
    results: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for run in range(args.runs):
        order = list(VARIANTS) if run % 2 == 0 else list(reversed(VARIANTS))
        for name in order:
            results[name].append(measure(VARIANTS[name], lessons))
            print(f"run {run + 1}, {name}: {results[name][-1]['seconds']:.1f} s, "
                  f"engine CPU {results[name][-1]['engine_cpu']:.1f} s", flush=True)
    print(f"\n{len(lessons)} lessons in a row on one engine ({', '.join(p.stem for p in lessons)}), "
          f"{args.runs} runs; min / median / max")
    print(f"{'code cache':<24}{'lessons wall s':>24}{'engine JVM CPU s':>26}")
    for name, runs in results.items():
        print(f"{name:<24}{spread([r['seconds'] for r in runs]):>24}{spread([r['engine_cpu'] for r in runs]):>26}")
    old, new = results["48 MB (client default)"], results["240 MB (course)"]
    for label, key in (("wall", "seconds"), ("engine CPU", "engine_cpu")):
        ratio = statistics.median(r[key] for r in new) / statistics.median(r[key] for r in old)
        print(f"240 MB / 48 MB, median {label}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
