import pandas as pd
import pytest

from course import checks, progress


def _checker(answer):
    checks.expect_type(answer, int, "`answer`")
    checks.expect(answer == 42, "not the number of the question")


def make():
    return checks.Exercise(id="unit.q1", title="Unit exercise", syllabus=("D1.supervised",), names=("answer",),
                           checker=_checker, hints=("first hint", "second hint"), solution_code="answer = 42")


def test_untouched_exercise_is_not_attempted():
    exercise = make()
    with pytest.raises(checks.NotAttempted, match="not attempted yet. Define `answer`"):
        exercise.check({})
    with pytest.raises(checks.NotAttempted):
        exercise.check({"answer": ...})


def test_wrong_answer_says_what_is_wrong_without_the_answer():
    with pytest.raises(checks.CheckFailed) as failure:
        make().check({"answer": 41})
    assert "not the number of the question" in str(failure.value)
    assert "42" not in str(failure.value)


def test_wrong_type_is_described():
    with pytest.raises(checks.CheckFailed, match="expected `answer` to be a int; got a pandas DataFrame"):
        make().check({"answer": pd.DataFrame()})


def test_checker_crash_becomes_a_message():
    exercise = make()
    exercise.checker = lambda answer: answer.fit()
    with pytest.raises(checks.CheckFailed, match="checking your answer raised AttributeError"):
        exercise.check({"answer": 1})


def test_right_answer_prints_and_is_recorded(capsys):
    make().check({"answer": 42})
    assert "✔ Correct: Unit exercise." in capsys.readouterr().out
    assert [e.correct for e in progress.events(kind="check", item="unit.q1")][-1] is True


def test_check_reads_the_callers_globals(capsys):
    global answer
    answer = 42
    try:
        make().check()
    finally:
        del answer
    assert "Correct" in capsys.readouterr().out


def test_hints_come_one_tier_at_a_time(capsys):
    exercise = make()
    exercise.hint()
    exercise.hint()
    exercise.hint()
    out = capsys.readouterr().out
    assert "Hint 1 of 2: first hint" in out and "Hint 2 of 2: second hint" in out
    assert out.count("last hint") == 2
    assert len(progress.events(kind="hint", item="unit.q1")) >= 3


def test_solution_is_hidden_in_classroom_mode(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "classroom")
    make().solution()
    assert "answer = 42" not in capsys.readouterr().out
    monkeypatch.delenv("COURSE_MODE")
    make().solution()
    assert "answer = 42" in capsys.readouterr().out


@pytest.mark.spark
def test_spark_helpers_name_the_problem(spark):
    df = spark.createDataFrame([(1.0,)], ["x"])
    with pytest.raises(checks.CheckFailed, match="got a pandas DataFrame"):
        checks.expect_spark_dataframe(pd.DataFrame(), "`train_df`")
    with pytest.raises(checks.CheckFailed, match="expected a vector column `x`"):
        checks.expect_vector_column(df, "x", "the output")
    with pytest.raises(checks.CheckFailed, match="has no column `features`"):
        checks.expect_columns(df, ["features"], "the output")
