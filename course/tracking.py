"""MLflow on the learner's machine: a sqlite tracking store and model registry.

``start_tracking("w1-01-spark-ml-basics")`` points MLflow at ``<data>/mlflow/mlflow.db``
(MLflow 3's ``./mlruns`` file store is in maintenance mode), keeps artifacts in
``<data>/mlflow/artifacts`` and selects an experiment named after the notebook.
``ui_command()`` prints how to browse the same store with ``mlflow ui``.
"""
from __future__ import annotations

import os
from pathlib import Path

from course import paths


def store_dir() -> Path:
    return paths.sub_dir("mlflow")


def tracking_uri() -> str:
    return f"sqlite:///{(store_dir() / 'mlflow.db').as_posix()}"


def artifact_root() -> Path:
    path = store_dir() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def notebook_name() -> str | None:
    """The running notebook's name, when Jupyter says it (JPY_SESSION_NAME)."""
    session = os.environ.get("JPY_SESSION_NAME")
    return Path(session).stem if session else None


def start_tracking(experiment: str | None = None) -> str:
    """Use the course's local store and the experiment ``experiment``; return its id.

    On Databricks the workspace's own tracking server is kept: only the experiment is chosen, in
    the learner's home folder (``databricks_experiment_path``) unless ``experiment`` is a path.
    """
    import logging

    import mlflow

    # Creating the sqlite store logs its schema migrations at INFO: not for the notebook.
    for noisy in ("mlflow.store.db.utils", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    name = experiment or notebook_name() or "course"
    if "DATABRICKS_RUNTIME_VERSION" not in os.environ:
        mlflow.set_tracking_uri(tracking_uri())
        mlflow.set_registry_uri(tracking_uri())
        found = mlflow.get_experiment_by_name(name)
        if found is None:
            location = (artifact_root() / name).as_uri()
            experiment_id = mlflow.create_experiment(name, artifact_location=location)
        else:
            experiment_id = found.experiment_id
        mlflow.set_experiment(experiment_id=experiment_id)
        return experiment_id
    if not name.startswith("/"):
        from course.spark import get_spark

        user = get_spark().sql("SELECT current_user()").first()[0]
        name = databricks_experiment_path(name, user)
    return mlflow.set_experiment(name).experiment_id


def databricks_experiment_path(name: str, user: str) -> str:
    """Databricks names an experiment by its workspace path and refuses a bare name: the course's
    experiments go to the learner's home folder, ``/Users/<user>/ml-associate-course-<name>``."""
    return f"/Users/{user}/ml-associate-course-{name}"


def ui_command() -> str:
    """The command that opens the MLflow UI on the course's store."""
    return (f'mlflow ui --backend-store-uri "{tracking_uri()}" '
            f'--default-artifact-root "{artifact_root().as_uri()}" --port 5000')


def show_ui_command() -> None:
    print("Browse your runs with:\n  " + ui_command() + "\nthen open http://127.0.0.1:5000")


def spark_requirements() -> list[str]:
    """Requirements for a logged Spark model, given instead of inferred.

    MLflow infers requirements by loading the model in a fresh process, which took about 25 s
    for a Spark model on a 2-core machine; the course pins them from what is installed.
    """
    import pyspark

    return [f"pyspark=={pyspark.__version__}"]


def log_spark_model(model, name: str = "model", **kwargs):
    """``mlflow.spark.log_model`` with the requirements stated, so logging takes seconds.

    Unlike most MLflow 3 flavors, whose ``log_model`` takes ``name=``, the Spark flavor still
    takes ``artifact_path`` (MLflow 3.17).
    """
    import mlflow.spark

    kwargs.setdefault("pip_requirements", spark_requirements())
    return mlflow.spark.log_model(model, artifact_path=name, **kwargs)
