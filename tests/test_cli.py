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


def _learner_env(tmp_path):
    return dict(os.environ, COURSE_DATA=str(tmp_path / "data"))


def _answer_some(env, count=6):
    code = ("from course import exam, questions\n"
            f"for q in questions.load_bank()[:{count}]:\n"
            "    exam.record_answer(q, q['answer'], 'practice')\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_progress_plan_and_report_commands(tmp_path):
    env = _learner_env(tmp_path)
    _answer_some(env)
    shown = run_course("progress", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "D1 Machine Learning Fundamentals" in shown.stdout and "Readiness" in shown.stdout
    plan = run_course("plan", "--plan", "last-week", env=env)
    assert plan.returncode == 0 and "Day 7" in plan.stdout and "Next:" in plan.stdout
    (tmp_path / "workspace").mkdir()
    report = subprocess.run([sys.executable, "-m", "course.cli", "report"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "workspace" / "progress-report.html").read_text().startswith("<!DOCTYPE html>")


def test_progress_export_import_and_a_reset_that_asks_first(tmp_path):
    env = _learner_env(tmp_path)
    _answer_some(env, 4)
    target = tmp_path / "mine.json"
    assert "exported 4 events" in run_course("progress", "--export", str(target), env=env).stdout
    again = run_course("progress", "--export", str(target), env=env)
    assert again.returncode == 2 and "already exists" in again.stderr
    no = subprocess.run([sys.executable, "-m", "course.cli", "progress", "--reset"], input="no\n",
                        env=env, capture_output=True, text=True)
    assert no.returncode == 1 and "Nothing deleted" in no.stdout
    yes = subprocess.run([sys.executable, "-m", "course.cli", "progress", "--reset"], input="reset\n",
                         env=env, capture_output=True, text=True)
    assert yes.returncode == 0 and "deleted 4 events" in yes.stdout
    assert list((tmp_path / "data" / "backups").glob("progress-*.sqlite"))
    back = run_course("progress", "--import", str(target), env=env)
    assert "imported 4 events" in back.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    bad = run_course("progress", "--import", str(broken), env=env)
    assert bad.returncode == 2 and "not a progress export" in bad.stderr and "Traceback" not in bad.stderr


def test_guide_writes_the_study_guide_page_and_never_over_a_file_of_yours(tmp_path):
    env = _learner_env(tmp_path)
    target = tmp_path / "guide.html"
    made = run_course("guide", "--output", str(target), env=env)
    assert made.returncode == 0, made.stderr
    page = target.read_text()
    assert "Exam traps" in page and "Common mistakes" in page and "&#9744;" in page   # unticked items
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my notes</p>")
    refused = run_course("guide", "--output", str(mine), env=env)
    assert refused.returncode == 2 and "not a study guide" in refused.stderr
    assert mine.read_text() == "<p>my notes</p>"
