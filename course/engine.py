"""The course's Spark engine: one local Spark Connect server that all of a learner's notebooks share.

A classic local session starts a Java process in every notebook (about 660 MiB and several seconds
each). The engine is one long-lived local Spark Connect server instead: the first notebook starts it,
every later notebook connects in well under a second and gets its own server-side session (its own
temporary views and settings; tables are shared, as in a Databricks catalog). It is how Databricks
runs notebooks on serverless compute and in standard access mode.

It is PySpark's own reusable local server (``spark.local.connect.reuse``, added in PySpark 4.3 and
marked experimental; ``pyspark.sql.connect.local_server``), run by the course:

* its discovery file (host, port, token, pid), pid file and logs live in ``<data>/spark/engine``, a
  folder only the learner can open (0700; the token file is 0600), and it listens on 127.0.0.1 only,
  so another user of a shared machine can neither reach nor authenticate to it;
* its tables live in a Hive metastore (Apache Derby, embedded) and a warehouse in that folder, so
  they survive a restart of the engine;
* a watchdog stops it ``idle_minutes()`` after the last notebook that used it has closed, and
  ``course engine stop`` stops it at once; ``course engine status`` shows it;
* grading never uses it: under ``nbgrader autograde`` (and so ``course grade``) every notebook gets a
  fresh classic session of its own, so a grade cannot depend on another notebook's state.

What it does not do: run on Windows (PySpark's reuse relies on the POSIX scripts under ``sbin/``),
or serve several users; set ``COURSE_ENGINE=off`` for a classic session per notebook.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from course import paths

MASTER = "local[2]"
DEFAULT_IDLE_MINUTES = 20
PROBE_SECONDS = 30       # how long a running engine may take to answer a first request
WATCH_SECONDS = 10       # how often the watchdog looks

# What the course uses of PySpark's experimental interface; tests/test_engine.py pins it, so a
# PySpark upgrade that changes it fails a test rather than a learner's notebook.
INTERFACE = ("Discovery", "LocalConnectServer", "reuse_or_start_local_connect_server")
DISCOVERY_KEYS = ("host", "port", "token", "pid", "spark_version")

_said = False            # the one line get_spark() prints per process
_client_session = None   # this process's session on the engine


class EngineError(RuntimeError):
    """The engine could not be started or reached."""


# --- where ----------------------------------------------------------------------------------------

def engine_dir() -> Path:
    folder = paths.sub_dir("spark/engine")
    os.chmod(folder, 0o700)
    return folder


def discovery_file() -> Path:
    return engine_dir() / "connect-local.json"


def log_dir() -> Path:
    return engine_dir() / "logs"


def _clients_dir() -> Path:
    folder = engine_dir() / "clients"
    folder.mkdir(exist_ok=True)
    return folder


def idle_minutes() -> float:
    try:
        return float(os.environ.get("COURSE_ENGINE_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))
    except ValueError:
        return DEFAULT_IDLE_MINUTES


# --- whether --------------------------------------------------------------------------------------

def interface_problem() -> str | None:
    """What is missing from PySpark's reusable local server, or None when all the course uses is there."""
    try:
        from pyspark.sql.connect import local_server
    except ImportError as exc:
        return f"this PySpark has no reusable local Spark Connect server ({exc})"
    missing = [name for name in INTERFACE if not hasattr(local_server, name)]
    return f"PySpark's local server lacks {', '.join(missing)}" if missing else None


def wanted() -> bool:
    """Whether get_spark() should use the engine here: a local notebook on Linux or macOS, not a
    notebook being graded, and not switched off with ``COURSE_ENGINE=off``."""
    if os.environ.get("COURSE_ENGINE", "").lower() in {"off", "0", "false", "no", "classic"}:
        return False
    if os.environ.get("NBGRADER_EXECUTION"):   # grading: a fresh classic session per notebook
        return False
    return os.name == "posix"


# --- the server's settings --------------------------------------------------------------------------

