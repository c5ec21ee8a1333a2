"""The local AutoML stand-in (course.standins.automl) does what its docstring says.

Small runs (a few seconds each, trials capped with the deprecated ``max_trials``) on the course
datasets, logged to the course's test MLflow store.
"""
import math

import mlflow
import nbformat
import pytest
from nbclient import NotebookClient

from course import datasets, tracking
from course.standins import automl


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory):
    tracking.start_tracking("unit-automl")
    with pytest.warns(FutureWarning, match="max_trials is deprecated"):
        return automl.classify(datasets.load("churn"), target_col="churn", exclude_cols=["customer_id"],
                               exclude_frameworks=["xgboost"], max_trials=6, timeout_seconds=6,
                               experiment_dir=str(tmp_path_factory.mktemp("automl")))


def test_best_trial_is_the_best_logged_run_by_the_primary_metric(churn_run):
    runs = mlflow.search_runs(experiment_ids=[churn_run.experiment.experiment_id])
    assert len(runs) == len(churn_run.trials) >= 2
    best_value = runs["metrics.val_f1_score"].max()      # f1, the default: higher is better
    best = churn_run.best_trial
    assert best.evaluation_metric_score == pytest.approx(best_value)
    assert runs.set_index("run_id").loc[best.mlflow_run_id, "metrics.val_f1_score"] == pytest.approx(best_value)
    assert {t.framework for t in churn_run.trials} <= {"sklearn", "lightgbm"}
    assert best.model_path == f"runs:/{best.mlflow_run_id}/model"
    assert best.notebook_path and all(t.notebook_path is None for t in churn_run.trials[1:])
    tags = mlflow.get_experiment(churn_run.experiment.experiment_id).tags
    assert tags["automl.problem_type"] == "classification" and tags["automl.primary_metric"] == "f1"


def test_excluded_columns_are_not_features(churn_run):
    model = churn_run.best_trial.load_model()
    features = set(model.named_steps["preprocessor"].feature_names_in_)
    assert "customer_id" not in features and "churn" not in features
    assert {"contract", "tenure_months"} <= features


@pytest.mark.notebooks
def test_the_generated_notebook_runs_and_reproduces_the_metric(churn_run):
    notebook = nbformat.read(churn_run.best_trial.notebook_path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("print(repr(val_score))"))
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
    assert float(printed) == pytest.approx(churn_run.best_trial.evaluation_metric_score, abs=1e-6)


def test_exploration_notebook_and_trial_notebooks_as_artifacts(churn_run):
    exploration = nbformat.read(churn_run.exploration_notebook_path, as_version=4)
    sources = "\n".join(c.source for c in exploration.cells)
    assert "describe" in sources and "isna" in sources and "value_counts" in sources
    other = churn_run.trials[-1]
    text = mlflow.artifacts.load_text(f"runs:/{other.mlflow_run_id}/notebooks/trial_notebook.ipynb")
    assert other.mlflow_run_id in text


def test_regression_with_an_error_metric_ranks_ascending(tmp_path):
    tracking.start_tracking("unit-automl")
    summary = automl.regress(datasets.load("diabetes"), target_col="target", primary_metric="mae",
                             exclude_frameworks=["xgboost", "lightgbm"], timeout_seconds=2,
                             experiment_dir=str(tmp_path))
    scores = [t.evaluation_metric_score for t in summary.trials]
    assert scores == sorted(scores) and all(math.isfinite(s) for s in scores)
    assert summary.best_trial.metrics["val_mean_absolute_error"] == pytest.approx(scores[0])
    assert summary.output_table_name is None


@pytest.mark.parametrize("call, message", [
    (lambda d: automl.classify(d, target_col="churned"), "target_col 'churned' is not a column"),
    (lambda d: automl.classify(d, target_col="churn", primary_metric="r2"), "not a classification metric"),
    (lambda d: automl.regress(d, target_col="contract"), "needs a numeric target"),
    (lambda d: automl.classify(d, target_col="churn", exclude_cols=["churn"]), "cannot hold the target_col"),
    (lambda d: automl.classify(d, target_col="churn", exclude_cols=["nope"]), "does not have: nope"),
    (lambda d: automl.classify(d, target_col="churn", exclude_frameworks=["sklearn", "lightgbm", "xgboost"]),
     "excludes every framework"),
])
def test_bad_input_gives_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(datasets.load("churn"))


def test_databricks_only_arguments_are_refused():
    with pytest.raises(NotImplementedError, match="only on Databricks"):
        automl.classify(datasets.load("churn"), target_col="churn", feature_store_lookups=[{"table_name": "x"}])


def test_split_col_time_col_and_imputers_are_honoured(tmp_path):
    tracking.start_tracking("unit-automl")
    frame = datasets.load("diabetes")
    frame["part"] = ["train"] * 300 + ["validate"] * 70 + ["test"] * 72
    summary = automl.regress(frame, target_col="target", split_col="part", imputers={"bmi": "median"},
                             exclude_frameworks=["xgboost", "lightgbm"], timeout_seconds=2,
                             experiment_dir=str(tmp_path))
    data = __import__("pandas").read_parquet(summary.data_path)
    assert data[automl.SPLIT_COL].value_counts().to_dict() == {"train": 300, "validate": 70, "test": 72}
    features = set(summary.best_trial.load_model().named_steps["preprocessor"].feature_names_in_)
    assert "part" not in features and "bmi" in features
    frame["day"] = range(len(frame))
    chrono = automl.regress(frame.drop(columns=["part"]), target_col="target", time_col="day",
                            exclude_frameworks=["xgboost", "lightgbm"], timeout_seconds=2,
                            experiment_dir=str(tmp_path))
    data = __import__("pandas").read_parquet(chrono.data_path)
    assert data.loc[data[automl.SPLIT_COL] == "train", "day"].max() < data.loc[data[automl.SPLIT_COL] == "test", "day"].min()
