import pandas as pd
import pytest

from course import checks, progress


def _form(answer):
    checks.expect_type(answer, int, "`answer`")


def _judge(answer):
    checks.expect(answer == 42, "not the number of the question")


def make(**changes):
    fields = dict(id="unit.q1", title="Unit exercise", syllabus=("D1.supervised",), names=("answer",),
                  form=_form, judge=_judge, hints=("first hint", "second hint"), solution_code="answer = 42")
    return checks.Exercise(**{**fields, **changes})


def _last_check(item="unit.q1"):
    return progress.events(kind="check", item=item)[-1]


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
    with pytest.raises(checks.CheckFailed, match="expected `answer` to have type int; got a pandas DataFrame"):
        make().check({"answer": pd.DataFrame()})


def test_checker_crash_becomes_a_message():
    exercise = make()
    exercise.judge = lambda answer: answer.fit()
    with pytest.raises(checks.CheckFailed, match="checking your answer raised AttributeError"):
        exercise.check({"answer": 1})


def test_right_answer_prints_and_is_recorded(capsys):
    make().check({"answer": 42})
    assert "✔ Correct: Unit exercise." in capsys.readouterr().out
    assert _last_check().correct is True and _last_check().detail["status"] == "correct"


def test_wrong_answer_is_recorded_as_wrong():
    with pytest.raises(checks.CheckFailed):
        make().check({"answer": 41})
    assert _last_check().correct is False and _last_check().detail["status"] == "wrong"


def test_guessable_exercise_in_classroom_mode_checks_only_the_form(monkeypatch, capsys):
    """In a classroom a guessable key is not told: a wrong but well-formed answer is "well formed",
    never "Correct", and the progress store does not count it as correct."""
    monkeypatch.setenv("COURSE_MODE", "classroom")
    exercise = make(guessable=True)
    exercise.check({"answer": 41})
    out = capsys.readouterr().out
    assert "Well formed" in out and "Correct" not in out
    assert _last_check().correct is None and _last_check().detail["status"] == "well formed"
    with pytest.raises(checks.CheckFailed, match="to have type int"):
        exercise.check({"answer": "41"})
    monkeypatch.delenv("COURSE_MODE")
    with pytest.raises(checks.CheckFailed, match="not the number"):
        exercise.check({"answer": 41})


def test_computed_exercise_is_judged_in_classroom_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "classroom")
    with pytest.raises(checks.CheckFailed, match="not the number"):
        make().check({"answer": 41})


def test_nothing_is_recorded_while_nbgrader_grades(monkeypatch, capsys):
    before = len(progress.events(kind="check", item="unit.q1"))
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    make().check({"answer": 42})
    with pytest.raises(checks.CheckFailed):
        make().check({"answer": 41})
    make().solution()
    assert "answer = 42" not in capsys.readouterr().out
    assert len(progress.events(kind="check", item="unit.q1")) == before


def test_missing_lesson_names_ask_to_run_the_lesson():
    exercise = make(context=("sweep",), judge=lambda answer, sweep: None)
    with pytest.raises(checks.NotAttempted, match="run the lesson's cells above first .`sweep`"):
        exercise.check({"answer": 42})


def test_choice_names_a_wrong_pick_but_never_a_missing_one():
    why_wrong = {"B": "a SQL warehouse runs SQL only"}
    why_missing = {"C": "one compute that runs Spark ML is missing", "A": "another is missing"}
    with pytest.raises(checks.CheckFailed, match="`B` does not belong: a SQL warehouse runs SQL only"):
        checks.expect_choice({"A", "B"}, {"A", "C"}, why_wrong, why_missing, "`picks`")
    with pytest.raises(checks.CheckFailed) as failure:
        checks.expect_choice({"A"}, {"A", "C"}, why_wrong, why_missing, "`picks`")
    assert "one compute that runs Spark ML is missing" in str(failure.value) and "C" not in str(failure.value)
    with pytest.raises(checks.CheckFailed, match=r"\(2 picks are missing in all\)"):
        checks.expect_choice(set(), {"A", "C"}, why_wrong, why_missing, "`picks`")
    checks.expect_choice({"C", "A"}, {"A", "C"}, why_wrong, why_missing, "`picks`")


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


@pytest.mark.spark
def test_fitted_stages_flatten_nested_pipelines(spark):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    df = spark.createDataFrame([(1.0, 2.0), (3.0, 5.0)], ["a", "b"])
    inner = Pipeline(stages=[VectorAssembler(inputCols=["b", "a"], outputCol="v")])
    model = Pipeline(stages=[inner, StandardScaler(inputCol="v", outputCol="s")]).fit(df)
    assert [type(s).__name__ for s in checks.fitted_stages(model)] == ["VectorAssembler", "StandardScalerModel"]
    assert checks.assembled_columns(model) == {"a", "b"}
