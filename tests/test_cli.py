import os
import subprocess
import sys

import pytest


def run_course(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "course.cli", *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=timeout)


@pytest.mark.spark
def test_doctor_passes_on_a_working_machine():
    result = run_course("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("java", "pyspark", "mlflow", "nbgrader", "spark start + query", "mlflow run round trip"):
        assert word in result.stdout
    assert "INFO" not in result.stderr and "WARN" not in result.stderr, result.stderr


def test_doctor_fails_with_an_actionable_message_without_java(tmp_path):
    env = dict(os.environ, JAVA_HOME=str(tmp_path), PATH=os.path.dirname(sys.executable))
    result = run_course("doctor", env=env)
    assert result.returncode == 1
    assert "Java was not found" in result.stdout and "install it with" in result.stdout
