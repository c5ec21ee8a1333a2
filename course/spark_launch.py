"""Start Spark's driver JVM without the ``spark-submit`` shell scripts.

PySpark starts its JVM through ``bin/spark-submit``: two bash scripts and a first, short-lived
JVM (Spark's launcher) that prints the real ``java`` command, which the scripts then run. On a
2-core machine that costs about 0.3 s before the driver JVM even begins. This module asks the
same launcher for the same command once, remembers it (keyed by everything the launcher reads:
the arguments, the Java installation, Spark's folders, ``spark-defaults.conf`` and the
``SPARK_*``/``HADOOP_*``/``YARN_*``/``JAVA_*`` variables),
and runs it directly; PySpark then connects to the gateway the JVM opens, as it does when
``spark-submit`` starts Python.

Where the scripts would do more than that (a ``spark-env.sh`` in Spark's conf folder, or
Windows), :func:`start_driver` returns None and the caller lets PySpark start the JVM itself.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course import java, paths

LAUNCHER_CLASS = "org.apache.spark.launcher.Main"
SUBMIT_CLASS = "org.apache.spark.deploy.SparkSubmit"
KEY_VARIABLE_PREFIXES = ("SPARK_", "HADOOP_", "YARN_", "JAVA_")
UNSHAPING_PREFIXES = ("spark.app.name=",)


def pyspark_folder() -> Path | None:
    """The installed PySpark package's folder, found without importing PySpark."""
    spec = importlib.util.find_spec("pyspark")
    return None if spec is None or spec.origin is None else Path(spec.origin).parent


def spark_home() -> Path | None:
    """SPARK_HOME, or the installed PySpark folder when it is a Spark home (pip installs are)."""
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    folder = pyspark_folder()
    if folder is not None and (folder / "bin" / "spark-submit").is_file() and (folder / "jars").is_dir():
        return folder
    return None


def scala_version(home: Path) -> str:
    """The Scala version Spark's jars are built for (``load-spark-env.sh`` exports it)."""
    for jar in (home / "jars").glob("spark-core_*.jar"):
        return jar.name.split("_", 1)[1].split("-", 1)[0]
    return "2.13"


def script_environment(home: Path) -> dict[str, str]:
    """The variables ``spark-submit``, ``spark-class`` and ``load-spark-env.sh`` export."""
    env = dict(os.environ)
    env.setdefault("SPARK_HOME", str(home))
    env.setdefault("SPARK_CONF_DIR", str(home / "conf"))
    env["SPARK_ENV_LOADED"] = "1"
    env["SPARK_SCALA_VERSION"] = scala_version(home)
    env["PYTHONHASHSEED"] = "0"
    env["SPARK_CONNECT_MODE"] = "0"  # what pyspark's own launch_gateway sets
    return env


def submit_arguments(conf_pairs) -> list[str]:
    """``--conf key=value`` for each setting, then what PySpark would add (pyspark-shell)."""
    arguments: list[str] = []
    for key, value in conf_pairs:
        arguments += ["--conf", f"{key}={value}"]
    return arguments + shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", "pyspark-shell"))


def supported(env: dict[str, str]) -> bool:
    if os.name != "posix" or "PYSPARK_GATEWAY_PORT" in os.environ:
        return False
    return not (Path(env["SPARK_CONF_DIR"]) / "spark-env.sh").exists()


def _cache_file(arguments: list[str], env: dict[str, str], java_executable: str) -> Path:
    variables = sorted((k, v) for k, v in env.items() if k.startswith(KEY_VARIABLE_PREFIXES))
    defaults = Path(env["SPARK_CONF_DIR"]) / "spark-defaults.conf"  # the launcher reads it too
    variables.append(("spark-defaults.conf", defaults.read_text() if defaults.is_file() else ""))
    # The application name is passed through unchanged and never shapes the command itself.
    shaping = [a for a in arguments if not a.startswith(UNSHAPING_PREFIXES)]
    key = json.dumps([java_executable, java.installation_identity(), shaping, variables])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return paths.sub_dir("spark/launch") / f"{digest}.json"


