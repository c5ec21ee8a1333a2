"""Peak memory of a process and everything it starts: what a notebook run costs, counted the way a
memory limit like Binder's counts it.

``tree_memory(pid)`` reads the memory of a process and all its descendants (for a notebook: the
kernel, the Spark JVM it starts and Spark's Python workers). ``PeakMemory`` samples it in a
background thread while the process runs and keeps the highest values.

The limit applies to the proportional set size (PSS): each page shared by several processes counts
once, split between them. The resident sizes (RSS) are summed too: they count shared pages once per
process, so a Python worker forked from Spark's worker daemon, or the JVM forking itself to run
``chmod``, looks like a second copy of its parent.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import psutil


def tree(pid: int, include_root: bool = True) -> list[psutil.Process]:
    """A process and all its descendants (or the descendants only); none once it has ended."""
    try:
        parent = psutil.Process(pid)
        return [*([parent] if include_root else []), *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory_of(procs) -> tuple[int, int]:
    """(PSS, RSS) of these processes, in bytes; a process that has ended counts nothing."""
    pss = rss = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        pss += getattr(info, "pss", info.rss)   # PSS is Linux-only; elsewhere RSS stands in
        rss += info.rss
    return pss, rss


def tree_memory(pid: int, include_root: bool = True) -> tuple[int, int]:
    """(PSS, RSS) of a process and all its descendants (or the descendants only), in bytes;
    (0, 0) once it has ended."""
    return memory_of(tree(pid, include_root))


class PeakMemory:
    """The highest PSS and RSS (bytes) of a process tree, over every ``watching`` of it.

    ``also``, when given, returns more processes to count with the tree at every sample: a server
    the tree uses without having started it (the course engine, shared by notebooks)."""

    def __init__(self, interval: float = 0.2, include_root: bool = True, also=None):
        self.interval = interval
        self.include_root = include_root
        self.also = also
        self.pss = 0
        self.rss = 0

    def processes(self, pid: int) -> list[psutil.Process]:
        procs = tree(pid, self.include_root)
        if self.also is not None:
            known = {p.pid for p in procs}
            for proc in self.also():
                if proc.pid not in known:
                    known.add(proc.pid)
                    procs.append(proc)
        return procs

    def record(self, pid: int) -> None:
        pss, rss = memory_of(self.processes(pid))
        self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)

    @contextlib.contextmanager
    def watching(self, pid: int) -> Iterator[PeakMemory]:
        """Sample the tree of ``pid`` every ``interval`` seconds while the block runs, and once more
        at its end."""
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                self.record(pid)
                stop.wait(self.interval)

        sampler = threading.Thread(target=sample, name="peak-memory", daemon=True)
        sampler.start()
        try:
            yield self
        finally:
            stop.set()
            sampler.join()
            self.record(pid)
