"""Time and memory of every source notebook, against the course's budget.

Each notebook runs in a fresh kernel (nbclient), as a learner would run it top to bottom. A
sampler reads the memory of the kernel's whole process tree (the Python kernel, the Spark JVM
and any Python workers) every 0.2 s, plus the course engine's (its server and Python workers)
when the notebook runs on it: the budget then holds for a notebook open alone. Budget per notebook: 90 s and 1.5 GiB on a 2-core machine
(Binder stops a kernel above 2 GB).

The budget applies to the proportional set size (PSS): each page shared by several processes
counts once, split between them, as a memory limit like Binder's charges it. The resident sizes
(RSS) are summed too and printed beside it: they count shared pages once per process, so a
Python worker forked from Spark's worker daemon, or the JVM forking itself to run `chmod`
while Hadoop writes a file, looks like a second copy of its parent.

    .venv/bin/python bench/notebooks.py [--runs 1] [notebook.ipynb ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograde.memory import PeakMemory
from course import engine

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 90
BUDGET_BYTES = 1.5 * 1024**3


def run_notebook(path: Path) -> tuple[float, int, int, int]:
    """Execute one notebook; return (seconds, peak PSS bytes, peak RSS bytes, cells that raised)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    peak = PeakMemory(also=engine.processes)   # a notebook on the course engine uses its server too
    started = time.perf_counter()
    with client.setup_kernel(), peak.watching(client.km.provisioner.process.pid):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    seconds = time.perf_counter() - started
    errors = sum(1 for c in notebook.cells if any(o.output_type == "error" for o in c.get("outputs", [])))
    return seconds, peak.pss, peak.rss, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=1, help="runs per notebook; medians are reported")
    args = parser.parse_args()
    os.environ.setdefault("COURSE_HEADLESS", "1")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-notebooks-"))
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "source").glob("*/*.ipynb"))
    over = 0
    print(f"{'notebook':<64} {'seconds':>8} {'PSS MiB':>8} {'RSS MiB':>8}  budget")
    for path in paths:
        results = [run_notebook(path) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in results)
        peak = statistics.median(r[1] for r in results)
        resident = statistics.median(r[2] for r in results)
        errors = max(r[3] for r in results)
        ok = seconds <= BUDGET_SECONDS and peak <= BUDGET_BYTES and errors == 0
        over += not ok
        note = "ok" if ok else "OVER" if errors == 0 else f"{errors} cell(s) failed"
        print(f"{str(path.relative_to(ROOT)):<64} {seconds:8.1f} {peak / 2**20:8.0f} {resident / 2**20:8.0f}  {note}", flush=True)
    print(f"\nbudget: {BUDGET_SECONDS} s and {BUDGET_BYTES / 2**30:.1f} GiB (PSS) per notebook; "
          f"{len(paths) - over} of {len(paths)} inside ({os.cpu_count()} cores)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
