"""Exercises of week 2, lesson 7: AutoML, glass box.

The lesson's demo runs the local AutoML stand-in (``course.standins.automl``) on `churn`; the
exercises move it to a regression of diabetes progression with a leaking column and an
identifier, to a colleague's broken search for the best run of a listings-price experiment, to
scoring the best model of a tumour classifier on rows AutoML never saw, and to statements about
Databricks AutoML. Every judge recomputes the truth from ``course.datasets`` and from the MLflow
experiments the lesson's cells created (named in ``context``), never from numbers on the page,
and names the mistake in one sentence; the answers each judge was written against are in
``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "07-automl"
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
DIABETES_EXTRA = {"patient_id": "an identifier", "progression_grade": "a grade computed from `target`"}
CANCER_SPLIT = {"test_size": 0.25, "random_state": 7}   # cancer_automl / cancer_holdout
RMSE = "root_mean_squared_error"
STATEMENTS = {  # letter -> (true?, why a wrong pick is wrong / what a missing pick says)
    "A": (True, "an editable notebook that retrains the best trial's model from scratch"),
    "B": (False, "AutoML ranks the trials by the validation split; the test split only reports"),
    "C": (True, "the default primary metrics of classify and regress"),
    "D": (False, "AutoML has no idea which columns leak the label: `exclude_cols` is your job"),
    "E": (True, "what each trial leaves in MLflow"),
    "F": (False, "`max_trials` is deprecated (10.4 ML) and unsupported from 11.0 ML: `timeout_minutes` bounds a run"),
    "G": (False, "Databricks Runtime 18.0 ML and above no longer include AutoML as a built-in library"),
}


def _summary_type():
    from course.standins.automl import AutoMLSummary

    return AutoMLSummary


def _experiment_tags(summary) -> dict:
    import mlflow

    return mlflow.get_experiment(summary.experiment.experiment_id).tags


def _number(value, what: str) -> None:
    expect(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
           f"expected {what} to be a number; got {describe(value)}")


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


# --- Exercise 1: AutoML on a new problem ------------------------------------------------------

def form_diabetes(diabetes_summary) -> None:
    expect_type(diabetes_summary, _summary_type(), "`diabetes_summary` (what `automl.regress(...)` returns)")


def judge_diabetes(diabetes_summary) -> None:
    tags = _experiment_tags(diabetes_summary)
    expect(tags.get("automl.target_col") == "target",
           f"AutoML predicted `{tags.get('automl.target_col')}`: the clinic wants the disease progression, "
           "the `target` column")
    expect(tags.get("automl.problem_type") == "regression",
           "`classify()` treats every distinct progression value as a class: the progression is a number, "
           "so this is a regression")
    expect(tags.get("automl.primary_metric") == "mae",
           f"the trials are ranked by `{tags.get('automl.primary_metric')}`; the clinic asked for the typical "
           "miss in progression points, which is another primary metric")
    features = set(diabetes_summary.best_trial.load_model().named_steps["preprocessor"].feature_names_in_)
    for column, what in DIABETES_EXTRA.items():
        expect(column not in features, f"`{column}`, {what}, is still a feature of the trials: keep it out of "
                                       "the features the model learns from")
    missing = sorted(set(DIABETES_FEATURES) - features)
    expect(not missing, f"the measurement `{missing[0] if missing else ''}` is missing from the features: "
                        "exclude only the columns the model must not see")


# --- Exercise 2: fix the search for the best run -------------------------------------------------

def form_best_run(best_run_id, best_val_rmse, price_experiment_id=None) -> None:
    expect_type(best_run_id, str, "`best_run_id` (a run id, a string)")
    _number(best_val_rmse, "`best_val_rmse`")


def _price_runs(experiment_id: str):
    import mlflow

    runs = mlflow.search_runs(experiment_ids=[experiment_id])
    expect(len(runs) > 0, "the price experiment holds no run: run the exercise set-up cell again")
    return runs.set_index("run_id")


def judge_best_run(best_run_id, best_val_rmse, price_experiment_id) -> None:
    runs = _price_runs(price_experiment_id)
    expect(best_run_id in runs.index, "`best_run_id` is not the id of a run of the price experiment")
    val, test, train = (runs[f"metrics.{p}_{RMSE}"] for p in ("val", "test", "training"))
    best = val.min()
    row = runs.loc[best_run_id]
    if not _near(row[f"metrics.val_{RMSE}"], best):
        expect(not _near(row[f"metrics.val_{RMSE}"], val.max()),
               "that run has the highest validation RMSE, the worst trial: an error metric is better when lower, "
               "so sort ascending")
        expect(not _near(row[f"metrics.test_{RMSE}"], test.min()),
               "that run is the best on the test split: AutoML and you pick trials by the validation split and "
               "keep the test split for the final report")
        raise CheckFailed("`best_run_id` is not the trial with the lowest validation RMSE")
    if _near(best_val_rmse, best):
        return
    expect(not _near(best_val_rmse, row[f"metrics.test_{RMSE}"]),
           "`best_val_rmse` is that run's test RMSE: report the validation one")
    expect(not _near(best_val_rmse, row[f"metrics.training_{RMSE}"]),
           "`best_val_rmse` is that run's training RMSE: report the validation one")
    raise CheckFailed("`best_val_rmse` is not the validation RMSE of the best trial")


# --- Exercise 3: score the best model on rows AutoML never saw -------------------------------------

def form_holdout(holdout_accuracy, cancer_summary=None) -> None:
    _number(holdout_accuracy, "`holdout_accuracy`")
    expect(0 <= holdout_accuracy <= 1, "an accuracy is a share of rows, between 0 and 1: give a fraction")


def _cancer_holdout():
    from sklearn.model_selection import train_test_split

    from course import datasets

    cancer = datasets.load("breast_cancer")
    return train_test_split(cancer, stratify=cancer["target"], **CANCER_SPLIT)


def _accuracy(model, rows) -> float:
    import numpy as np

    features = rows.drop(columns=["target"])
    return float(np.mean(np.asarray(model.predict(features)) == rows["target"].to_numpy()))


def judge_holdout(holdout_accuracy, cancer_summary) -> None:
    seen, holdout = _cancer_holdout()
    best = cancer_summary.best_trial.load_model()
    truth = _accuracy(best, holdout)
    if _near(holdout_accuracy, truth):
        return
    metrics = cancer_summary.best_trial.metrics
    expect(not any(_near(holdout_accuracy, metrics.get(f"{p}_accuracy_score", -1)) for p in ("test", "val", "training")),
           "that is an accuracy AutoML logged on its own split of `cancer_automl`: score `cancer_holdout`, "
           "the rows AutoML never saw")
    expect(not _near(holdout_accuracy, _accuracy(best, seen)),
           "that is the accuracy on `cancer_automl`, rows AutoML trained and tuned on: score `cancer_holdout`")
    from sklearn.metrics import f1_score, precision_score, recall_score

    predicted = best.predict(holdout.drop(columns=["target"]))
    others = [f(holdout["target"], predicted, pos_label=label) for f in (f1_score, precision_score, recall_score)
              for label in (0, 1)]
    expect(not any(_near(holdout_accuracy, v) for v in others),
           "that is another metric than the accuracy (the share of holdout rows predicted right)")
    raise CheckFailed("`holdout_accuracy` is not the accuracy of the best trial's model on `cancer_holdout`: "
                      "was it another trial's model?")


# --- Exercise 4: what holds about AutoML? ---------------------------------------------------------

def _letters(answer) -> set:
    expect_type(answer, (set, frozenset, list, tuple), "`automl_true` (a set of letters such as {\"A\"})")
    return {str(v).strip().upper() for v in answer}


def form_statements(automl_true) -> None:
    letters = _letters(automl_true)
    bad = sorted(letters - set(STATEMENTS))
    expect(not bad, f"`{bad[0] if bad else ''}` is not a statement of the list (A to G)")
    expect(letters, "`automl_true` is empty: pick the statements that hold")


def judge_statements(automl_true) -> None:
    key = {k for k, (true, _) in STATEMENTS.items() if true}
    why_wrong = {k: why for k, (true, why) in STATEMENTS.items() if not true}
    why_missing = {"A": "a statement about the notebooks AutoML generates is missing",
                   "C": "a statement about the defaults of the primary metric is missing",
                   "E": "a statement about what each trial logs is missing"}
    expect_choice(_letters(automl_true), key, why_wrong, why_missing, "`automl_true`")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: AutoML on a new problem",
    syllabus=("D2.automl", "S1.03", "S1.04"), names=("diabetes_summary",),
    form=form_diabetes, judge=judge_diabetes,
    hints=("Three decisions come before any training: is the label a class or a number, which metric ranks the "
           "trials, and which columns must the model never see (one is computed from the label, one only names "
           "the patient).",
           "`automl.classify` or `automl.regress`, with `target_col=`, `primary_metric=` (the regression metrics "
           "are r2, mae, rmse, mse) and `exclude_cols=[...]`; add `timeout_seconds=3`.",
           "`diabetes_summary = automl.__(diabetes_pdf, target_col=__, primary_metric=__, exclude_cols=[__, __], "
           "timeout_seconds=3)`"),
    solution_code=('diabetes_summary = automl.regress(\n'
                   '    diabetes_pdf, target_col="target", primary_metric="mae",\n'
                   '    exclude_cols=["patient_id", "progression_grade"], timeout_seconds=3)'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix the search for the best run",
    syllabus=("S1.03", "D2.automl"), names=("best_run_id", "best_val_rmse"), context=("price_experiment_id",),
    form=form_best_run, judge=judge_best_run,
    hints=("Two things are wrong: the direction of the sort for an error metric, and the split the trials are "
           "compared on.",
           "`order_by=[\"metrics.<name> ASC\"]` puts the lowest value first; AutoML logs `training_`, `val_` and "
           "`test_` versions of every metric, and picks trials by one of them.",
           "`mlflow.search_runs(experiment_ids=[...], order_by=[\"metrics.__ __\"], max_results=1)` returns a "
           "pandas DataFrame: read the `run_id` and `metrics.__` columns of its first row"),
    solution_code=('runs = mlflow.search_runs(experiment_ids=[price_experiment_id],\n'
                   '                          order_by=["metrics.val_root_mean_squared_error ASC"], max_results=1)\n'
                   'best_run_id = runs.iloc[0]["run_id"]\n'
                   'best_val_rmse = runs.iloc[0]["metrics.val_root_mean_squared_error"]'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: score the best model on rows AutoML never saw",
    syllabus=("D2.automl", "S1.04"), names=("holdout_accuracy",), context=("cancer_summary",),
    form=form_holdout, judge=judge_holdout,
    hints=("The numbers AutoML logged come from its own split of `cancer_automl`; the question is about "
           "`cancer_holdout`, which it never saw. Load the best trial's model and predict those rows.",
           "`cancer_summary.best_trial.load_model()` (or `mlflow.pyfunc.load_model(cancer_summary.best_trial."
           "model_path)`) returns a model with `predict`; the accuracy is the share of rows predicted right.",
           "`model = ...load_model()`, `predicted = model.predict(cancer_holdout.drop(columns=[__]))`, then "
           "`(predicted == cancer_holdout[__]).mean()`"),
    solution_code=('best_model = cancer_summary.best_trial.load_model()\n'
                   'predicted = best_model.predict(cancer_holdout.drop(columns=["target"]))\n'
                   'holdout_accuracy = float((predicted == cancer_holdout["target"]).mean())'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: what holds about Databricks AutoML?",
    syllabus=("S1.03", "S1.04", "D2.automl"), names=("automl_true",),
    form=form_statements, judge=judge_statements, guessable=True,
    hints=("Go through the statements one by one against the sections: what AutoML generates, which split "
           "ranks the trials, which defaults it has, what it cannot judge, and its status in 2026.",
           "Three statements hold. Re-read the defaults table and the exam traps box.",
           "`automl_true = {\"_\", \"_\", \"_\"}`"),
    solution_code='automl_true = {"A", "C", "E"}',
)
