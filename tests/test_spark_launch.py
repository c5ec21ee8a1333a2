import os
import subprocess
import sys
import textwrap

import pytest

from course import java, spark_launch


def _environment(tmp_path):
    env = spark_launch.script_environment(spark_launch.spark_home())
    env["SPARK_CONF_DIR"] = str(tmp_path / "conf")
    return env


@pytest.mark.spark
def test_the_launcher_is_asked_once_and_its_answer_reused_for_other_notebooks(monkeypatch, tmp_path):
    env = _environment(tmp_path)
    executable = java.find_executable()
    first = spark_launch.submit_arguments([("spark.app.name", "one"), ("spark.driver.memory", "1g")])
    command = spark_launch.driver_command(first, env, executable)
    assert command[0].endswith("java")
    assert "-Xmx1g" in command
    assert command[-len(first):] == first
    assert spark_launch.SUBMIT_CLASS in command

    def no_launcher(*args, **kwargs):
        raise AssertionError("the launcher ran again")

    monkeypatch.setattr(subprocess, "run", no_launcher)
    second = spark_launch.submit_arguments([("spark.app.name", "two"), ("spark.driver.memory", "1g")])
    again = spark_launch.driver_command(second, env, executable)
    assert again[-len(second):] == second
    assert again[:-len(second)] == command[:-len(first)]


@pytest.mark.spark
def test_a_setting_that_shapes_the_jvm_asks_the_launcher_again(tmp_path):
    env = _environment(tmp_path)
    executable = java.find_executable()
    small = spark_launch.driver_command(
        spark_launch.submit_arguments([("spark.driver.memory", "1g")]), env, executable)
    large = spark_launch.driver_command(
        spark_launch.submit_arguments([("spark.driver.memory", "2g")]), env, executable)
    assert "-Xmx1g" in small and "-Xmx2g" in large


def test_a_spark_env_script_leaves_the_start_to_spark_submit(tmp_path):
    env = _environment(tmp_path)
    assert spark_launch.supported(env) == (os.name == "posix")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "spark-env.sh").write_text("export SPARK_LOCAL_IP=127.0.0.1\n")
    assert not spark_launch.supported(env)


@pytest.mark.spark
def test_the_session_runs_on_a_directly_started_jvm():
    """No spark-submit in between: the gateway's process is java itself, with Spark's settings."""
    code = textwrap.dedent("""
        import os
        from course.spark import get_spark
        spark = get_spark("direct", classic=True)
        process = spark.sparkContext._gateway.proc
        print("program", os.path.basename(process.args[0]))
        print("hashseed", spark._jvm.java.lang.System.getenv("PYTHONHASHSEED"))
        print("memory", spark.sparkContext.getConf().get("spark.driver.memory"))
        print("rows", spark.createDataFrame([(1,), (2,)], ["x"]).count())
    """)
    env = dict(os.environ, CI="true")
    env.pop("PYTHONHASHSEED", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "program java" in result.stdout
    assert "hashseed 0" in result.stdout  # as spark-submit sets it, for the Python workers
    assert "memory 1g" in result.stdout
    assert "rows 2" in result.stdout


@pytest.mark.spark
def test_a_second_session_after_stop_reuses_the_jvm():
    code = textwrap.dedent("""
        import psutil
        from course.spark import get_spark
        first = get_spark("first", classic=True)
        jvm = first.sparkContext._gateway.proc.pid
        first.stop()
        second = get_spark("second", classic=True)
        print("same", second.sparkContext._gateway.proc.pid == jvm)
        javas = [p for p in psutil.Process().children() if "java" in p.name()]
        print("javas", len(javas))
        print("rows", second.range(3).count())
    """)
    env = dict(os.environ, CI="true")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "same True" in result.stdout and "javas 1" in result.stdout and "rows 3" in result.stdout


def test_spark_defaults_file_is_part_of_what_the_command_is_remembered_by(tmp_path):
    env = _environment(tmp_path)
    arguments = spark_launch.submit_arguments([("spark.driver.memory", "1g")])
    before = spark_launch._cache_file(arguments, env, "/usr/bin/java")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "spark-defaults.conf").write_text("spark.driver.memory 3g\n")
    assert spark_launch._cache_file(arguments, env, "/usr/bin/java") != before


def test_scala_version_comes_from_the_jars():
    home = spark_launch.spark_home()
    version = spark_launch.scala_version(home)
    assert list((home / "jars").glob(f"spark-core_{version}-*.jar"))