def seed_conf() -> dict[str, str]:
    """Settings the engine starts with (only the start can set them; later notebooks find it running)."""
    from course.spark import FAST_START_JAVA_OPTIONS, LOG4J_CONFIG, headless, python_daemon_conf

    folder = engine_dir()
    (folder / "tmp").mkdir(exist_ok=True)
    log_dir().mkdir(exist_ok=True)
    # The classic session's compiler settings suit the engine too: a lesson's many short jobs ran
    # faster on a warm engine with the client compiler alone (1.3 s against 1.6 s for the lesson
    # workload on 2 cores), whose compiler thread leaves the other core to the work.
    java_options = [*FAST_START_JAVA_OPTIONS, f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
                    f"-Djava.io.tmpdir={folder / 'tmp'}",
                    f"-Dderby.stream.error.file={log_dir() / 'derby.log'}"]
    return {
        # a port the system says is free, not Spark Connect's usual 15002 (another user's engine,
        # or a learner's own server, may hold that one)
        "spark.local.connect.server.port": str(_free_port()),
        "spark.driver.memory": os.environ.get("COURSE_DRIVER_MEMORY", "1g"),
        "spark.driver.extraJavaOptions": " ".join(java_options),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "2",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **python_daemon_conf(),
        "spark.ui.enabled": "false" if headless() else "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true",
        "spark.local.dir": str(folder / "tmp"),
    }


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _launch_environment():
    """The environment PySpark's launcher hands the server: the course's discovery file, loopback
    only (SPARK_LOCAL_IP also binds the Spark UI there), no old token, and no notebook's MLflow
    settings (the server's Python workers serve every notebook)."""
    changes = {"SPARK_LOCAL_CONNECT_DISCOVERY": str(discovery_file()), "SPARK_LOCAL_IP": "127.0.0.1"}
    # A token left from an engine that is gone would be handed to the next one: PySpark sets the
    # running engine's token again after it has found or started it.
    os.environ.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)
    removed = {k: os.environ[k] for k in list(os.environ) if k.startswith("MLFLOW_")}
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    for key in removed:
        del os.environ[key]
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(removed)


# --- state ----------------------------------------------------------------------------------------