def driver_command(arguments: list[str], env: dict[str, str], java_executable: str) -> list[str]:
    """The driver JVM's command line, as Spark's launcher builds it for ``arguments``.

    The launcher's answer is the JVM part (java, class path, memory, options) followed by the
    arguments; the JVM part is remembered and the arguments appended each time."""
    cache = _cache_file(arguments, env, java_executable)
    try:
        prefix = json.loads(cache.read_text())
        if isinstance(prefix, list) and prefix[-1:] == [SUBMIT_CLASS] and all(isinstance(p, str) for p in prefix):
            return prefix + arguments
    except (OSError, ValueError):
        pass
    jars = Path(env["SPARK_HOME"]) / "jars"
    printed = subprocess.run(
        [java_executable, "-Xmx128m", "-cp", f"{jars}{os.sep}*", LAUNCHER_CLASS, SUBMIT_CLASS, *arguments],
        env=env, capture_output=True, timeout=120, check=True,
    ).stdout
    # The launcher prints NUL then newline, then the command's arguments, each ended by NUL.
    marker = printed.find(b"\0\n")
    if marker < 0:
        raise RuntimeError(f"Spark's launcher printed no command: {printed[:500]!r}")
    command = [part.decode() for part in printed[marker + 2:].split(b"\0") if part]
    split = len(command) - len(arguments)
    # The launcher re-emits the same arguments, the --conf pairs possibly in another order.
    if split > 0 and command[split - 1] == SUBMIT_CLASS and sorted(command[split:]) == sorted(arguments):
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(command[:split]))
        partial.replace(cache)
        return command[:split] + arguments
    return command


@dataclass
class Driver:
    """A driver JVM that has been started and will write its gateway's port and secret to ``info``."""

    process: subprocess.Popen
    folder: tempfile.TemporaryDirectory
    info: Path


def start_driver(conf_pairs) -> Driver | None:
    """Start the driver JVM, without waiting for it; None where unsupported (see module doc).

    Nothing here imports PySpark, so the caller can import it while the JVM starts."""
    home = spark_home()
    java_executable = java.find_executable()
    if home is None or java_executable is None:
        return None
    env = script_environment(home)
    if not supported(env):
        return None
    command = driver_command(submit_arguments(conf_pairs), env, java_executable)
    folder = tempfile.TemporaryDirectory(prefix="course-gateway-")
    info = Path(folder.name) / "connection"
    env["_PYSPARK_DRIVER_CONN_INFO_PATH"] = str(info)
    # stdin stays a pipe: the JVM exits when this Python process goes; Ctrl-C is for Python.
    process = subprocess.Popen(command, stdin=subprocess.PIPE, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    return Driver(process, folder, info)


def connect(driver: Driver):
    """Wait for the driver's gateway and connect PySpark to it, as PySpark does after spark-submit."""
    from pyspark.errors import PySparkRuntimeError
    from pyspark.java_gateway import launch_gateway
    from pyspark.serializers import UTF8Deserializer, read_int

    try:
        while driver.process.poll() is None and not driver.info.exists():
            time.sleep(0.01)
        if not driver.info.exists():
            raise PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})
        with open(driver.info, "rb") as stream:
            port = read_int(stream)
            secret = UTF8Deserializer().loads(stream)
    finally:
        driver.folder.cleanup()
    os.environ["PYSPARK_GATEWAY_PORT"], os.environ["PYSPARK_GATEWAY_SECRET"] = str(port), secret
    try:
        gateway = launch_gateway()  # with those two variables set, PySpark only connects
    finally:
        del os.environ["PYSPARK_GATEWAY_PORT"], os.environ["PYSPARK_GATEWAY_SECRET"]
    gateway.proc = driver.process
    return gateway
