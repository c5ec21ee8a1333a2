import mlflow
import pytest

from course import tracking


def test_store_is_sqlite_in_the_course_folder(course_data):
    experiment_id = tracking.start_tracking("unit-tracking")
    assert mlflow.get_tracking_uri() == tracking.tracking_uri()
    assert tracking.tracking_uri().startswith("sqlite:///")
    assert (course_data / "mlflow" / "mlflow.db").exists()
    experiment = mlflow.get_experiment(experiment_id)
    assert experiment.name == "unit-tracking"
    assert str(course_data) in experiment.artifact_location
    assert tracking.start_tracking("unit-tracking") == experiment_id


def test_experiment_defaults_to_the_notebook_name(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/workspace/week1/01-orientation.ipynb")
    experiment_id = tracking.start_tracking()
    assert mlflow.get_experiment(experiment_id).name == "01-orientation"


def test_runs_models_and_registry_round_trip():
    from sklearn.linear_model import LinearRegression

    tracking.start_tracking("unit-registry")
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 1.5)
        mlflow.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="model")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "unit_model")
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("unit_model", "champion", version.version)
    loaded = mlflow.pyfunc.load_model("models:/unit_model@champion")
    assert loaded.predict([[2.0]])[0] == pytest.approx(2.0)
    assert mlflow.search_runs(order_by=["metrics.rmse ASC"]).iloc[0]["metrics.rmse"] == 1.5


def test_ui_command_points_at_the_same_store(capsys):
    command = tracking.ui_command()
    assert command.startswith("mlflow ui")
    assert tracking.tracking_uri() in command
    tracking.show_ui_command()
    assert command in capsys.readouterr().out


@pytest.mark.spark
def test_spark_model_is_logged_with_stated_requirements(spark, tmp_path):
    """No requirement inference (which loads the model in a fresh process): the pins are given."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    tracking.start_tracking("unit-spark-model")
    df = spark.createDataFrame([(float(i), 2.0 * i) for i in range(20)], ["x", "y"])
    model = Pipeline(stages=[VectorAssembler(inputCols=["x"], outputCol="features"),
                             LinearRegression(labelCol="y")]).fit(df)
    with mlflow.start_run():
        info = tracking.log_spark_model(model, "model")
    requirements = mlflow.artifacts.download_artifacts(f"{info.model_uri}/requirements.txt", dst_path=str(tmp_path))
    assert set(open(requirements).read().split()) == {f"mlflow=={mlflow.__version__}", *tracking.spark_requirements()}
    reloaded = mlflow.spark.load_model(info.model_uri)
    assert reloaded.transform(df).count() == 20


def test_spark_models_get_pinned_requirements():
    import pyspark

    assert tracking.spark_requirements() == [f"pyspark=={pyspark.__version__}"]


def test_databricks_experiments_live_in_the_learners_home_folder():
    # Databricks refuses a bare experiment name: it names experiments by workspace path.
    assert tracking.databricks_experiment_path("w3-01-mlflow-tracking", "ada@example.com") == \
        "/Users/ada@example.com/ml-associate-course-w3-01-mlflow-tracking"