def _pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs. A killed server whose parent never collects it (the daemon
    script has exited; some containers' first process reaps nothing) stays a zombie: not running."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in {"Z", "X"}
    return True


def _discovery():
    from pyspark.sql.connect.local_server import Discovery

    return Discovery(str(discovery_file()))


def _recorded() -> dict | None:
    """The discovery record, or None. Read under the lock PySpark's ``Discovery`` takes (a ``.lock``
    file beside it), without importing PySpark: the watchdog reads it every few seconds."""
    import fcntl

    path = discovery_file()
    with open(f"{path}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
    if not isinstance(record, dict) or not all(key in record for key in DISCOVERY_KEYS):
        return None
    return record


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None = None
    url: str | None = None
    clients: tuple[int, ...] = ()
    memory_bytes: int = 0
    started: float | None = None

    def text(self) -> str:
        if not self.running:
            return ("The course engine is not running; the next notebook that calls get_spark() starts it "
                    f"(its logs: {log_dir()}).")
        age = f", up {(time.time() - self.started) / 60:.0f} min" if self.started else ""
        used = ", ".join(map(str, self.clients)) or "none open"
        return (f"The course engine is running: Spark Connect at {self.url} (127.0.0.1 only), pid {self.pid}{age}, "
                f"{self.memory_bytes / 2**20:.0f} MiB.\n"
                f"Notebooks using it (process ids): {used}. It stops {idle_minutes():g} min after the last one closes, "
                f"or now with `course engine stop`.\nLogs: {log_dir()}")


def status() -> Status:
    if interface_problem():
        return Status(running=False)
    record = _recorded()
    if not record or not _pid_alive(record["pid"]):
        return Status(running=False)
    memory, started = 0, None
    with contextlib.suppress(Exception):
        parts = processes()
        started = parts[0].create_time()
        memory = sum(p.memory_info().rss for p in parts)
    return Status(running=True, pid=record["pid"], url=f"sc://{record['host']}:{record['port']}",
                  clients=tuple(_live_clients()), memory_bytes=memory, started=started)


def processes() -> list:
    """The running engine's processes (its server and the Python workers it started), as psutil
    processes, for memory accounting: a notebook on the engine uses them too."""
    import psutil

    record = _recorded()
    try:
        server = psutil.Process(record["pid"]) if record and _pid_alive(record["pid"]) else None
        return [server, *server.children(recursive=True)] if server else []
    except psutil.NoSuchProcess:
        return []


def _live_clients() -> list[int]:
    alive = []
    for entry in _clients_dir().iterdir():
        pid = int(entry.name) if entry.name.isdigit() else None
        if pid is not None and _pid_alive(pid):
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return sorted(alive)


def _register_client() -> None:
    (_clients_dir() / str(os.getpid())).touch()


# --- start, connect, stop -------------------------------------------------------------------------

def _say(line: str) -> None:
    print(line, flush=True)


def _clear_stale() -> str | None:
    """Forget a recorded engine that is gone, or kill one that no longer listens; say which."""
    from pyspark.sql.connect.local_server import LocalConnectServer

    with _discovery() as discovery:
        record = discovery.load()
        if record is None:
            return None
        server = LocalConnectServer(discovery)
        if not _pid_alive(record["pid"]):
            discovery.clear()
            return f"The course engine (pid {record['pid']}) had stopped; starting a fresh one."
        if not server.is_listening():
            _kill(record["pid"])
            discovery.clear()
            return f"The course engine (pid {record['pid']}) no longer listened; starting a fresh one."
    return None


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while _pid_alive(pid) and time.time() < deadline:
        time.sleep(0.1)


def _restart_hung(record: dict, waited: float) -> str:
    with _discovery() as discovery:
        if (discovery.load() or {}).get("pid") == record["pid"]:
            _kill(record["pid"])
            discovery.clear()
    return (f"The course engine (pid {record['pid']}) did not answer within {waited:g} s; "
            "it was stopped and a fresh one is starting.")


def _answers(spark, seconds: float) -> bool:
    """Whether the server answers a first request (its version) within ``seconds``."""
    result = {}

    def ask():
        with contextlib.suppress(Exception):
            result["version"] = spark.version

    probe = threading.Thread(target=ask, name="course-engine-probe", daemon=True)
    probe.start()
    probe.join(seconds)
    return "version" in result


def _forget(spark) -> None:
    """Drop a session whose engine is gone, without waiting on it."""
    spark.release_session_on_close = False
    with contextlib.suppress(Exception):
        spark.stop()


def serves(spark) -> bool:
    """Whether ``spark`` is this process's session on the engine."""
    return spark is not None and spark is _client_session


def alive() -> bool:
    """Whether the engine this process's session uses is still running (cheap: no request)."""
    record = None
    with contextlib.suppress(Exception):
        record = _recorded()
    return bool(record) and _pid_alive(record["pid"]) and record["pid"] == getattr(_client_session, "_course_pid", None)


def session():
    """A Spark Connect session on the engine, starting the engine when none is running."""
    global _client_session, _said
    problem = interface_problem()
    if problem:
        raise EngineError(f"{problem}: set COURSE_ENGINE=off for a classic session, or reinstall with `make lab`")
    if _client_session is not None:   # its engine is gone (get_spark checked): say so and start afresh
        _forget(_client_session)
        _client_session = None
        _said = False
    notes = []
    probe_seconds = float(os.environ.get("COURSE_ENGINE_PROBE_SECONDS", PROBE_SECONDS))
    for _ in range(2):
        note = _clear_stale()
        if note:
            notes.append(note)
        _register_client()
        started = time.perf_counter()
        spark, record, fresh = _connect()
        if _answers(spark, probe_seconds):
            break
        _forget(spark)
        notes.append(_restart_hung(record, probe_seconds))
    else:
        raise EngineError(f"the course engine did not answer twice; its logs are in {log_dir()}")
    spark._course_pid = record["pid"]
    _client_session = spark
    ensure_watchdog()
    atexit.register(_release, spark)
    for note in notes:
        _say(note)
    if not _said:
        verb = f"started in {time.perf_counter() - started:.0f} s" if fresh else "already running"
        _say(f"Spark: the course engine, a local Spark Connect server your notebooks share ({verb}; "
             "`course engine status` says more).")
        _said = True
    return spark


def _connect():
    """(session, discovery record, whether this call started the engine)."""
    from pyspark.sql.connect.local_server import reuse_or_start_local_connect_server
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    before = _recorded()
    with _launch_environment():
        try:
            url = reuse_or_start_local_connect_server(MASTER, seed_conf())
        except Exception as exc:
            from course import java

            java.check_java()   # a missing or too-old Java is said in one sentence
            raise EngineError(f"the course engine could not start: {exc}. Its logs: {log_dir()}") from exc
    record = _recorded()
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"   # pyspark.sql.SparkSession now means Connect here
    # No options: creating the session then sends no request, so a hung engine cannot block it
    # (the probe asks, with a time limit). A Connect server has one application name of its own.
    spark = ConnectSession.builder.remote(url).create()
    return spark, record, before is None or before.get("pid") != record.get("pid")


def _release(spark) -> None:
    """At the notebook's exit, free its server-side session (temporary views, cached data)."""
    if spark is not _client_session:
        return
    releaser = threading.Thread(target=lambda: spark.stop(), daemon=True)
    releaser.start()
    releaser.join(5)


def start() -> Status:
    """Start the engine (or find it running) without keeping a session: `course engine start`."""
    spark = session()
    spark.stop()
    return status()


def stop() -> bool:
    """Stop the engine now; True when one was running."""
    if interface_problem():
        return False
    from pyspark.sql.connect.local_server import LocalConnectServer

    with _discovery() as discovery:
        record = discovery.load()
        if record is None:
            return False
        stopped = LocalConnectServer(discovery).stop()   # signals the pid only if it is the server
        pid = record["pid"]
    if not stopped:   # gone already, or its pid now belongs to another process: leave that alone
        return False
    deadline = time.time() + 30
    while _pid_alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    if _pid_alive(pid):
        _kill(pid)
    return True


# --- the watchdog -----------------------------------------------------------------------------------

def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a running Spark Connect server (read from /proc, where there is one)."""
    with contextlib.suppress(OSError):
        return _pid_alive(pid) and b"SparkConnectServer" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def _watchdog_lock_path() -> Path:
    return engine_dir() / "watchdog.lock"


def ensure_watchdog() -> None:
    """Start the watchdog unless one is running (it holds its lock file while it lives)."""
    import fcntl

    with open(_watchdog_lock_path(), "a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return   # a watchdog holds it
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    log_dir().mkdir(exist_ok=True)
    with open(log_dir() / "watchdog.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "course.engine", "watch"], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True, close_fds=True)


def watch(poll: float | None = None) -> None:
    """Stop the engine once no notebook has used it for ``idle_minutes()``; end when it is gone."""
    import fcntl

    poll = poll or float(os.environ.get("COURSE_ENGINE_WATCH_SECONDS", WATCH_SECONDS))
    with open(_watchdog_lock_path(), "a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return   # another watchdog is on duty
        idle_since, seen = None, None
        while True:
            record = _recorded()
            if not record or not _pid_alive(record["pid"]):
                if seen and not record:   # stopped (give it time to finish), or its folder was deleted
                    deadline = time.time() + 15
                    while _is_server(seen) and time.time() < deadline:
                        time.sleep(0.5)
                    if _is_server(seen):
                        _kill(seen)
                return
            seen = record["pid"]
            if _live_clients():
                idle_since = None
            else:
                idle_since = idle_since or time.time()
                if time.time() - idle_since >= idle_minutes() * 60:
                    stop()
                    return
            time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args == ["watch"]:
        watch()
        return 0
    print("usage: python -m course.engine watch  (the engine's watchdog; use `course engine` instead)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
