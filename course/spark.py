"""The one Spark session every lesson asks for: ``spark = course.spark.get_spark()``.

Where it runs decides what it returns:

* in a Databricks notebook, the session that is already there;
* with ``SPARK_REMOTE`` set (``sc://host:15002``), a Spark Connect session;
* with ``SPARK_MASTER`` set (``spark://host:7077``, ``local[4]``...), a session on that master;
* otherwise a local session sized for a 2-core laptop or Binder's 2 GB.

The local session starts fast (a class-data-sharing archive and the client JIT compiler,
both measured by ``bench/startup.py``), keeps Spark's own log out of the notebook (it goes
to ``driver_log_path()``) and writes its warehouse and temp files into the course data folder.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from course import java, paths

DEFAULT_DRIVER_MEMORY = "1g"
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")

# Measured in bench/startup.py: the client (C1) compiler alone starts Spark and fits a first
# model faster than tiered compilation, and one compiler thread leaves the second core to the
# work itself; the serial collector keeps a small heap small.
FAST_START_JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC")


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def headless() -> bool:
    """True under CI or when asked (COURSE_HEADLESS=1): no Spark UI then."""
    if os.environ.get("COURSE_HEADLESS", "").lower() in {"1", "true", "yes"}:
        return True
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def spark_dir(name: str) -> Path:
    return paths.sub_dir(f"spark/{name}")


def driver_log_path(max_bytes: int = 20 * 2**20) -> Path:
    """Spark's driver log; a log past ``max_bytes`` is moved to ``driver.log.1`` first."""
    path = spark_dir("logs") / "driver.log"
    if path.exists() and path.stat().st_size > max_bytes:
        path.replace(path.with_suffix(".log.1"))
    return path


def class_archive_path() -> Path:
    """Where the class-data-sharing archive for this Java and this PySpark lives.

    The name changes with the Java version, the PySpark version and its install folder, so an
    archive never outlives the jars it was made from.
    """
    import pyspark

    try:
        java_text = java.check_java().version_text
    except java.JavaError:
        java_text = "no-java"
    key = f"{java_text}|{pyspark.__version__}|{Path(pyspark.__file__).parent}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return _archive_dir() / f"spark-{pyspark.__version__}-{digest}.jsa"


def _archive_dir() -> Path:
    """The archive belongs to the installation (Java + PySpark), not to a learner's data: it
    lives in the environment's ``share/course`` folder, or the data folder when that is read-only."""
    folder = Path(os.environ.get("COURSE_CDS_DIR") or Path(sys.prefix) / "share" / "course")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return spark_dir("cds")


def local_conf(app_name: str = "course") -> dict[str, str]:
    """Spark settings for the local session, as a plain dict (unit-tested)."""
    java_options = [*FAST_START_JAVA_OPTIONS, f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
                    f"-Djava.io.tmpdir={spark_dir('tmp')}"]
    dump_to = os.environ.get("COURSE_CDS_DUMP")
    archive = class_archive_path()
    if dump_to:
        java_options.append(f"-XX:ArchiveClassesAtExit={dump_to}")
    elif archive.exists():
        java_options.append(f"-XX:SharedArchiveFile={archive}")
    return {
        "spark.app.name": app_name,
        "spark.master": os.environ.get("SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("COURSE_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY),
        "spark.driver.extraJavaOptions": " ".join(java_options),
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false" if headless() else "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(spark_dir("warehouse")),
        "spark.local.dir": str(spark_dir("tmp")),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


# Imported by every Spark ML lesson (pyspark.ml pulls them in); loading them while the JVM
# starts uses the second core, which is otherwise idle then (measured in bench/startup.py).
PREFETCH_MODULES = ("numpy", "pandas", "pyarrow", "scipy.sparse")


def _prefetch() -> None:
    for name in PREFETCH_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional module is the lesson's problem, not the session's
            pass


@contextlib.contextmanager
def _jvm_output_to(log_path: Path):
    """Point file descriptors 1 and 2 at a log file while the JVM is launched.

    The JVM inherits them, so everything it prints later (log4j, JVM warnings, Python worker
    stderr) lands in the log and not in the notebook. Python's own sys.stdout is untouched
    inside Jupyter; in a terminal nothing is printed during the launch.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    try:
        with open(log_path, "ab") as log:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                    os.dup2(log.fileno(), fd)
                except OSError:
                    pass
            yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)


def get_spark(app_name: str = "course"):
    """Return a SparkSession for the environment the notebook runs in (see module doc)."""
    from pyspark.sql import SparkSession

    if on_databricks():
        return SparkSession.builder.getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get("SPARK_REMOTE"):
        return SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).appName(app_name).getOrCreate()

    java.check_java()
    # Python workers must run this interpreter, or pandas UDFs fail inside a virtualenv.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in local_conf(app_name).items():
        builder = builder.config(key, value)
    threading.Thread(target=_prefetch, name="course-prefetch", daemon=True).start()
    with _jvm_output_to(driver_log_path()):
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM died before Spark could say why
            raise RuntimeError(
                f"Spark could not start: {exc}. The driver log says more: {driver_log_path()}"
            ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def build_class_archive(timeout: float = 600) -> Path:
    """Record the classes a first model fit loads into a class-data-sharing archive.

    Runs a small Spark ML fit in a child process whose JVM writes the archive at exit; later
    sessions map it and skip loading and verifying thousands of classes. Safe to run twice.
    """
    target = class_archive_path()
    if target.exists():
        return target
    for stale in target.parent.glob("*.partial"):
        stale.unlink(missing_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    env = dict(os.environ, COURSE_CDS_DUMP=str(partial), COURSE_HEADLESS="1")
    code = "import course.spark as s; s.warm_up()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not partial.exists() or partial.stat().st_size == 0:
        raise RuntimeError("Java did not write a class-data-sharing archive (see the driver log)")
    partial.replace(target)
    return target


def warm_up() -> None:
    """A first session and a small pipeline fit: the work every lesson starts with."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler
    from pyspark.ml.regression import LinearRegression

    spark = get_spark("warm-up")
    rows = [(float(i), float(i % 7), "abc"[i % 3], 2.0 * i + 1.0, float(i % 2)) for i in range(200)]
    df = spark.createDataFrame(rows, ["x1", "x2", "cat", "y", "label"])
    train, test = df.randomSplit([0.8, 0.2], seed=42)
    stages = [StringIndexer(inputCol="cat", outputCol="cat_idx"),
              OneHotEncoder(inputCols=["cat_idx"], outputCols=["cat_vec"]),
              VectorAssembler(inputCols=["x1", "x2", "cat_vec"], outputCol="features")]
    model = Pipeline(stages=[*stages, LinearRegression(labelCol="y")]).fit(train)
    RegressionEvaluator(labelCol="y").evaluate(model.transform(test))
    Pipeline(stages=[*stages, LogisticRegression(maxIter=5)]).fit(train).transform(test).count()
    train.groupBy("cat").count().toPandas()
    gateway_process = getattr(spark.sparkContext._gateway, "proc", None)
    spark.stop()
    if gateway_process is not None:  # let the JVM exit (and write its archive) before we do
        gateway_process.stdin.close()
        gateway_process.wait(timeout=300)
