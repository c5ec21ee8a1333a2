import os
import subprocess
import sys
import time

from course import exam


def course(*args, stdin="", timeout=120):
    return subprocess.run([sys.executable, "-m", "course.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


def test_a_perfect_exam_in_the_terminal():
    keys = ["".join("ABCDE"[i] for i in sorted(q["answer"])) for q in exam.draw("official-2025", 1)]
    result = course("exam", "--blueprint", "official-2025", "--seed", "1", stdin="\n".join(keys + ["s"]) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Question 1 of 48 · 00:" in result.stdout or "Question 1 of 48 · 89:" in result.stdout, \
        "a mock exam names no domain or section while the clock runs"
    assert "Score: 48 / 48 (100%)" in result.stdout
    assert "PASS against the practice target 70%" in result.stdout
    assert "By official section:" in result.stdout and "S4" in result.stdout


def test_wrong_input_is_explained_and_unanswered_questions_are_reviewed():
    result = course("exam", "--blueprint", "seed", "--seed", "2", stdin="Z\nl\nf\ns\ns\n")
    assert "is not an option" in result.stdout
    assert "45 unanswered" in result.stdout
    assert "Score: 0 / 45" in result.stdout and "NOT YET against the pass mark 70%" in result.stdout
    assert "Review (questions to revisit)" in result.stdout and "Reference:" in result.stdout


def test_time_up_submits_by_itself():
    process = subprocess.Popen([sys.executable, "-m", "course.cli", "exam", "--seed", "3", "--minutes", "0.03"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    try:
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Time is up: your answers were submitted." in out, err
    assert "Score: 0 / 48" in out


def test_practice_quiz_explains_each_answer():
    picked = exam.select_practice(concept="D3.grid-count", count=2, seed=5)
    wrong = next("ABCDE"[i] for i in range(4) if i not in picked[0]["answer"])
    if picked[0]["type"] == "multi":
        wrong = "".join("ABCDE"[i] for i in range(4) if i not in picked[0]["answer"])[:picked[0]["choose"]]
    result = course("quiz", "--concept", "D3.grid-count", "--count", "2", "--seed", "5", stdin=wrong + "\ns\ns\n")
    assert result.returncode == 0, result.stderr
    assert f"{picked[0]['id']}: wrong" in result.stdout and "the key is" in result.stdout


def test_an_empty_practice_selection_is_a_clear_error():
    result = course("quiz", "--concept", "D9.nothing")
    assert result.returncode == 2 and "no questions match" in result.stderr
