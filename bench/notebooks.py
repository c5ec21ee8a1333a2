"""Time and memory of every source notebook, against the course's budget.

Each notebook runs in a fresh kernel (nbclient), as a learner would run it top to bottom. A
sampler reads the resident memory of the kernel's whole process tree (the Python kernel, the
Spark JVM and any Python workers) every 0.2 s. Budget per notebook: 90 s and 1.5 GiB on a
2-core machine (Binder stops a kernel above 2 GB).

    .venv/bin/python bench/notebooks.py [--runs 1] [notebook.ipynb ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 90
BUDGET_BYTES = 1.5 * 1024**3


def tree_rss(pid: int) -> int:
    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_notebook(path: Path) -> tuple[float, int, int]:
    """Execute one notebook; return (seconds, peak bytes, cells that raised)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    peak, stop = [0], threading.Event()
    started = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(pid))
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak[0] = max(peak[0], tree_rss(pid))
        stop.set()
        sampler.join()
    seconds = time.perf_counter() - started
    errors = sum(1 for c in notebook.cells if any(o.output_type == "error" for o in c.get("outputs", [])))
    return seconds, peak[0], errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=1, help="runs per notebook; medians are reported")
    args = parser.parse_args()
    os.environ.setdefault("COURSE_HEADLESS", "1")
    os.environ.setdefault("COURSE_DATA", tempfile.mkdtemp(prefix="bench-notebooks-"))
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "source").glob("*/*.ipynb"))
    over = 0
    print(f"{'notebook':<64} {'seconds':>8} {'peak MiB':>9}  budget")
    for path in paths:
        results = [run_notebook(path) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in results)
        peak = statistics.median(r[1] for r in results)
        errors = max(r[2] for r in results)
        ok = seconds <= BUDGET_SECONDS and peak <= BUDGET_BYTES and errors == 0
        over += not ok
        note = "ok" if ok else "OVER" if errors == 0 else f"{errors} cell(s) failed"
        print(f"{str(path.relative_to(ROOT)):<64} {seconds:8.1f} {peak / 2**20:9.0f}  {note}", flush=True)
    print(f"\nbudget: {BUDGET_SECONDS} s and {BUDGET_BYTES / 2**30:.1f} GiB per notebook; "
          f"{len(paths) - over} of {len(paths)} inside ({os.cpu_count()} cores)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
