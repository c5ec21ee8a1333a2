"""The course engine: one local Spark Connect server that a learner's notebooks share (course.engine).

Every test here starts real engines (PySpark's reusable local Connect server) in a course data
folder of its own, from fresh Python processes as notebooks are, and stops them at its end.
"""
from __future__ import annotations

import inspect
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from course import engine

pytestmark = [pytest.mark.spark]

NOTEBOOK = textwrap.dedent("""
    import json, sys
    from course.spark import get_spark, is_connect
    spark = get_spark()
    print("RESULT", json.dumps({"connect": is_connect(spark), "rows": spark.range(5).count()}))
""")


def _env(data: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPARK_CONNECT", "SPARK_REMOTE", "NBGRADER", "COURSE_ENGINE"))}
    env.pop("SPARK_MASTER", None)
    env.update(COURSE_DATA=str(data), CI="true", **extra)
    return env


def _python(data: Path, code: str, timeout: float = 240, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=_env(data, **extra), capture_output=True,
                          text=True, timeout=timeout)


def _result(run: subprocess.CompletedProcess) -> dict:
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _record(data: Path) -> dict | None:
    path = data / "spark" / "engine" / "connect-local.json"
    return json.loads(path.read_text()) if path.exists() else None


def _stop(data: Path) -> None:
    subprocess.run([sys.executable, "-m", "course.cli", "engine", "stop"], env=_env(data),
                   capture_output=True, timeout=120)


def _wait_gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.2)
    return False


def test_the_parts_of_pysparks_experimental_interface_the_course_uses_are_there():
    """A PySpark upgrade that moves or changes them fails here, not in a learner's notebook."""
    assert engine.interface_problem() is None
    from pyspark.sql.connect import local_server

    assert list(inspect.signature(local_server.reuse_or_start_local_connect_server).parameters) == ["master", "opts"]
    assert list(inspect.signature(local_server.Discovery).parameters) == ["path"]
    for method in ("load", "save", "clear", "__enter__", "__exit__"):
        assert callable(getattr(local_server.Discovery, method))
    for method in ("is_listening", "is_reusable", "stop"):
        assert callable(getattr(local_server.LocalConnectServer, method))
    # the discovery file format the course reads without importing PySpark, and its mode
    source = inspect.getsource(local_server.ServerLauncher._await_ready)
    assert all(f'"{key}"' in source for key in engine.DISCOVERY_KEYS)
    assert "0o600" in inspect.getsource(local_server.Discovery.save)
    # the option that moves the server off Spark Connect's usual port
    assert "spark.local.connect.server.port" in inspect.getsource(local_server.ServerLauncher._pick_port)


