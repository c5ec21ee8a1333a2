"""The kernel sandbox classroom grading uses (autograde.sandbox): real kernels run through nbclient
in a scratch course folder; what a submission's code can and cannot see, reach and use.

Without a working bubblewrap these tests are skipped, saying why, unless COURSE_SANDBOX_TESTS=required
(CI sets it): then they fail.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from autograde import sandbox
from autograde.sandbox import SandboxedKernelManager, SandboxUnavailable, sandbox_mode

MARKER = "ZZ-only-the-grader-may-see-this"


@pytest.fixture
def bubblewrap(monkeypatch):
    """Skip (or, with COURSE_SANDBOX_TESTS=required, fail) where kernels cannot be sandboxed."""
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    mode = sandbox_mode()
    if mode != "bubblewrap":
        if os.environ.get("COURSE_SANDBOX_TESTS", "").lower() == "required":
            pytest.fail(f"COURSE_SANDBOX_TESTS=required but kernels cannot be sandboxed here: {mode}")
        pytest.skip(f"kernels cannot be sandboxed here: {mode}")


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A scratch course folder: gradebook, instructor source, another student's submission, and
    the folder of the notebook being graded (bob's). A secret is set in the grader's environment."""
    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "gradebook.db").write_text(MARKER)
    (root / "nbgrader_config.py").write_text(f"# {MARKER}\n")
    (root / "source" / "a1" / "x.ipynb").write_text(MARKER)
    (root / "submitted" / "alice" / "a1").mkdir(parents=True)
    (root / "submitted" / "alice" / "a1" / "x.ipynb").write_text(MARKER)
    graded = root / "autograded" / "bob" / "a1"
    graded.mkdir(parents=True)
    (graded / "data.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("GRADER_SECRET_TOKEN", MARKER)
    monkeypatch.setenv("COURSE_PG_PASSWORD", MARKER)
    monkeypatch.setenv("PGPASSWORD", MARKER)
    return root


def client_for(folder: Path, *sources: str, config: dict | None = None, timeout: int = 60,
               allow_errors: bool = True, interrupt_on_timeout: bool = False) -> NotebookClient:
    """An nbclient client for code cells whose kernel SandboxedKernelManager starts with ``folder``
    as its notebook folder (as nbgrader's Execute does). nbclient drops its kernel manager when
    done: ``client.managers`` keeps the ones it made, to read ``last_limit_hit`` afterwards."""
    managers: list[SandboxedKernelManager] = []

    class KeptKernelManager(SandboxedKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            managers.append(self)

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    client = NotebookClient(nb, kernel_manager_class=KeptKernelManager, timeout=timeout,
                            allow_errors=allow_errors, interrupt_on_timeout=interrupt_on_timeout,
                            resources={"metadata": {"path": str(folder)}},
                            config=Config({"SandboxedKernelManager": config or {}}))
    client.managers = managers
    return client


def run(folder: Path, *sources: str, **options):
    """Execute the cells; returns (notebook, client)."""
    client = client_for(folder, *sources, **options)
    client.execute()
    return client.nb, client


def text_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


def results(cell) -> dict:
    """The JSON the cell printed last."""
    return json.loads(text_of(cell).strip().splitlines()[-1])


TRY_READS = """
import json, os
def attempt(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        return type(exc).__name__
print(json.dumps({path: attempt(path) for path in PATHS}))
"""


def test_a_kernel_sees_neither_the_course_nor_other_students(bubblewrap, course):
    graded = course / "autograded" / "bob" / "a1"
    paths = [course / "gradebook.db", course / "nbgrader_config.py", course / "source" / "a1" / "x.ipynb",
             course / "submitted" / "alice" / "a1" / "x.ipynb", Path(sandbox.__file__),
             Path.home() / ".bash_history", "/etc/shadow", graded / "data.csv"]
    nb, _ = run(graded, f"PATHS = {[str(p) for p in paths]!r}\n" + TRY_READS,
                "import os; print(sorted(os.listdir(os.path.dirname(os.getcwd()))))")
    seen = results(nb.cells[0])
    for path in paths[:-1]:
        assert MARKER not in seen[str(path)] and "root:" not in seen[str(path)], path
    assert seen[str(course / "gradebook.db")] == "FileNotFoundError"
    assert seen[str(graded / "data.csv")] == "a,b\n1,2\n"      # its own folder: yes
    assert text_of(nb.cells[1]).strip() == "['a1']"            # no other student beside it


def test_a_kernel_writes_only_into_its_own_folder(bubblewrap, course):
    graded = course / "autograded" / "bob" / "a1"
    outside = [course / "escaped.txt", course / "submitted" / "alice" / "a1" / "x.ipynb",
               Path(sys.prefix) / "escaped.txt", Path(sandbox.__file__).parent.parent / "course" / "escaped.py"]
    nb, _ = run(graded, f"""
import json
results = {{}}
for path in {[str(p) for p in outside]!r} + ['mine.txt']:
    try:
        with open(path, 'w') as f:
            f.write('written by the kernel')
        results[path] = 'written'
    except OSError as exc:
        results[path] = type(exc).__name__
print(json.dumps(results))
""")
    written = results(nb.cells[0])
    assert (graded / "mine.txt").read_text() == "written by the kernel"
    assert written["mine.txt"] == "written"
    assert not (course / "escaped.txt").exists()     # it may land in the sandbox's own /tmp, not here
    assert (course / "submitted" / "alice" / "a1" / "x.ipynb").read_text() == MARKER
    assert written[str(Path(sys.prefix) / "escaped.txt")] == "OSError"   # read-only file system
    assert not (Path(sys.prefix) / "escaped.txt").exists()
    assert not (Path(sandbox.__file__).parent.parent / "course" / "escaped.py").exists()


def test_the_graders_environment_does_not_leak(bubblewrap, course):
    nb, _ = run(course / "autograded" / "bob" / "a1", """
import os, glob
seen = repr(dict(os.environ))
for path in glob.glob('/proc/*/environ'):
    try:
        seen += open(path, 'rb').read().decode(errors='replace')
    except OSError:
        pass
print(seen)
""")
    seen = text_of(nb.cells[0])
    assert "'HOME'" in seen and "JAVA_HOME" in seen
    assert MARKER not in seen
    assert "GRADER_SECRET_TOKEN" not in seen and "PGPASSWORD" not in seen


def test_a_kernel_cannot_reach_the_hosts_network(bubblewrap, course):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        nb, _ = run(course / "autograded" / "bob" / "a1", f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()
    print('connected')
except OSError as exc:
    print('blocked', type(exc).__name__)
""")
    finally:
        server.close()
    assert text_of(nb.cells[0]).startswith("blocked"), text_of(nb.cells[0])


def test_the_course_package_imports_and_the_project_does_not(bubblewrap, course):
    nb, _ = run(course / "autograded" / "bob" / "a1", "import course.paths; print(course.paths.data_dir())",
                "import autograde")
    assert text_of(nb.cells[0]).strip() == sandbox.SANDBOX_COURSE_DATA    # a private data folder
    assert text_of(nb.cells[1]).startswith("ModuleNotFoundError")


def test_a_cell_past_its_timeout_is_interrupted_and_the_kernel_lives_on(bubblewrap, course):
    """nbgrader interrupts a cell that runs past Execute.timeout; signals cannot reach into the
    sandbox, so the interrupt goes by message."""
    nb, _ = run(course / "autograded" / "bob" / "a1", "import time; time.sleep(120)", "print('alive')",
                timeout=4, interrupt_on_timeout=True)
    assert text_of(nb.cells[0]).startswith("KeyboardInterrupt")
    assert text_of(nb.cells[1]).strip() == "alive"


def test_memory_past_the_cap_kills_the_kernel_and_says_so(bubblewrap, course):
    client = client_for(course / "autograded" / "bob" / "a1",
                        "import time\nblock = b'x' * (700 * 2**20)\ntime.sleep(60)",
                        config={"memory_bytes": 400 * 2**20})
    started = time.monotonic()
    with pytest.raises(DeadKernelError):
        client.execute()
    assert time.monotonic() - started < 50          # killed, not left to sleep
    assert (client.managers[-1].last_limit_hit or "").startswith("memory"), client.managers[-1].last_limit_hit


def test_cpu_past_the_cap_kills_the_kernel_and_says_so(bubblewrap, course):
    client = client_for(course / "autograded" / "bob" / "a1", "while True:\n    pass", config={"cpu_seconds": 3})
    with pytest.raises(DeadKernelError):
        client.execute()
    assert (client.managers[-1].last_limit_hit or "").startswith("cpu"), client.managers[-1].last_limit_hit


def test_the_private_tmp_is_size_capped(bubblewrap, course):
    nb, _ = run(course / "autograded" / "bob" / "a1", """
import errno
try:
    with open('/tmp/fill', 'wb') as f:
        f.write(b'x' * (32 * 2**20))
    print('written')
except OSError as exc:
    print(errno.errorcode[exc.errno])
""", config={"tmp_bytes": 16 * 2**20})
    assert text_of(nb.cells[0]).strip() == "ENOSPC"


def test_a_kernel_within_its_caps_is_left_alone(bubblewrap, course):
    nb, client = run(course / "autograded" / "bob" / "a1", "block = b'x' * (50 * 2**20); print(len(block))",
                     config={"memory_bytes": 400 * 2**20})
    assert text_of(nb.cells[0]).strip() == str(50 * 2**20)
    assert client.managers[-1].last_limit_hit is None


@pytest.mark.spark
def test_a_classic_local_spark_session_works_inside(bubblewrap, course, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    nb, _ = run(course / "autograded" / "bob" / "a1",
                "from course.spark import get_spark\nprint(get_spark('t', classic=True).range(3).count())",
                timeout=180, allow_errors=False)
    assert text_of(nb.cells[0]).strip() == "3"


def test_off_runs_the_kernel_unsandboxed_and_says_so(course, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    assert sandbox_mode() == "none: COURSE_SANDBOX=off"
    nb, _ = run(course / "autograded" / "bob" / "a1", f"print(open({str(course / 'gradebook.db')!r}).read())")
    assert text_of(nb.cells[0]).strip() == MARKER      # the weaker mode really is weaker


def test_required_without_a_sandbox_is_an_error(course, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "required")
    monkeypatch.setattr(sandbox, "bwrap_executable", lambda: None)
    sandbox._sandbox_mode.cache_clear()
    try:
        assert sandbox_mode().startswith("none: bubblewrap is not installed")
        with pytest.raises(SandboxUnavailable):
            run(course / "autograded" / "bob" / "a1", "print(1)")
    finally:
        sandbox._sandbox_mode.cache_clear()


def test_the_kernel_environment_is_an_allow_list():
    env = sandbox.kernel_environment({"PATH": "/opt/evil/bin", "PGPASSWORD": "x", "AWS_SECRET_ACCESS_KEY": "x",
                                      "COURSE_DB_PASSWORD": "x", "COURSE_DATA": "/home/grader/data",
                                      "NBGRADER_EXECUTION": "autograde", "COURSE_ENGINE": "off",
                                      "PYTHONHASHSEED": "0", "SSH_AUTH_SOCK": "/run/agent"}, Path("/jvm"))
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["COURSE_ENGINE"] == "off"
    assert env["PYTHONHASHSEED"] == "0" and env["JAVA_HOME"] == "/jvm"
    assert env["COURSE_DATA"] == sandbox.SANDBOX_COURSE_DATA and env["HOME"] == sandbox.SANDBOX_HOME
    assert "/opt/evil/bin" not in env["PATH"]
    assert not {"PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "COURSE_DB_PASSWORD", "SSH_AUTH_SOCK"} & set(env)
