"""A JupyterLab server for the tests: on 127.0.0.1, a free port, a known token, always stopped."""
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

TOKEN = "course-lab-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET; an HTTP error is a status, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path):
    """Start ``args`` (a jupyter lab command line) and yield its base URL once it answers."""
    port = free_port()
    root = ["--allow-root"] if os.getuid() == 0 and "--allow-root" not in args else []
    log = cwd / "jupyter.log"
    # Each server its own JupyterLab state: a workspace layout saved by one test's server must not
    # reopen its tabs in the next one (both would read ~/.jupyter/lab).
    env = dict(env, JUPYTERLAB_WORKSPACES_DIR=str(cwd / "lab-workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(cwd / "lab-user-settings"))
    process = subprocess.Popen([*args, *root, "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                                f"--IdentityProvider.token={TOKEN}"], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"JupyterLab exited: {log.read_text()[-2000:]}")
            try:
                if get(f"{base}/api/status?token={TOKEN}")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 120 s")
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
