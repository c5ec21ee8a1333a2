"""The one Spark session every lesson asks for: ``spark = course.spark.get_spark()``.

Where it runs decides what it returns:

* in a Databricks notebook, the session that is already there;
* with ``SPARK_REMOTE`` set (``sc://host:15002``), a Spark Connect session;
* with ``SPARK_MASTER`` set (``spark://host:7077``, ``local[4]``...), a session on that master;
* otherwise a session on the course engine (``course.engine``): one local Spark Connect server
  that all the learner's notebooks share, started by the first of them;
* with ``classic=True``, under grading, or with ``COURSE_ENGINE=off``, a classic local session of
  its own, sized for a 2-core laptop or Binder's 2 GB.

The classic local session starts fast, each part measured by ``bench/classic_parts.py``: a
class-data-sharing archive mapped at its own address (with unsigned copies of Spark's two signed
jars, so it holds the code generator too), the client JIT compiler, and Python workers that import
PySpark's compiled modules (``course.python_daemon``). It keeps Spark's own log out of the notebook
(it goes to ``driver_log_path()``) and writes its warehouse and temp files into the course data
folder.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from course import java, paths

DEFAULT_DRIVER_MEMORY = "1g"
DISTRIBUTION = "ml_associate_course"  # the course's installed name (pyproject.toml), as folders spell it
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")

# Measured in bench/startup.py: the client (C1) compiler alone starts Spark and fits a first
# model faster than tiered compilation, and one compiler thread leaves the second core to the
# work itself; the serial collector keeps a small heap small. With the client compiler alone the
# JVM reserves only 48 MB for compiled code. Spark compiles code for every new query, and a
# long-lived engine filled those 48 MB in the first minute of one lesson's answer-catalog test: the
# JVM then sweeps its code cache over and over and compiles the same methods again. 240 MB,
# tiered compilation's default, ends that; only the part in use takes memory.
FAST_START_JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC",
                           "-XX:ReservedCodeCacheSize=240m")
# Java 17.0.x relocates class-data-sharing archives to a random address by default, rewriting
# every pointer in them; mapping at the address the archive was made for skips that.
ARCHIVE_AT_ITS_ADDRESS = ("-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0")


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


# Changes when what goes into the archive changes (the warm-up, the class path), so an updated
# course builds a new one at the next `course warmup` instead of keeping the old.
ARCHIVE_RECIPE = "2: warm-up fit, unsigned jar copies first"


def class_archive_path() -> Path:
    """Where the class-data-sharing archive for this Java and this PySpark lives.

    The name changes with the Java installation (its executable's real path, the size and time
    of its JVM library), the PySpark version and its install folder, so an archive never outlives
    the JVM or the jars it was made from. Finding it costs a few file look-ups, not a run of
    ``java -version``.
    """
    version, folder = pyspark_installation()
    key = f"{ARCHIVE_RECIPE}|{java.installation_identity()}|{version}|{folder}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return _archive_dir() / f"spark-{version}-{digest}.jsa"


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


def pyspark_installation() -> tuple[str, Path]:
    """PySpark's version and folder, read from its files without importing it (about 0.1 s):
    finding the class archive costs no import."""
    folder = pyspark_folder()
    if folder is None:
        raise ImportError("PySpark is not installed: run `make lab` (or pip install -r requirements.lock)")
    found = re.search(r"__version__[^=]*=\s*['\"]([^'\"]+)", (folder / "version.py").read_text())
    return (found.group(1) if found else "unknown"), folder


def unsigned_jars_dir(archive: Path | None = None) -> Path:
    """Unsigned copies of Spark's signed jars, made with the archive and used with it.

    Class-data sharing skips classes from signed jars, so each session would load and check
    Janino's code generator (about 370 classes, two signed jars) from the jars again. The copies,
    put first on the driver's class path, let the archive hold those classes too."""
    return (archive or class_archive_path()).with_suffix(".jars")


SIGNATURE_FILE = re.compile(r"META-INF/[^/]+\.(SF|RSA|DSA|EC)$", re.IGNORECASE)


def is_signed(jar: Path) -> bool:
    with zipfile.ZipFile(jar) as archive:
        return any(SIGNATURE_FILE.match(name) for name in archive.namelist())


def copy_without_signature(jar: Path, target: Path) -> None:
    """Write ``jar`` to ``target`` without its signature files; every other entry is unchanged."""
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with zipfile.ZipFile(jar) as source, zipfile.ZipFile(partial, "w") as copy:
        for entry in source.infolist():
            if not SIGNATURE_FILE.match(entry.filename):
                copy.writestr(entry, source.read(entry), compress_type=entry.compress_type)
    partial.replace(target)


def _make_unsigned_jars(folder: Path) -> None:
    home = spark_home()
    if home is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for jar in sorted((home / "jars").glob("*.jar")):
        if is_signed(jar) and not (folder / jar.name).exists():
            copy_without_signature(jar, folder / jar.name)


