"""The learner's JupyterLab (`course lab`, what `make lab` runs) has no nbgrader instructor tools
and asks no question about news; an instructor's plain `jupyter lab` keeps them."""
import json
import os
import subprocess
import sys

from course import lab
from lab_server import TOKEN
from lab_server import get as _get
from lab_server import running as _server

def _page_disabled(base: str) -> list[str]:
    status, html = _get(f"{base}/lab?token={TOKEN}")
    assert status == 200
    start = html.index('id="jupyter-config-data"')
    config = json.loads(html[html.index(">", start) + 1:html.index("</script>", start)])
    return config.get("disabledExtensions", [])


def _fetch_news_default(base: str) -> str:
    status, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={TOKEN}")
    assert status == 200
    return json.loads(body)["schema"]["properties"]["fetchNews"]["default"]


def test_the_learners_lab_has_no_instructor_tools_and_no_news_question(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"))
    with _server(lab.command(workspace), lab.environment(env), tmp_path) as base:
        disabled = _page_disabled(base)
        assert set(lab.DISABLED_IN_PAGE) <= set(disabled), disabled
        assert "@jupyter/nbgrader:validate-assignment" not in disabled
        assert _get(f"{base}/formgrader?token={TOKEN}")[0] == 404, "the formgrader still answers"
        assert _fetch_news_default(base) == "false", "JupyterLab would ask about news"


def test_an_instructors_plain_jupyter_lab_keeps_nbgrader(tmp_path):
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"))
    with _server([sys.executable, "-m", "jupyterlab", f"--notebook-dir={tmp_path}"], env, tmp_path) as base:
        assert not set(lab.DISABLED_IN_PAGE) & set(_page_disabled(base))
        assert _get(f"{base}/formgrader?token={TOKEN}")[0] != 404
        assert _fetch_news_default(base) == "none"


def test_lab_needs_a_workspace(tmp_path):
    result = subprocess.run([sys.executable, "-m", "course.cli", "lab", "--workspace", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "run `course workspace` first" in result.stderr


def test_unknown_options_of_other_commands_are_still_errors():
    result = subprocess.run([sys.executable, "-m", "course.cli", "coverage", "--bogus"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr


def test_binder_gets_the_learners_settings_in_its_environment(tmp_path):
    """postBuild writes the settings into the environment's Jupyter folders, where a JupyterLab
    started by Binder reads them: a fresh JupyterLab on that prefix is a learner's one."""
    prefix = tmp_path / "env"
    written = lab.configure_environment(prefix)
    assert all(p.exists() for p in written)
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"),
               JUPYTER_CONFIG_PATH=str(prefix / "etc" / "jupyter"))
    args = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={tmp_path}",
            f"--LabApp.app_settings_dir={prefix / 'share' / 'jupyter' / 'lab' / 'settings'}"]
    with _server(args, env, tmp_path) as base:
        assert set(lab.DISABLED_IN_PAGE) <= set(_page_disabled(base))
        assert _fetch_news_default(base) == "false"
