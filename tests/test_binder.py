"""Binder builds the course with repo2docker: a conda environment from `environment.yml`, then
`postBuild` once. Here: the environment installs exactly what `requirements.lock` pins, with a
Python and a Java the course supports; `postBuild` works in a fresh environment, and a second run
changes nothing and keeps a learner's edit; and the meter that checks Binder's memory limit in
tests/test_autograde.py counts a notebook's whole process tree."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import venv
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from autograde.memory import PeakMemory, tree_memory
from course import java, lab
from course.workspace import SKIP_PARTS

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def lock_pins() -> dict[str, str]:
    """Canonical package name -> the version requirements.lock pins; every line must be `name==version`."""
    pins: dict[str, str] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, \
            f"requirements.lock line {number} is not pinned to one version with ==: {line!r}"
        assert requirement.url is None and requirement.marker is None, f"requirements.lock line {number}: {line!r}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"requirements.lock pins {requirement.name} twice"
        pins[name] = specs[0].version
    assert pins, "requirements.lock pins nothing"
    return pins


def locked_python() -> str:
    """The Python (major.minor) the lock was resolved for, from its header."""
    found = re.search(r"\(Python (\d+\.\d+)\b", LOCK.read_text().splitlines()[0])
    assert found, "requirements.lock's first line no longer says which Python it was resolved for"
    return found.group(1)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_lock_pins_every_package_to_one_version():
    missing = {"pyspark", "mlflow", "jupyterlab", "nbgrader"} - set(lock_pins())
    assert not missing, f"requirements.lock lacks {sorted(missing)}"


@pytest.mark.parametrize("source", ["pyproject.toml", "requirements.in"])
def test_every_direct_dependency_is_locked_at_a_version_it_accepts(source):
    """Else `pip install -e .` after the lock (environment.yml, where pip takes no --no-deps) would
    install another version than the lock's, or `make lock` would have dropped a package."""
    if source == "pyproject.toml":
        lines = pyproject()["project"]["dependencies"]
    else:
        lines = [line.split("#")[0].strip() for line in (ROOT / source).read_text().splitlines()]
    pins, problems = lock_pins(), []
    for line in filter(None, lines):
        requirement = Requirement(line)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}: the lock pins {version}, {source} asks {requirement.specifier}")
    assert not problems, f"{source} and requirements.lock disagree: " + "; ".join(problems)


def test_environment_yml_installs_the_lock_with_a_supported_python_and_java():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = [line for d in environment["dependencies"] if isinstance(d, dict) for line in d.get("pip", [])]
    pins = lock_pins()

    assert "-r requirements.lock" in pip, "environment.yml must install requirements.lock (pip: -r requirements.lock)"
    assert "-e ." in pip, "environment.yml must install the course itself (pip: -e .)"
    for line in pip:
        if line not in ("-r requirements.lock", "-e ."):
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in pins and str(requirement.specifier) == f"=={pins[name]}", \
                f"environment.yml's pip line {line!r} is not the lock's pin ({pins.get(name, 'not locked')})"

    versions = {}
    for spec in conda:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(?:==?\s*([^\s=<>!,]+))?", spec)
        assert found, f"environment.yml: unreadable conda dependency {spec!r}"
        name, version = found.groups()
        versions[name] = version
        if canonicalize_name(name) in pins:
            assert version == pins[canonicalize_name(name)], \
                f"environment.yml installs {name} {version} with conda, the lock pins {pins[canonicalize_name(name)]}"
    python = versions.get("python")
    assert python, "environment.yml must pin Python (repo2docker's default may not be the lock's)"
    assert python == locked_python(), f"environment.yml's Python {python} is not the lock's {locked_python()}"
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert requires.contains(python), f"environment.yml's Python {python} is outside requires-python {requires}"
    openjdk = versions.get("openjdk")
    assert openjdk and int(openjdk.split(".")[0]) in java.SUPPORTED, \
        f"environment.yml's openjdk {openjdk} is not a Java PySpark 4 runs on {java.SUPPORTED}"


# --- postBuild, twice, in a fresh environment ---