def _unsigned_class_path(archive: Path) -> str | None:
    folder = unsigned_jars_dir(archive)
    jars = sorted(folder.glob("*.jar")) if folder.is_dir() else []
    return os.pathsep.join(str(jar) for jar in jars) or None


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
        # Map the archive where it was made to be mapped: this JDK otherwise moves it to a
        # random address and rewrites its pointers first (about 0.1 s of every start).
        java_options += [f"-XX:SharedArchiveFile={archive}", *ARCHIVE_AT_ITS_ADDRESS]
    # The archive was made with these copies first on the class path; it needs them there.
    unsigned = _unsigned_class_path(archive)
    class_path = {"spark.driver.extraClassPath": unsigned} if unsigned else {}
    return {
        "spark.app.name": app_name,
        "spark.master": os.environ.get("SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("COURSE_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY),
        "spark.driver.extraJavaOptions": " ".join(java_options),
        **class_path,
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "2",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **python_daemon_conf(),
        "spark.ui.enabled": "false" if headless() else "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(spark_dir("warehouse")),
        "spark.local.dir": str(spark_dir("tmp")),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


def python_daemon_conf() -> dict[str, str]:
    """Workers that run this interpreter import PySpark's cached bytecode (course.python_daemon).

    Only for local sessions whose workers run this interpreter with the course installed in it:
    anywhere else the worker could not import ``course`` and Spark's own daemon is kept."""
    local = os.environ.get("SPARK_MASTER", "local").startswith("local")
    same_python = os.environ.get("PYSPARK_PYTHON", sys.executable) == sys.executable
    if local and same_python and course_installed():
        return {"spark.python.daemon.module": "course.python_daemon"}
    return {}


def course_installed() -> bool:
    """True when this interpreter has the course package installed (not merely importable from
    the current folder). Looks for its metadata folder: a directory listing, no imports."""
    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    for folder in folders:
        with contextlib.suppress(OSError):
            if any(name.startswith(DISTRIBUTION + "-") and name.endswith(".dist-info")
                   for name in os.listdir(folder)):
                return True
    return False


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


def is_connect(spark) -> bool:
    """True for a Spark Connect session (``SPARK_REMOTE``; Databricks serverless and standard
    access mode): no ``sparkContext``, no RDDs, no JVM handle."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def get_spark(app_name: str = "course", classic: bool = False):
    """Return a SparkSession for the environment the notebook runs in (see module doc).

    ``classic=True`` asks for a classic local session instead of the course engine, for a lesson
    that needs the classic API (``sparkContext``, RDDs); ``SPARK_REMOTE`` and ``SPARK_MASTER`` still
    decide where Spark runs when they are set."""
    if on_databricks():
        from pyspark.sql import SparkSession

        return SparkSession.builder.getOrCreate()
    from course import engine

    if "pyspark.sql" in sys.modules:  # a session can only be running if PySpark was imported
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if engine.serves(active):
            if classic:
                raise RuntimeError("This notebook already uses the course engine (Spark Connect); restart its "
                                   "kernel (Kernel > Restart) to get the classic session it asks for.")
            if engine.alive():
                return active
            return engine.session()   # its engine is gone: says so and starts a fresh one
        if active is not None:
            return active
    # Python workers must run this interpreter, or pandas UDFs fail inside a virtualenv (a local
    # Spark Connect server starts its workers from this process's environment too).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if os.environ.get("SPARK_REMOTE"):
        from pyspark.sql import SparkSession

        remote = os.environ["SPARK_REMOTE"]
        builder = SparkSession.builder.remote(remote).appName(app_name)
        if not remote.startswith("local"):
            return builder.getOrCreate()
        # `local[N]` starts a Connect server JVM here (on port 15002): this machine only, its
        # output in the driver log, its tables and temp files in the course data folder (not in
        # a `spark-warehouse` folder next to the notebook).
        builder = (builder.config("spark.connect.grpc.binding.address", "127.0.0.1")
                   .config("spark.sql.warehouse.dir", str(spark_dir("warehouse")))
                   .config("spark.local.dir", str(spark_dir("tmp"))))
        with _jvm_output_to(driver_log_path()):
            return builder.getOrCreate()
    if not classic and not os.environ.get("SPARK_MASTER") and engine.wanted():
        return engine.session()
    # Inherited from a parent process that used the engine (a notebook's `!course grade ...`):
    # it would make PySpark look for a Spark Connect server instead of starting classic Spark.
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)

    settings = local_conf(app_name)
    failure = None
    with _jvm_output_to(driver_log_path()):
        try:
            from pyspark import SparkConf
            from pyspark.sql import SparkSession

            # A stopped session's JVM is reused, as PySpark does.
            spark = SparkSession.builder.config(conf=SparkConf().setAll(settings.items())).getOrCreate()
        except Exception as exc:  # the JVM died before Spark could say why
            failure = exc
    if failure is not None:
        java.check_java()  # a missing or too-old Java is said in one sentence
        raise RuntimeError(
            f"Spark could not start: {failure}. The driver log says more: {driver_log_path()}"
        ) from failure
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def build_class_archive(timeout: float = 600) -> Path:
    """Record the classes a first model fit loads into a class-data-sharing archive.

    Runs a small Spark ML fit in a child process whose JVM writes the archive at exit; later
    sessions map it and skip loading and verifying thousands of classes. Unsigned copies of
    Spark's signed jars are made first (``unsigned_jars_dir``), so their classes are recorded too.
    Safe to run twice.
    """
    target = class_archive_path()
    if target.exists():
        return target
    # One archive per environment (about 200 MB): those of an earlier Java or PySpark go.
    for stale in [*target.parent.glob("*.partial"), *target.parent.glob("spark-*.jsa")]:
        stale.unlink(missing_ok=True)
    for stale in target.parent.glob("spark-*.jars"):
        if stale != unsigned_jars_dir(target):
            shutil.rmtree(stale, ignore_errors=True)
    _make_unsigned_jars(unsigned_jars_dir(target))
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

    spark = get_spark("warm-up", classic=True)
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
