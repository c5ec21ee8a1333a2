import os
import stat
import subprocess
import sys
import textwrap

import pytest

from course import java


@pytest.mark.parametrize("text, major", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21" 2023-09-19', 21),
    ('java version "1.8.0_292"', 8),
    ('openjdk version "11.0.2" 2019-01-15', 11),
])
def test_parse_major_reads_every_version_style(text, major):
    assert java.parse_major(text) == major


def test_parse_major_rejects_garbage():
    with pytest.raises(java.JavaError, match="Could not read a Java version"):
        java.parse_major("command not found")


def _fake_java(tmp_path, version_line):
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    exe = home / "bin" / "java"
    exe.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return home


def test_missing_java_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(java.JavaError) as err:
        java.check_java()
    message = str(err.value)
    assert "Java was not found" in message and "17 or 21" in message
    assert java.install_hint() in message


def test_old_java_is_refused_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'java version "1.8.0_292"')))
    with pytest.raises(java.JavaError, match="Java 8 .* too old"):
        java.check_java()


def test_supported_java_is_accepted(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'openjdk version "21.0.2" 2024-01-16')))
    found = java.check_java()
    assert found.major == 21 and found.executable.endswith("bin/java")


@pytest.mark.parametrize("system, word", [("Darwin", "brew"), ("Windows", "winget")])
def test_install_hint_per_platform(system, word):
    assert word in java.install_hint(system)


def test_get_spark_without_java_fails_with_one_clear_sentence(tmp_path):
    """Not JAVA_GATEWAY_EXITED: the learner sees what to install."""
    code = textwrap.dedent("""
        from course.spark import get_spark
        get_spark()
    """)
    env = dict(os.environ, JAVA_HOME=str(tmp_path / "none"), PATH=os.path.dirname(sys.executable),
               COURSE_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "JavaError: Java was not found" in result.stderr
    assert "JAVA_GATEWAY_EXITED" not in result.stderr
