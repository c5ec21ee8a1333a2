import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from course import java
from course import spark as course_spark


def test_local_defaults_fit_a_small_laptop(monkeypatch, course_data):
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.setenv("CI", "true")
    conf = course_spark.local_conf("demo")
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.driver.memory"] == "1g"
    assert int(conf["spark.sql.shuffle.partitions"]) <= 4
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.ui.showConsoleProgress"] == "false"
    assert conf["spark.sql.warehouse.dir"].startswith(str(course_data))
    assert conf["spark.local.dir"].startswith(str(course_data))
    assert "-XX:TieredStopAtLevel=1" in conf["spark.driver.extraJavaOptions"]
    assert "log4j2.properties" in conf["spark.driver.extraJavaOptions"]


def test_ui_stays_on_for_a_learner(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    assert course_spark.local_conf()["spark.ui.enabled"] == "true"


def test_spark_master_and_memory_can_be_overridden(monkeypatch):
    monkeypatch.setenv("SPARK_MASTER", "spark://cluster:7077")
    monkeypatch.setenv("COURSE_DRIVER_MEMORY", "2g")
    conf = course_spark.local_conf()
    assert conf["spark.master"] == "spark://cluster:7077"
    assert conf["spark.driver.memory"] == "2g"


def test_class_archive_is_used_only_when_present(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CDS_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_CDS_DUMP", raising=False)
    archive = course_spark.class_archive_path()
    assert archive.parent == tmp_path
    assert "SharedArchiveFile" not in course_spark.local_conf()["spark.driver.extraJavaOptions"]
    archive.write_bytes(b"x")
    assert f"-XX:SharedArchiveFile={archive}" in course_spark.local_conf()["spark.driver.extraJavaOptions"]
    monkeypatch.setenv("COURSE_CDS_DUMP", str(tmp_path / "new.jsa"))
    options = course_spark.local_conf()["spark.driver.extraJavaOptions"]
    assert "ArchiveClassesAtExit" in options and "SharedArchiveFile" not in options


def _jar(path, names):
    with zipfile.ZipFile(path, "w") as jar:
        for name in names:
            jar.writestr(name, f"bytes of {name}")
    return path


def test_signature_files_are_left_out_of_the_copy_and_nothing_else(tmp_path):
    names = ["META-INF/MANIFEST.MF", "META-INF/CODESIGN.SF", "META-INF/CODESIGN.RSA",
             "org/example/A.class", "org/example/services/B.SF.txt"]
    signed = _jar(tmp_path / "signed.jar", names)
    assert course_spark.is_signed(signed)
    course_spark.copy_without_signature(signed, tmp_path / "copy.jar")
    assert not course_spark.is_signed(tmp_path / "copy.jar")
    with zipfile.ZipFile(tmp_path / "copy.jar") as copy:
        assert copy.namelist() == ["META-INF/MANIFEST.MF", "org/example/A.class", "org/example/services/B.SF.txt"]
        assert copy.read("org/example/A.class") == b"bytes of org/example/A.class"
    assert not course_spark.is_signed(_jar(tmp_path / "plain.jar", ["org/example/A.class"]))


def test_unsigned_copies_go_first_on_the_class_path_only_beside_an_archive(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CDS_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_CDS_DUMP", raising=False)
    assert "spark.driver.extraClassPath" not in course_spark.local_conf()
    folder = course_spark.unsigned_jars_dir()
    assert folder.parent == tmp_path and folder.stem == course_spark.class_archive_path().stem
    folder.mkdir()
    for name in ("janino-3.jar", "commons-compiler-3.jar"):
        _jar(folder / name, ["org/example/A.class"])
    class_path = course_spark.local_conf()["spark.driver.extraClassPath"]
    assert class_path.split(os.pathsep) == [str(folder / "commons-compiler-3.jar"), str(folder / "janino-3.jar")]


def test_databricks_is_detected_from_its_runtime_variable(monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert not course_spark.on_databricks()
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    assert course_spark.on_databricks()


@pytest.mark.spark
def test_session_starts_quietly_and_reuses_itself():
    """No JVM or log4j line reaches the notebook; a second call returns the same session."""
    code = textwrap.dedent("""
        from course.spark import get_spark, driver_log_path
        spark = get_spark("quiet", classic=True)
        assert get_spark() is spark
        assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
        print("rows", spark.range(10).count())
        print("log", driver_log_path())
    """)
    env = dict(os.environ, CI="true")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "rows 10" in result.stdout
    assert result.stderr == "", result.stderr
    assert "WARN" not in result.stdout


@pytest.mark.spark
def test_a_local_connect_session_keeps_its_tables_in_the_course_data_folder(tmp_path):
    """A notebook on a local Spark Connect server writes tables where the classic session does,
    never into a `spark-warehouse` folder beside the notebook."""
    code = textwrap.dedent("""
        from course.spark import get_spark, is_connect, spark_dir
        spark = get_spark("connect-tables")
        assert is_connect(spark)
        spark.range(3).write.mode("overwrite").saveAsTable("connect_tables_probe")
        print("rows", spark.table("connect_tables_probe").count())
        print("in", any(spark_dir("warehouse").glob("connect_tables_probe*")))
    """)
    env = dict(os.environ, SPARK_REMOTE="local[2]", SPARK_TESTING="1", COURSE_DATA=str(tmp_path / "data"))
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=notebook_dir, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rows 3" in result.stdout and "in True" in result.stdout, result.stdout
    assert list(notebook_dir.iterdir()) == [], "Spark wrote beside the notebook"


@pytest.mark.spark
def test_pandas_udf_runs_in_this_interpreter(spark):
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def plus_one(values: pd.Series) -> pd.Series:
        return values + 1

    rows = spark.range(5).select(plus_one("id").alias("y")).collect()
    assert [r.y for r in rows] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert os.environ["PYSPARK_PYTHON"] == sys.executable


def test_archive_name_follows_the_java_installation_without_running_java(monkeypatch, tmp_path):
    """Finding the archive must not start a JVM (that would cost every session a `java -version`)."""
    monkeypatch.setenv("COURSE_CDS_DIR", str(tmp_path / "cds"))

    def no_subprocess(*args, **kwargs):
        raise AssertionError("class_archive_path ran a process")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    names = set()
    for release in ("17.0.1", "17.0.2"):
        home = tmp_path / f"jdk-{release}"
        (home / "bin").mkdir(parents=True)
        (home / "lib" / "server").mkdir(parents=True)
        (home / "bin" / "java").write_text("#!/bin/sh\n")
        (home / "lib" / "server" / "libjvm.so").write_bytes(release.encode())
        monkeypatch.setenv("JAVA_HOME", str(home))
        names.add(course_spark.class_archive_path().name)
        assert course_spark.class_archive_path().name in names  # stable for the same Java
    assert len(names) == 2


@pytest.mark.spark
def test_a_classic_sessions_python_workers_run_the_course_daemon():
    """The first job that needs Python starts Spark's worker daemon: the course's, which imports
    PySpark's compiled modules once (bench/classic_parts.py measures what it saves)."""
    code = textwrap.dedent("""
        import psutil
        from course.spark import get_spark
        spark = get_spark("workers", classic=True)
        print("rows", spark.sparkContext.parallelize(range(4), 2).map(lambda x: x * 2).sum())
        def command(process):  # a worker that has just exited is a zombie with no command line
            try:
                return " ".join(process.cmdline())
            except psutil.Error:
                return ""
        jvm = psutil.Process(spark.sparkContext._gateway.proc.pid)
        print("daemon", any("course.python_daemon" in command(c) for c in jvm.children(recursive=True)))
    """)
    env = dict(os.environ, CI="true")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "rows 12" in result.stdout and "daemon True" in result.stdout


@pytest.mark.spark
def test_a_classic_session_has_the_course_settings_and_reuses_its_jvm_after_stop():
    code = textwrap.dedent("""
        import psutil
        from course.spark import get_spark
        first = get_spark("first", classic=True)
        print("memory", first.sparkContext.getConf().get("spark.driver.memory"))
        print("hashseed", first._jvm.java.lang.System.getenv("PYTHONHASHSEED"))
        arguments = first._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
        print("code cache", "-XX:ReservedCodeCacheSize=240m" in list(arguments))
        jvm = first.sparkContext._gateway.proc.pid
        first.stop()
        second = get_spark("second", classic=True)
        print("same", second.sparkContext._gateway.proc.pid == jvm)
        def is_java(process):
            try:
                return "java" in process.name() and process.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                return False
        print("javas", len([p for p in psutil.Process().children(recursive=True) if is_java(p)]))
        print("rows", second.range(3).count())
    """)
    env = dict(os.environ, CI="true")
    env.pop("PYTHONHASHSEED", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for line in ("memory 1g", "hashseed 0", "code cache True", "same True", "javas 1", "rows 3"):
        assert line in result.stdout, result.stdout


def test_course_daemon_only_where_workers_can_import_the_course(monkeypatch):
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    assert course_spark.course_installed()  # the test environment installs the course
    assert course_spark.local_conf()["spark.python.daemon.module"] == "course.python_daemon"
    monkeypatch.setenv("SPARK_MASTER", "spark://cluster:7077")
    assert "spark.python.daemon.module" not in course_spark.local_conf()
    monkeypatch.delenv("SPARK_MASTER")
    monkeypatch.setenv("PYSPARK_PYTHON", "/usr/bin/python3-elsewhere")
    assert "spark.python.daemon.module" not in course_spark.local_conf()
    monkeypatch.delenv("PYSPARK_PYTHON")
    monkeypatch.setattr(course_spark, "course_installed", lambda: False)
    assert "spark.python.daemon.module" not in course_spark.local_conf()


@pytest.mark.spark
def test_class_archive_is_built_mapped_and_holds_the_code_generator(tmp_path):
    """`course warmup` end to end: the archive and the unsigned jar copies are there (`make test`
    builds them first, as `make lab` does; this test builds them when they are missing), a new session
    maps the archive (the JVM says so) and loads Janino from the copies. Building one in an empty
    folder is tested with the classroom run that builds it (tests/test_classroom.py)."""
    jcmd = Path(java.find_executable()).resolve().parent / "jcmd"
    if not jcmd.exists():
        pytest.skip("this Java has no jcmd to ask the JVM about its archive")
    code = textwrap.dedent(f"""
        import subprocess
        import course.spark as s
        print("archive", s.build_class_archive())
        spark = s.get_spark("archive", classic=True)
        jvm = spark.sparkContext._jvm
        source = jvm.java.lang.Class.forName("org.codehaus.janino.ClassBodyEvaluator")
        print("janino", source.getProtectionDomain().getCodeSource().getLocation().getPath())
        print("folder", s.unsigned_jars_dir())
        info = subprocess.run([{str(jcmd)!r}, str(spark.sparkContext._gateway.proc.pid), "VM.info"],
                              capture_output=True, text=True).stdout
        print(next(line for line in info.splitlines() if line.startswith("CDS archive(s) mapped at")))
        print("sum", spark.range(5).selectExpr("id * 2 AS x").groupBy().sum("x").first()[0])
    """)
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"), CI="true")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["janino"].startswith(lines["folder"])
    assert lines["sum"] == "20"
    # "[base-end of the JDK's own archive-end of the dynamic one)": the course's archive is mapped.
    base, static_top, top = re.search(r"\[(\w+)-(\w+)-(\w+)\)", lines["CDS"]).groups()
    assert int(top, 16) > int(static_top, 16), lines["CDS"]
    archive = Path(lines["archive"])
    assert sorted(p.name for p in archive.parent.glob("spark-*")) == [Path(lines["folder"]).name, archive.name]
