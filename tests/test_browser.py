"""The learner's JupyterLab in a real browser: Playwright drives Debian's Chromium against the
JupyterLab that `make lab` starts (`course lab`), on a workspace made as `make lab` makes it: practice
and a mock exam from the start page, and a lesson run, answered wrongly, then rightly, and checked.

CI installs Chromium (`.ci/run`) and sets COURSE_BROWSER_TESTS=required, so there the tests never
skip; a learner's `make test` skips them when no Chromium is installed. Screenshots are kept in
tests/artifacts/ (not committed).
"""
import os
import re
import shutil
from pathlib import Path

import pytest

from course import lab, progress, workspace
from lab_server import TOKEN, running
from notebook_files import RELEASE

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium as root needs --no-sandbox; the rest keeps it from calling out of this offline machine.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

if not CHROMIUM:
    if os.environ.get("COURSE_BROWSER_TESTS") == "required":
        raise RuntimeError("COURSE_BROWSER_TESTS=required but no Chromium is installed (apt-get install chromium)")
    pytest.skip("no Chromium on this machine: the browser tests run in CI", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def learners_workspace(tmp_path):
    folder = tmp_path / "workspace"
    workspace.sync(RELEASE, folder)
    return folder


def _wait_for_kernel(page) -> None:
    """Wait until the notebook's kernel is connected and idle. A cell run before that (the status
    bar still says "Connecting") finds no kernel: JupyterLab then asks "Select Kernel" in a dialog
    and leaves the cell unrun, with `[ ]:` as its prompt."""
    idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle"))
    expect(idle).to_be_visible(timeout=120_000)


def _open_start_page(browser, base: str, shot: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/00-start-here.ipynb?token={TOKEN}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    expect(page.locator(".lm-MenuBar-itemLabel", has_text="Kernel")).to_be_visible(timeout=60_000)
    _wait_for_kernel(page)
    page.wait_for_timeout(1500)   # let late extensions add their menus and panels
    page.screenshot(path=str(ARTIFACTS / shot))
    return page


def _instructor_parts(page) -> dict[str, int]:
    return {"Nbgrader menu": page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").count(),
            "Create Assignment panel": page.locator('.lm-TabBar-tab[data-id="nbgrader-create_assignemnt"]').count()}


def test_practice_from_the_start_page_in_the_learners_lab(browser, learners_workspace, tmp_path):
    env = lab.environment(dict(os.environ, COURSE_DATA=str(tmp_path / "data")))
    with running(lab.command(learners_workspace), env, tmp_path) as base:
        page = _open_start_page(browser, base, "learner-lab.png")
        assert _instructor_parts(page) == {"Nbgrader menu": 0, "Create Assignment panel": 0}
        launcher = page.locator(".jp-CodeCell", has_text="practice(domain=")
        launcher.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        output = launcher.locator(".jp-OutputArea")
        expect(output.get_by_role("button", name="Check answer")).to_be_visible(timeout=120_000)
        radios = output.locator(".widget-radio-box input:visible")
        if radios.count():
            radios.first.check()
        else:   # a multi-answer question: tick as many boxes as it asks for
            choose = int(output.get_by_text(re.compile(r"^Choose \d\.$")).first.inner_text().split()[1].rstrip("."))
            for index in range(choose):
                output.locator(".widget-checkbox input:visible").nth(index).check()
        output.get_by_role("button", name="Check answer").click()
        feedback = output.locator("text=/✔ Correct|✘ Not this time/")
        expect(feedback.first).to_be_visible(timeout=30_000)
        assert "Reference:" in output.inner_text()
        page.screenshot(path=str(ARTIFACTS / "learner-practice.png"))
        page.close()


def test_the_instructors_plain_lab_still_has_nbgrader(browser, learners_workspace, tmp_path):
    """The check above can see the instructor's tools: they are there in a plain `jupyter lab`."""
    env = dict(os.environ, COURSE_DATA=str(tmp_path / "data"))
    import sys

    with running([sys.executable, "-m", "jupyterlab", f"--notebook-dir={learners_workspace}"], env, tmp_path) as base:
        page = _open_start_page(browser, base, "instructor-lab.png")
        assert _instructor_parts(page) == {"Nbgrader menu": 1, "Create Assignment panel": 1}
        page.close()


def _run_cell(page, cell, timeout=240_000):
    """Run one cell as a learner does (click, Shift+Enter) and wait until its prompt shows a new number."""
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(prompt).not_to_have_text(before, timeout=timeout)
    expect(prompt).to_have_text(re.compile(r"\[\d+\]:"), timeout=timeout)


def test_a_mock_exam_in_the_browser(browser, learners_workspace, tmp_path):
    """Launch the study-guide mock exam from the start page, answer its first question, submit and
    read the score and the per-domain chart."""
    env = lab.environment(dict(os.environ, COURSE_DATA=str(tmp_path / "data")))
    with running(lab.command(learners_workspace), env, tmp_path) as base:
        page = _open_start_page(browser, base, "learner-start.png")
        launcher = page.locator(".jp-CodeCell", has_text='mock_exam("seed"')
        _run_cell(page, launcher, timeout=120_000)
        output = launcher.locator(".jp-OutputArea")
        expect(output.get_by_role("button", name="Submit")).to_be_visible(timeout=60_000)
        assert "Question 1 of 45" in output.inner_text()
        radios = output.locator(".widget-radio-box input:visible")
        if radios.count():
            radios.first.check()
        else:
            output.locator(".widget-checkbox input:visible").first.check()
        output.get_by_role("button", name="Submit").click()
        expect(output.get_by_text(re.compile(r"Score: \d+ / 45"))).to_be_visible(timeout=30_000)
        expect(output.locator("img")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "learner-mock-exam.png"))
        page.close()


LESSON = "week1-ml-fundamentals/02-spark-dataframes.ipynb"
WRONG_BY_ROOM = """by_room = (listings.groupBy("room_type")
           .agg(F.count("review_score").alias("n_listings"),
                F.round(F.avg("review_score"), 2).alias("mean_score")))"""
RIGHT_BY_ROOM = """by_room = (listings.groupBy("room_type")
           .agg(F.count("*").alias("n_listings"),
                F.round(F.avg("review_score"), 2).alias("mean_score")))"""


def _answer(page, cell, code: str) -> None:
    """Replace an answer cell's code as a learner does: select all, type (paste) the answer, run."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)   # as a paste: no auto-indent of the continuation lines
    _run_cell(page, cell)


def test_a_lesson_in_the_browser(browser, learners_workspace, tmp_path, monkeypatch):
    """Open a lesson in the workspace, run the cells above its first exercise (Spark starts), answer
    it wrongly and read the check's one-line message, then rightly and read "Correct"."""
    env = lab.environment(dict(os.environ, COURSE_DATA=str(tmp_path / "data")))
    with running(lab.command(learners_workspace), env, tmp_path) as base:
        ARTIFACTS.mkdir(exist_ok=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{LESSON}?token={TOKEN}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
            _wait_for_kernel(page)
            page.screenshot(path=str(ARTIFACTS / "lesson-opened.png"))
            check = page.locator(".jp-CodeCell", has_text="q1.check()").first
            # The cell above the check, found by place: its text changes once answered.
            answer = check.locator("xpath=preceding-sibling::div[contains(@class, 'jp-CodeCell')][1]")
            expect(answer).to_contain_text("by_room = ...")
            answer.locator(".cm-content").click()
            page.keyboard.press("Escape")   # command mode: the selected cell is the answer cell
            page.keyboard.press("Control+Shift+c")
            page.keyboard.insert_text("Run All Above Selected Cell")
            page.keyboard.press("Enter")
            imports = page.locator(".jp-CodeCell", has_text="from course.exercises.w1_spark_dataframes import").first
            expect(imports.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"), timeout=240_000)
            page.screenshot(path=str(ARTIFACTS / "lesson-ran-above.png"))
            _answer(page, answer, WRONG_BY_ROOM)
            _run_cell(page, check)
            message = check.locator(".jp-OutputArea").inner_text().strip()
            page.screenshot(path=str(ARTIFACTS / "lesson-wrong-answer.png"))
            assert message.startswith("✘ Exercise 1") and "\n" not in message, message
            assert "counted only the listings that have a review score" in message
            assert "Correct" not in message and "Traceback" not in message
            _answer(page, answer, RIGHT_BY_ROOM)
            _run_cell(page, check)
            expect(check.locator(".jp-OutputArea")).to_contain_text("✔ Correct: Exercise 1")
            page.screenshot(path=str(ARTIFACTS / "lesson-right-answer.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "lesson-failed.png"))
            raise
        finally:
            page.close()
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    checks = progress.events(kind="check", item="02-spark-dataframes.q1")
    assert [(e.notebook, e.correct) for e in checks] == [("02-spark-dataframes", False), ("02-spark-dataframes", True)]
