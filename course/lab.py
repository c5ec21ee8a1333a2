"""The learner's JupyterLab: ``course lab``, which ``make lab`` runs.

It is the same JupyterLab an instructor starts with ``jupyter lab``, with three settings for this
server only, all through JupyterLab's and Jupyter Server's own configuration files in
``course/jupyter/`` (nothing is patched, and the instructor's ``jupyter lab`` is unaffected):

* ``labconfig/page_config.json`` disables nbgrader's instructor extensions in the page (the
  "Create Assignment" panel, the formgrader, the course list and the "Nbgrader" menu). A learner
  keeps nbgrader's "Validate" button and assignment list.
* ``jupyter_server_config.json`` switches off the formgrader's and the course list's server parts.
* ``settings/overrides.json`` answers JupyterLab's first-start question about news: no news, no
  update check (the course runs offline).

The folder is put first on ``JUPYTER_CONFIG_PATH``, where Jupyter reads configuration with the
highest priority, and is JupyterLab's settings folder (``--LabApp.app_settings_dir``).

On Binder the JupyterLab is started by Binder, not by ``course lab``, and the environment is the
visitor's alone: ``configure_environment()`` (run by ``postBuild``) writes the same three settings
into the environment's own Jupyter folders.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent / "jupyter"
DISABLED_IN_PAGE = ("@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                    "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu")


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the learner's JupyterLab: the course's configuration first."""
    env = dict(os.environ if base is None else base)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(CONFIG), *([rest] if rest else [])])
    return env


def command(workspace: Path, extra: list[str] | None = None) -> list[str]:
    """The ``jupyter lab`` command line for a learner's workspace."""
    args = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={workspace}",
            f"--LabApp.app_settings_dir={CONFIG / 'settings'}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        args.append("--allow-root")   # containers (Binder-like images) often run as root
    return args + list(extra or [])


def run(workspace: Path, extra: list[str] | None = None) -> int:
    """Start the learner's JupyterLab in the foreground; return its exit status."""
    import subprocess

    workspace = Path(workspace)
    if not workspace.is_dir():
        raise ValueError(f"no workspace folder at {workspace}: run `course workspace` first")
    start_engine_in_background()
    try:
        return subprocess.call(command(workspace, extra), env=environment())
    except KeyboardInterrupt:
        return 0


def configure_environment(prefix: Path | str = sys.prefix) -> list[Path]:
    """Make every JupyterLab of the environment at ``prefix`` a learner's one (Binder); return the
    files written. The server setting goes last in ``jupyter_server_config.d``, after nbgrader's."""
    prefix = Path(prefix)
    targets = {
        CONFIG / "labconfig" / "page_config.json": prefix / "etc" / "jupyter" / "labconfig" / "page_config.json",
        CONFIG / "jupyter_server_config.json":
            prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "zz-course-learner.json",
        CONFIG / "settings" / "overrides.json": prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json",
    }
    for source, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return list(targets.values())


def start_engine_in_background() -> None:
    """Start the course engine while JupyterLab opens, so the first notebook finds it running
    (``course.engine``; nothing happens where notebooks use a classic session each)."""
    import subprocess

    from course import engine

    if not engine.wanted() or engine.interface_problem():
        return
    engine.log_dir().mkdir(exist_ok=True)
    with open(engine.log_dir() / "start.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "course.cli", "engine", "start"], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True)