def test_one_engine_serves_notebooks_keeps_tables_and_recovers(tmp_path):
    data = tmp_path / "data"
    try:
        first = _python(data, NOTEBOOK + textwrap.dedent("""
            spark.sql("CREATE TABLE kept USING parquet AS SELECT id FROM range(7)")
            spark.range(3).createOrReplaceTempView("mine_only")
        """))
        assert _result(first) == {"connect": True, "rows": 5}
        assert "course engine" in first.stdout and "started in" in first.stdout
        record = _record(data)
        folder = data / "spark" / "engine"

        # only this user can read the token; the server listens on the loopback interface only
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "connect-local.json").stat().st_mode) == 0o600
        listening = [c.laddr.ip for c in psutil.Process(record["pid"]).net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(ip.removeprefix("::ffff:") == "127.0.0.1" for ip in listening), listening
        assert record["port"] != 15002

        # a client without the token is turned away
        intruder = textwrap.dedent(f"""
            from pyspark.sql.connect.session import SparkSession
            try:
                SparkSession.builder.remote("sc://127.0.0.1:{record['port']}").create().range(1).count()
                print("INTRUDER IN")
            except Exception as exc:
                print("refused", type(exc).__name__, str(exc)[:200])
        """)
        refused = _python(tmp_path / "intruder-data", intruder)
        assert "refused" in refused.stdout and "INTRUDER IN" not in refused.stdout, refused.stdout + refused.stderr
        if os.geteuid() == 0:   # another account on the machine cannot even read where it is
            def as_nobody():
                os.setgid(65534)
                os.setuid(65534)
            peek = subprocess.run(["cat", str(folder / "connect-local.json")], preexec_fn=as_nobody,
                                  capture_output=True, text=True, timeout=60)
            assert peek.returncode != 0 and "Permission denied" in peek.stderr and record["token"] not in peek.stdout

        # a second notebook joins the same engine in its own session: tables shared, temp views not
        second = _python(data, NOTEBOOK + textwrap.dedent("""
            print("RESULT", json.dumps({"kept": spark.table("kept").count(),
                                        "view": spark.catalog.tableExists("mine_only")}))
        """))
        assert "already running" in second.stdout
        assert _record(data)["pid"] == record["pid"]
        assert json.loads(second.stdout.strip().splitlines()[-1][7:]) == {"kept": 7, "view": False}
        status = subprocess.run([sys.executable, "-m", "course.cli", "engine", "status"], env=_env(data),
                                capture_output=True, text=True, timeout=60)
        assert f"pid {record['pid']}" in status.stdout and "127.0.0.1 only" in status.stdout

        # the engine dies under an open notebook: its next get_spark() says so and starts afresh
        open_notebook = NOTEBOOK + textwrap.dedent(f"""
            import os, signal, time
            os.kill({record['pid']}, signal.SIGKILL)
            time.sleep(1)
            again = get_spark()
            print("RESULT", json.dumps({{"kept": again.table("kept").count(), "new": again is not spark}}))
        """)
        died = _python(data, open_notebook)
        assert "had stopped; starting a fresh one" in died.stdout, died.stdout + died.stderr[-2000:]
        assert json.loads(died.stdout.strip().splitlines()[-1][7:]) == {"kept": 7, "new": True}
        restarted = _record(data)
        assert restarted["pid"] != record["pid"] and restarted["token"] != record["token"]

        # a hung engine (stopped by a signal): the next notebook waits a while, says so, replaces it
        os.kill(restarted["pid"], signal.SIGSTOP)
        hung = _python(data, NOTEBOOK, COURSE_ENGINE_PROBE_SECONDS="5")
        assert "did not answer within 5 s" in hung.stdout, hung.stdout + hung.stderr[-2000:]
        assert _result(hung)["rows"] == 5
        assert _wait_gone(restarted["pid"])

        # a stale record from an earlier run (its process long gone) is cleaned up
        current = _record(data)
        _stop(data)
        assert _wait_gone(current["pid"])
        stale = dict(current, pid=_a_dead_pid(), token="stale-token")
        (folder / "connect-local.json").write_text(json.dumps(stale))
        fresh = _python(data, NOTEBOOK)
        assert "had stopped" in fresh.stdout and _result(fresh)["rows"] == 5
        assert _record(data)["token"] != "stale-token"
    finally:
        _stop(data)
    assert _record(data) is None
    stopped = subprocess.run([sys.executable, "-m", "course.cli", "engine", "status"], env=_env(data),
                             capture_output=True, text=True, timeout=60)
    assert "not running" in stopped.stdout


def _a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_two_notebooks_starting_at_once_get_one_engine(tmp_path):
    data = tmp_path / "data"
    code = NOTEBOOK + "import os\nprint('RESULT', json.dumps({'pid': json.load(open(os.path.join(" \
        "os.environ['COURSE_DATA'], 'spark', 'engine', 'connect-local.json')))['pid']}))\n"
    try:
        runs = [subprocess.Popen([sys.executable, "-c", code], env=_env(data), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=240) for run in runs]
        pids = {json.loads(out.strip().splitlines()[-1][7:])["pid"] for out, _ in outputs}
        assert len(pids) == 1, outputs
        servers = [p for p in psutil.process_iter(["cmdline"])
                   if "SparkConnectServer" in " ".join(p.info["cmdline"] or [])
                   and str(data) in " ".join(p.info["cmdline"] or [])]
        assert len(servers) <= 1
    finally:
        _stop(data)


def test_the_watchdog_stops_an_engine_no_notebook_uses(tmp_path):
    data = tmp_path / "data"
    try:
        run = _python(data, NOTEBOOK, COURSE_ENGINE_IDLE_MINUTES="0.02", COURSE_ENGINE_WATCH_SECONDS="0.5")
        assert _result(run)["connect"]
        pid = (_record(data) or {})["pid"]
        assert _wait_gone(pid, 60), "the idle engine is still running"
        assert _record(data) is None
    finally:
        _stop(data)


def test_an_engine_whose_data_folder_is_deleted_is_stopped_by_its_watchdog(tmp_path):
    import shutil

    data = tmp_path / "data"
    try:
        run = _python(data, NOTEBOOK, COURSE_ENGINE_WATCH_SECONDS="0.5")
        assert _result(run)["connect"]
        pid = _record(data)["pid"]
        shutil.rmtree(data / "spark" / "engine")
        assert _wait_gone(pid, 60), "an engine nobody can reach any more is still running"
    finally:
        _stop(data)


def test_grading_and_classic_lessons_never_use_the_engine(tmp_path):
    """nbgrader's execution (and so `course grade`) and classic=True get a classic session of their
    own, even in a process that inherited the engine's Connect mode from its parent."""
    data = tmp_path / "data"
    code = textwrap.dedent("""
        import json
        from course.spark import get_spark, is_connect
        spark = get_spark(classic=CLASSIC)
        print("RESULT", json.dumps({"connect": is_connect(spark), "rows": spark.range(4).count()}))
    """)
    graded = _python(data, code.replace("CLASSIC", "False"), NBGRADER_EXECUTION="autograde")
    assert _result(graded) == {"connect": False, "rows": 4}
    classic = _python(data, code.replace("CLASSIC", "True"), SPARK_CONNECT_MODE_ENABLED="1")
    assert _result(classic) == {"connect": False, "rows": 4}
    assert _record(data) is None, "an engine was started"


def test_a_notebook_on_the_engine_cannot_switch_to_classic(tmp_path):
    data = tmp_path / "data"
    try:
        run = _python(data, NOTEBOOK + "get_spark(classic=True)\n")
        assert run.returncode != 0
        assert "restart its kernel" in run.stderr
    finally:
        _stop(data)


def test_engine_settings_keep_it_local_and_in_the_course_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    conf = engine.seed_conf()
    folder = tmp_path.resolve() / "spark" / "engine"
    assert conf["spark.driver.bindAddress"] == conf["spark.driver.host"] == "127.0.0.1"
    assert conf["spark.sql.warehouse.dir"] == str(folder / "warehouse")
    assert str(folder / "metastore_db") in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert f"-Dderby.stream.error.file={folder / 'logs' / 'derby.log'}" in conf["spark.driver.extraJavaOptions"]
    monkeypatch.setenv("COURSE_ENGINE", "off")
    assert not engine.wanted()
    monkeypatch.delenv("COURSE_ENGINE")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert not engine.wanted()
