"""Real Spark servers for the tests: a Spark Connect server and a standalone cluster (a master and
one worker), each a separate JVM started the way an administrator starts it, bound to 127.0.0.1
on free ports, with its logs, warehouse and temp files in a scratch folder, and always stopped
(its whole process group) when the ``with`` block ends, whatever happened inside.

    with connect_server(tmp) as remote:       # "sc://127.0.0.1:PORT", for SPARK_REMOTE
    with standalone_cluster(tmp) as master:   # "spark://127.0.0.1:PORT", for SPARK_MASTER
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyspark

from course.spark import FAST_START_JAVA_OPTIONS

SPARK_HOME = Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(scratch: Path) -> dict:
    env = dict(os.environ)
    for name in ("SPARK_REMOTE", "SPARK_MASTER", "SPARK_CONNECT_MODE_ENABLED"):
        env.pop(name, None)
    env.update({
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOG_DIR": str(scratch / "logs"),
        "SPARK_PID_DIR": str(scratch / "pids"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_NO_DAEMONIZE": "1",
        # Python workers run this interpreter (the course's environment), as in a lesson.
        "PYSPARK_PYTHON": sys.executable,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    })
    return env


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def _process_group(command: list[str], env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """Start ``command`` in its own process group, output to ``log``; stop the group at exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@contextlib.contextmanager
def connect_server(scratch: Path, master: str = "local[2]") -> Iterator[str]:
    """A Spark Connect server (PySpark's ``sbin/start-connect-server.sh``); yields its URL."""
    scratch = Path(scratch)
    port = free_port()
    command = [str(SPARK_HOME / "sbin" / "start-connect-server.sh"), "--master", master,
               "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
               "--conf", f"spark.connect.grpc.binding.port={port}",
               "--conf", f"spark.sql.warehouse.dir={scratch / 'warehouse'}",
               "--conf", f"spark.local.dir={scratch / 'tmp'}",
               "--conf", f"spark.driver.extraJavaOptions=-Djava.io.tmpdir={scratch / 'tmp'}",
               "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
               "--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.ui.enabled=false",
               "--conf", "spark.driver.memory=1500m"]
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    log = scratch / "logs" / "connect-server.log"
    with _process_group(command, _environment(scratch), log) as process:
        _wait_for_port(port, process, log, "the Spark Connect server")
        yield f"sc://127.0.0.1:{port}"


@contextlib.contextmanager
def standalone_cluster(scratch: Path, cores: int = 2, memory: str = "2g") -> Iterator[str]:
    """A standalone master and one worker (``spark-class ...Master`` / ``...Worker``); yields the
    master URL."""
    scratch = Path(scratch)
    env = _environment(scratch)
    env["SPARK_WORKER_DIR"] = str(scratch / "worker")
    # The worker starts each application's executor JVM with its own environment, so this tunes
    # the master, the worker and every executor alike: the short-lived JVMs of a test run start
    # and finish sooner with the client compiler alone, as the course's local driver does.
    env["JAVA_TOOL_OPTIONS"] = " ".join(filter(None, [env.get("JAVA_TOOL_OPTIONS", ""), *FAST_START_JAVA_OPTIONS]))
    port = free_port()
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    master_log, worker_log = scratch / "logs" / "master.log", scratch / "logs" / "worker.log"
    master = [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(free_port())]
    url = f"spark://127.0.0.1:{port}"
    with _process_group(master, env, master_log) as master_process:
        _wait_for_port(port, master_process, master_log, "the standalone master")
        worker = [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                  "--port", str(free_port()), "--webui-port", str(free_port()),
                  "--cores", str(cores), "--memory", memory, url]
        with _process_group(worker, env, worker_log) as worker_process:
            deadline = time.monotonic() + 120
            while "Successfully registered with master" not in worker_log.read_text(errors="replace"):
                if worker_process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not register:\n{worker_log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