@pytest.fixture
def fresh_environment(tmp_path) -> Iterator[Path]:
    """An empty Python environment that sees this one's packages, with the course's commands in its
    bin: to postBuild what Binder's conda environment is, with its own sys.prefix (where `course
    warmup` puts the Spark class archive and configure_environment the Jupyter settings), so nothing
    is written into the environment running the tests. The archive (about 200 MB) goes at the end."""
    prefix = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(prefix)
    own = {"base": str(prefix), "platbase": str(prefix)}
    site = Path(sysconfig.get_path("purelib", vars=own))
    (site / "course-tests.pth").write_text(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    python = prefix / "bin" / "python"
    for command, target in pyproject()["project"]["scripts"].items():
        module, function = target.split(":")
        script = prefix / "bin" / command
        script.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n")
        script.chmod(0o755)
    yield prefix
    shutil.rmtree(prefix / "share" / "course", ignore_errors=True)


def snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``root``, except those below ``skip``."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(s) for s in skip):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(2**20), b""):
                    digest.update(block)
            files[str(path.relative_to(root))] = digest.hexdigest()
    return files


def run_post_build(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", str(repo / "postBuild")], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, f"postBuild failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.spark
@pytest.mark.skipif(os.name != "posix", reason="Binder runs postBuild with bash on Linux")
def test_post_build_sets_up_a_fresh_environment_and_a_second_run_changes_nothing(tmp_path, fresh_environment):
    repo = tmp_path / "repo"      # what postBuild needs of the repository: itself and release/
    repo.mkdir()
    (repo / "postBuild").write_bytes((ROOT / "postBuild").read_bytes())
    shutil.copytree(ROOT / "release", repo / "release")
    prefix = fresh_environment
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    unset = ("COURSE_CDS_DIR", "SPARK_REMOTE", "COURSE_HEADLESS", "VIRTUAL_ENV", "PYTHONHOME", "XDG_DATA_HOME",
             "XDG_CONFIG_HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_PATH")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(HOME=str(home), COURSE_DATA=str(data), PATH=f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}")

    first = run_post_build(repo, env)
    # The warm-up really ran (postBuild goes on without it) and put its archive into the environment.
    ready = re.search(r"Spark class archive ready in \d+ s: (\S+)", first.stdout)
    assert ready and "skipped" not in first.stdout, f"course warmup failed:\n{first.stdout}\n{first.stderr[-3000:]}"
    archive = Path(ready.group(1))
    assert archive.is_file() and archive.is_relative_to(prefix), archive
    # The workspace holds every student notebook, and the environment the learner's Jupyter settings.
    workspace = repo / "workspace"
    shipped = {p.relative_to(repo / "release") for p in (repo / "release").rglob("*")
               if p.is_file() and not SKIP_PARTS.intersection(p.parts)}
    assert {p.relative_to(workspace) for p in workspace.rglob("*") if p.is_file()} == shipped
    expected = tmp_path / "expected-settings"
    for written in lab.configure_environment(expected):
        relative = written.relative_to(expected)
        assert (prefix / relative).read_bytes() == written.read_bytes(), f"postBuild did not write {relative}"

    # A learner edits a lesson; then Binder's build (or a learner) runs postBuild again.
    lesson = sorted(workspace.glob("week*/*.ipynb"))[0]
    notebook = nbformat.read(lesson, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("my_answer = 42  # the learner's own work"))
    nbformat.write(notebook, lesson)
    edited = lesson.read_bytes()
    logs = data / "spark" / "logs"
    before = snapshot(tmp_path, skip=(logs,))

    second = run_post_build(repo, env)
    after = snapshot(tmp_path, skip=(logs,))
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"the second postBuild changed: {sorted({path for path, _ in changed})}"
    assert lesson.read_bytes() == edited
    assert f"kept your copy of {lesson.relative_to(workspace)}" in second.stdout


# --- the memory meter of tests/test_autograde.py ---

GRANDCHILD = ("import sys; block = b'x' * (256 * 2**20); print('ready', flush=True); sys.stdin.readline(); "
              "del block; print('freed', flush=True); sys.stdin.readline()")


def test_the_peak_counts_descendants_and_a_short_peak(tmp_path):
    """A grandchild holds 256 MiB for a moment, then frees it: the peak of the tree still holds it."""
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GRANDCHILD!r}])"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    peak = PeakMemory(interval=0.05)
    try:
        with peak.watching(parent.pid):
            assert parent.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + 20
            while peak.pss < 256 * 2**20 and time.monotonic() < deadline:
                time.sleep(0.05)
            parent.stdin.write("free\n")
            parent.stdin.flush()
            assert parent.stdout.readline().strip() == "freed"
            time.sleep(0.3)
            assert tree_memory(parent.pid)[0] < 200 * 2**20, "the grandchild did not free its memory"
        assert peak.pss >= 256 * 2**20, f"peak {peak.pss / 2**20:.0f} MiB misses the grandchild's 256 MiB"
        assert peak.rss >= peak.pss
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
    assert tree_memory(parent.pid) == (0, 0)


def test_the_peak_also_counts_a_shared_server_the_tree_did_not_start():
    """A notebook on the course engine is charged the engine's memory too: ``also`` adds processes
    that are not descendants (here a 128 MiB stand-in for the server), each counted once."""
    holder = "import sys; block = b'x' * (128 * 2**20); print('ready', flush=True); sys.stdin.readline()"
    server = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    notebook = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE)
    try:
        assert server.stdout.readline().strip() == "ready"
        alone, with_server = PeakMemory(), PeakMemory(also=lambda: [psutil.Process(server.pid)] * 2)
        alone.record(notebook.pid)
        with_server.record(notebook.pid)
        assert alone.pss < 64 * 2**20
        assert 128 * 2**20 <= with_server.pss - alone.pss < 2 * 128 * 2**20
    finally:
        for proc in (server, notebook):
            proc.stdin.close()
            proc.wait(timeout=30)
