"""Find Java and check that PySpark 4 can use it, before Spark fails with a cryptic error.

PySpark 4 runs on Java 17 or 21. Without this check a missing Java surfaces as
``JAVA_GATEWAY_EXITED``; here it is one sentence with the install command for the platform.
"""
from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = (17, 21)


class JavaError(RuntimeError):
    """Java is missing or unusable for PySpark 4."""


@dataclass(frozen=True)
class Java:
    executable: str
    major: int
    version_text: str


def install_hint(system: str | None = None) -> str:
    """The command that installs a supported Java on this platform."""
    system = system or platform.system()
    if system == "Darwin":
        return "brew install openjdk@17"
    if system == "Windows":
        return "winget install Microsoft.OpenJDK.17"
    if shutil.which("apt-get") or system != "Linux":
        return "sudo apt-get install -y openjdk-17-jre-headless"
    if shutil.which("dnf"):
        return "sudo dnf install -y java-17-openjdk-headless"
    return "conda install -c conda-forge openjdk=17"


def parse_major(version_output: str) -> int:
    """Major version from ``java -version`` output ('1.8.0_292' is 8, '17.0.15' is 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        match = re.search(r"\b(?:openjdk|java) (\d+)(?:\.(\d+))?", version_output)
    if not match:
        raise JavaError(f"Could not read a Java version from: {version_output.strip()[:200]!r}")
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return minor if major == 1 else major


def find_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / ("java.exe" if os.name == "nt" else "java")
        if candidate.exists():
            return str(candidate)
    return shutil.which("java")


def installation_identity() -> str:
    """Which Java would run, without running it: the executable's real path plus the size and
    time of the JVM library beside it (they change with every Java update)."""
    executable = find_executable()
    if executable is None:
        return "no-java"
    real = Path(executable).resolve()
    parts = [str(real)]
    for candidate in (real.parent.parent / "lib" / "server" / "libjvm.so", real):
        with contextlib.suppress(OSError):
            stat = candidate.stat()
            parts.append(f"{candidate.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def check_java() -> Java:
    """Return the Java that Spark will use, or raise JavaError with an actionable message.

    The answer is remembered for as long as JAVA_HOME and PATH stay the same."""
    return _check(os.environ.get("JAVA_HOME"), os.environ.get("PATH"))


@functools.lru_cache(maxsize=8)
def _check(java_home: str | None, path: str | None) -> Java:
    exe = find_executable()
    hint = install_hint()
    if exe is None:
        where = f" (JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java)" if os.environ.get("JAVA_HOME") else ""
        raise JavaError(
            f"Java was not found{where}: PySpark 4 needs Java 17 or 21; install it with `{hint}` "
            "and open a new terminal."
        )
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaError(f"Java at {exe} could not be run ({exc}); reinstall it with `{hint}`.") from exc
    text = (out.stderr or "") + (out.stdout or "")
    major = parse_major(text)
    if major < min(SUPPORTED):
        raise JavaError(
            f"Java {major} at {exe} is too old: PySpark 4 needs Java 17 or 21; install it with "
            f"`{hint}` and point JAVA_HOME at it."
        )
    return Java(executable=exe, major=major, version_text=text.strip().splitlines()[0])
