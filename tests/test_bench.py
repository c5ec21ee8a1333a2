"""The start-up benchmark's workloads are valid code that does what its headline claims.

``bench/startup.py`` runs its workloads in fresh processes; here each one runs once in-process on
the test session, and the programs it gives the child processes are checked without running them.
"""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_startup():
    spec = importlib.util.spec_from_file_location("bench_startup", ROOT / "bench" / "startup.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


startup = load_startup()


def run_workload(workload, spark) -> dict:
    from course import datasets

    namespace = {"spark": spark, "LISTINGS": str(datasets.cache("listings"))}
    exec(compile(workload.code, f"<{workload.name} workload>", "exec"), namespace)
    return namespace


def test_lesson_workload_imputes_the_columns_with_gaps_and_evaluates_once(spark):
    from pyspark.ml.feature import ImputerModel, VectorAssembler
    from pyspark.ml.regression import LinearRegressionModel

    from course import datasets

    frame = datasets.load("listings")
    assert frame["bedrooms"].isna().any() and frame["bathrooms"].isna().any()  # the Imputer has work
    assert datasets.info("listings").label == "price"
    ns = run_workload(startup.LESSON, spark)
    assert [type(s) for s in ns["model"].stages] == [ImputerModel, VectorAssembler, LinearRegressionModel]
    assert ns["train"].count() + ns["test"].count() == len(frame)
    assert 0 < ns["test"].count() < len(frame) / 2
    assert math.isfinite(ns["rmse"]) and ns["rmse"] > 0


def test_synthetic_workload_fits_the_line(spark):
    ns = run_workload(startup.SYNTHETIC, spark)
    assert ns["model"].coefficients[0] == pytest.approx(2.0)


@pytest.mark.parametrize("workload", list(startup.WORKLOADS))
def test_variants_differ_only_in_how_the_session_starts(workload):
    programs = {v: startup.child_code(v, startup.WORKLOADS[workload], "/data/listings.parquet")
                for v in startup.SESSIONS}
    for variant, code in programs.items():
        compile(code, variant, "exec")
        assert code.index("START = time.time()") < code.index("spark =") < code.index(startup.MARK)
        assert code.rstrip().endswith("spark.stop()")
    assert "course" not in programs["stock"]  # the stock variant pays for no course import
    assert "get_spark(classic=True)" in programs["classic"]
    assert "get_spark()" in programs["engine-cold"] and "get_spark()" in programs["engine-warm"]
    bodies = {v: code.replace(startup.SESSIONS[v], "") for v, code in programs.items()}
    assert len(set(bodies.values())) == 1


def test_runs_below_one_are_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["startup.py", "--runs", "0"])
    with pytest.raises(SystemExit) as exit_info:
        startup.main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("--runs must be 1 or more")


def load_classroom():
    spec = importlib.util.spec_from_file_location("bench_classroom", ROOT / "bench" / "classroom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("notebook", ["week1-ml-fundamentals/90-week1-review-quiz.ipynb",
                                      "week1-ml-fundamentals/03-supervised-learning.ipynb"])
def test_the_generated_class_holds_right_wrong_and_broken_submissions(notebook):
    import nbformat

    classroom = load_classroom()
    students = classroom.class_of(8, notebook)
    crash, damaged = classroom.crash_and_damaged(8)
    right = classroom.solutions(notebook)

    def answers(student):
        return [c.source for c in students[student].cells if c.metadata.get("nbgrader", {}).get("solution")]

    assert isinstance(students[damaged], str)
    with pytest.raises(Exception):
        nbformat.reads(students[damaged], as_version=4)
    assert answers("student00") == right and answers("student04") == right           # right
    assert all(a != r for a, r in zip(answers("student03"), right))                  # untouched
    assert all(a != r for a, r in zip(answers("student02"), right))                  # wrong
    crashed = answers(crash)
    assert "os._exit(1)" in crashed[min(4, len(right) - 1)]
    assert sum(a == r for a, r in zip(crashed, right)) == len(right) - 1

