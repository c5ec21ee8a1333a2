"""A local stand-in for Databricks AutoML: ``classify(...)`` and ``regress(...)``.

**What it imitates.** The keyword signatures of ``databricks.automl.classify`` and
``databricks.automl.regress`` (``dataset, *, target_col, primary_metric, exclude_cols,
exclude_frameworks, experiment_dir, experiment_name, imputers, pos_label, time_col, split_col,
max_trials, timeout_minutes``) and the glass-box workflow they run:

* a 60 / 20 / 20 train / validation / test split (stratified for classification), or a
  chronological one on ``time_col``, or your own on ``split_col`` (values train, validate, test);
* preprocessing in every trial: missing values imputed (numbers: mean, text: most frequent, or
  what ``imputers`` says), text columns one-hot encoded, numbers standardised; for an imbalanced
  classification the training rows get class weights;
* several frameworks (``"sklearn"``, ``"lightgbm"``, ``"xgboost"``), each tuned within the time
  budget; every trial is one MLflow run in a new experiment, with its parameters, metrics on the
  training, validation and test rows (``training_`` / ``val_`` / ``test_`` prefixes, as
  ``mlflow.evaluate`` names them) and its fitted model (a scikit-learn ``Pipeline``);
* trials ranked by the **validation** value of the primary metric (defaults: ``"f1"`` for
  classification, ``"r2"`` for regression);
* an editable notebook that retrains the best trial from scratch (``best_trial.notebook_path``;
  the other trials' notebooks are MLflow artifacts, their ``notebook_path`` is None), and a data
  exploration notebook;
* a summary object with the attributes of Databricks' ``AutoMLSummary`` and ``TrialInfo`` that
  matter for the exam: ``experiment``, ``trials``, ``best_trial`` (``mlflow_run_id``,
  ``metrics``, ``params``, ``model_path``, ``notebook_path``, ``load_model()``...),
  ``metric_distribution`` and ``output_table_name`` (None: forecasting only).

**What it does not.** It runs on one machine with pandas and scikit-learn, LightGBM and XGBoost
models tuned by FLAML's cost-frugal search (Databricks distributes Hyperopt trials over a
cluster); it has no UI, no forecasting (``forecast``), no Feature Store lookups, no
``data_dir``/DBFS, no ``sample_weight_col``, no SHAP values (the notebook shows permutation
importance) and no ydata-profiling report (the exploration notebook is plain pandas); its sklearn
trials are random forests plus logistic regression (classification) or extra trees (regression),
not Databricks' exact list; it reduces imbalance with class weights only (Databricks also
downsamples the majority class); and its time budget is local: ``timeout_seconds`` (an addition
of this stand-in) or ``timeout_minutes``, one minute when neither is given (Databricks: 120
minutes). ``max_trials`` is deprecated on Databricks (10.4 ML) and unsupported from 11.0 ML; here
it warns and caps the trials, which keeps tests short. ``seed`` is also an addition.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

CLASSIFICATION_METRICS = {  # primary_metric -> (the metric's MLflow name, better when)
    "f1": ("f1_score", "max"),
    "accuracy": ("accuracy_score", "max"),
    "precision": ("precision_score", "max"),
    "log_loss": ("log_loss", "min"),
    "roc_auc": ("roc_auc", "max"),
}
REGRESSION_METRICS = {
    "r2": ("r2_score", "max"),
    "mae": ("mean_absolute_error", "min"),
    "rmse": ("root_mean_squared_error", "min"),
    "mse": ("mean_squared_error", "min"),
}
FRAMEWORKS = ("sklearn", "lightgbm", "xgboost")
LEARNERS = {  # (problem type, framework) -> FLAML learners tried
    ("classification", "sklearn"): ("rf", "lrl2"),
    ("classification", "lightgbm"): ("lgbm",),
    ("classification", "xgboost"): ("xgboost",),
    ("regression", "sklearn"): ("rf", "extra_tree"),
    ("regression", "lightgbm"): ("lgbm",),
    ("regression", "xgboost"): ("xgboost",),
}
SPLIT = (0.6, 0.2, 0.2)
SPLIT_COL = "_automl_split_col"
DEFAULT_SECONDS = 60
IMBALANCE_RATIO = 0.5   # rarest class / most common class below this: class weights
_RESERVED = {"feature_store_lookups": "Feature Store lookups", "data_dir": "a DBFS data_dir",
             "sample_weight_col": "sample_weight_col"}


# --- the summary objects --------------------------------------------------------------------

@dataclass
class TrialInfo:
    """One trial, as Databricks' ``TrialInfo``: its MLflow run, metrics, parameters and model."""

    mlflow_run_id: str
    metrics: dict
    params: dict
    model_path: str
    model_description: str
    duration: float
    """Seconds the trial took (Databricks gives minutes)."""
    evaluation_metric_score: float
    """The primary metric on the validation rows."""
    artifact_uri: str
    preprocessors: str
    notebook_path: str | None = None
    """The generated notebook: set for the best trial only, as on Databricks."""
    notebook_url: str | None = None
    framework: str = ""
    """Local addition: the framework of the trial (sklearn, lightgbm, xgboost)."""

    def load_model(self):
        """The trial's fitted model (a scikit-learn Pipeline), loaded from MLflow."""
        import mlflow.sklearn

        return mlflow.sklearn.load_model(self.model_path)


@dataclass
class AutoMLSummary:
    """What ``classify``/``regress`` return, as Databricks' ``AutoMLSummary``."""

    experiment: object
    """The MLflow ``Experiment`` holding one run per trial."""
    trials: list
    """Every trial, best first."""
    best_trial: TrialInfo
    metric_distribution: str
    output_table_name: str | None = None
    """Forecasting only on Databricks: always None here."""
    # local additions
    problem_type: str = ""
    target_col: str = ""
    primary_metric: str = ""
    exploration_notebook_path: str | None = None
    data_path: str | None = None
    excluded_cols: list = field(default_factory=list)

    def __repr__(self) -> str:
        best = self.best_trial
        return (f"AutoMLSummary({self.problem_type}, target_col={self.target_col!r}, "
                f"primary_metric={self.primary_metric!r}, {len(self.trials)} trials, best: "
                f"{best.model_description} val {self.primary_metric} {best.evaluation_metric_score:.4f})")


# --- the API ----------------------------------------------------------------------------------

def classify(dataset, *, target_col: str, primary_metric: str = "f1", data_dir=None,
             experiment_dir: str | None = None, experiment_name: str | None = None,
             exclude_cols: list | None = None, exclude_frameworks: list | None = None,
             feature_store_lookups=None, imputers: dict | None = None, pos_label=None,
             time_col: str | None = None, split_col: str | None = None, sample_weight_col=None,
             max_trials: int | None = None, timeout_minutes: float | None = None,
             timeout_seconds: float | None = None, seed: int = 42) -> AutoMLSummary:
    """Train and tune classification models; see the module docstring for what is local."""
    return _run("classification", **{k: v for k, v in locals().items()})


def regress(dataset, *, target_col: str, primary_metric: str = "r2", data_dir=None,
            experiment_dir: str | None = None, experiment_name: str | None = None,
            exclude_cols: list | None = None, exclude_frameworks: list | None = None,
            feature_store_lookups=None, imputers: dict | None = None, time_col: str | None = None,
            split_col: str | None = None, sample_weight_col=None, max_trials: int | None = None,
            timeout_minutes: float | None = None, timeout_seconds: float | None = None,
            seed: int = 42) -> AutoMLSummary:
    """Train and tune regression models; see the module docstring for what is local."""
    return _run("regression", pos_label=None, **{k: v for k, v in locals().items()})


# --- input checks -------------------------------------------------------------------------------

def _to_pandas(dataset):
    import pandas as pd

    if isinstance(dataset, pd.DataFrame):
        return dataset.copy()
    if isinstance(dataset, str):
        from course.spark import get_spark

        return get_spark().table(dataset).toPandas()
    try:
        from pyspark.sql import DataFrame as SparkDataFrame
    except ImportError:
        SparkDataFrame = ()
    if isinstance(dataset, SparkDataFrame):      # classic or Connect (never hasattr on it: a Connect
        frame = dataset.toPandas()              # DataFrame answers any attribute with a Column)
        frame.attrs.clear()                     # Spark Connect leaves its query metrics there
        return frame
    if type(dataset).__module__.startswith("pyspark.pandas"):
        return dataset.to_pandas()
    raise TypeError(f"dataset should be a pandas or Spark DataFrame or a table name; got {type(dataset).__name__}")


def _check(problem: str, frame, args: dict) -> tuple[list, list]:
    """Validate the arguments; return (feature columns, frameworks)."""
    for name, what in _RESERVED.items():
        if args.get(name) is not None:
            raise NotImplementedError(f"{name}: {what} exist only on Databricks; this local stand-in "
                                      "does not imitate them")
    target = args["target_col"]
    if not isinstance(target, str) or target not in frame.columns:
        raise ValueError(f"target_col {target!r} is not a column of the dataset; its columns are: "
                         f"{', '.join(map(str, frame.columns))}")
    metrics = CLASSIFICATION_METRICS if problem == "classification" else REGRESSION_METRICS
    if args["primary_metric"] not in metrics:
        raise ValueError(f"primary_metric {args['primary_metric']!r} is not a {problem} metric of AutoML; "
                         f"choose one of: {', '.join(metrics)}")
    labels = frame[target].dropna()
    if problem == "classification" and labels.nunique() < 2:
        raise ValueError(f"target_col {target!r} has fewer than two classes: nothing to classify")
    if problem == "regression" and not _is_number(frame[target]):
        raise ValueError(f"target_col {target!r} holds {frame[target].dtype} values: regress() needs a "
                         "numeric target (for classes use classify())")
    excluded = list(args.get("exclude_cols") or [])
    unknown = [c for c in excluded if c not in frame.columns]
    if unknown:
        raise ValueError(f"exclude_cols names columns the dataset does not have: {', '.join(map(str, unknown))}")
    for keep, role in ((target, "target_col"), (args.get("time_col"), "time_col"), (args.get("split_col"), "split_col")):
        if keep is not None and keep in excluded:
            raise ValueError(f"exclude_cols cannot hold the {role} {keep!r}")
    for name in ("time_col", "split_col"):
        if args.get(name) is not None and args[name] not in frame.columns:
            raise ValueError(f"{name} {args[name]!r} is not a column of the dataset")
    skipped = set(args.get("exclude_frameworks") or [])
    bad = sorted(skipped - set(FRAMEWORKS))
    if bad:
        raise ValueError(f"exclude_frameworks: unknown framework {bad[0]!r}; the frameworks are {', '.join(FRAMEWORKS)}")
    frameworks = [f for f in FRAMEWORKS if f not in skipped]
    if not frameworks:
        raise ValueError("exclude_frameworks excludes every framework: nothing left to train")
    drop = {target, *excluded, args.get("split_col"), args.get("time_col")}
    features = [c for c in frame.columns if c not in drop]
    if not features:
        raise ValueError("no feature column is left once target_col and exclude_cols are removed")
    return features, frameworks


def _is_number(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


# --- splitting ------------------------------------------------------------------------------------

def _split(problem: str, frame, args: dict):
    """The frame with SPLIT_COL = train / validate / test."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    frame = frame[frame[args["target_col"]].notna()].reset_index(drop=True)
    if args.get("split_col"):
        values = frame[args["split_col"]].astype(str).str.lower()
        frame = frame[values.isin(["train", "validate", "test"])].copy()
        frame[SPLIT_COL] = values[frame.index]
        if set(frame[SPLIT_COL]) != {"train", "validate", "test"}:
            raise ValueError("split_col must hold the values train, validate and test")
        return frame.reset_index(drop=True)
    labels = frame[args["target_col"]]
    order = np.arange(len(frame))
    if args.get("time_col"):
        order = np.argsort(frame[args["time_col"]].to_numpy(), kind="stable")
        n_train, n_val = int(SPLIT[0] * len(frame)), int(SPLIT[1] * len(frame))
        parts = (order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:])
    else:
        stratify = labels if problem == "classification" and labels.value_counts().min() >= 3 else None
        train, rest = train_test_split(order, train_size=SPLIT[0], random_state=args["seed"], stratify=stratify)
        rest_labels = labels.iloc[rest] if stratify is not None else None
        val, test = train_test_split(rest, test_size=0.5, random_state=args["seed"], stratify=rest_labels)
        parts = (train, val, test)
    split = np.empty(len(frame), dtype=object)
    for name, rows in zip(("train", "validate", "test"), parts):
        split[rows] = name
    frame[SPLIT_COL] = split
    return frame


# --- the code every trial runs (and the generated notebook shows) --------------------------------

def _pipeline_code(spec: dict, estimator_class, params: dict) -> str:
    """Python source that builds the trial's pipeline as `model`: the glass box."""
    module = estimator_class.__module__
    module = {"lightgbm.sklearn": "lightgbm", "xgboost.sklearn": "xgboost"}.get(module, module)
    if module.startswith("sklearn."):
        module = ".".join(module.split(".")[:2])
    imputers = spec["imputers"]
    lines = [
        "from sklearn.compose import ColumnTransformer",
        "from sklearn.impute import SimpleImputer",
        "from sklearn.pipeline import Pipeline",
        "from sklearn.preprocessing import OneHotEncoder, StandardScaler",
        f"from {module} import {estimator_class.__name__}",
        "",
        f"numeric_cols = {spec['numeric']!r}",
        f"categorical_cols = {spec['categorical']!r}",
        "transformers = []",
    ]
    custom = {c: s for c, s in imputers.items() if c in spec["numeric"] + spec["categorical"]}
    if custom:
        lines.append(f"custom_imputers = {custom!r}   # from imputers=")
        lines.append("for col, how in custom_imputers.items():")
        lines.append("    how = how if isinstance(how, dict) else {'strategy': how}")
        lines.append("    steps = [('impute', SimpleImputer(**how))]")
        lines.append("    steps += [('scale', StandardScaler())] if col in numeric_cols else "
                     "[('onehot', OneHotEncoder(handle_unknown='ignore', max_categories=20))]")
        lines.append("    transformers.append((f'impute_{col}', Pipeline(steps), [col]))")
        lines.append("numeric_cols = [c for c in numeric_cols if c not in custom_imputers]")
        lines.append("categorical_cols = [c for c in categorical_cols if c not in custom_imputers]")
    lines += [
        "if numeric_cols:   # missing numbers -> the column mean, then standardise",
        "    transformers.append(('numeric', Pipeline([('impute', SimpleImputer(strategy='mean')),",
        "                                              ('scale', StandardScaler())]), numeric_cols))",
        "if categorical_cols:   # missing text -> the most frequent value, then one-hot",
        "    transformers.append(('categorical', Pipeline([",
        "        ('impute', SimpleImputer(strategy='most_frequent')),",
        "        ('onehot', OneHotEncoder(handle_unknown='ignore', max_categories=20))]), categorical_cols))",
        "preprocessor = ColumnTransformer(transformers, remainder='drop')",
        "",
        f"params = {_literal(params)}",
        f"model = Pipeline([('preprocessor', preprocessor), ('model', {estimator_class.__name__}(**params))])",
    ]
    return "\n".join(lines)


def _literal(params: dict) -> str:
    clean = {}
    for key, value in params.items():
        if hasattr(value, "item"):
            value = value.item()
        clean[key] = value
    return repr(clean)


def _weights_code(spec: dict) -> str:
    if not spec["class_weights"]:
        return "fit_params = {}   # the classes are balanced enough: no weights"
    return ("from sklearn.utils.class_weight import compute_sample_weight\n"
            "# imbalanced classes: each class weighs the same in the training rows\n"
            "fit_params = {'model__sample_weight': compute_sample_weight('balanced', y_train)}")


def _build(spec: dict, estimator_class, params: dict):
    namespace: dict = {}
    exec(_pipeline_code(spec, estimator_class, params), namespace)   # the notebook's own code
    return namespace["model"]


# --- metrics --------------------------------------------------------------------------------------

def _metrics(problem: str, model, X, y, spec: dict) -> dict:
    import numpy as np
    from sklearn import metrics as m

    if problem == "regression":
        pred = model.predict(X)
        mse = m.mean_squared_error(y, pred)
        return {"r2_score": m.r2_score(y, pred), "mean_absolute_error": m.mean_absolute_error(y, pred),
                "mean_squared_error": mse, "root_mean_squared_error": math.sqrt(mse)}
    pred = model.predict(X)
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    out = {"accuracy_score": m.accuracy_score(y, pred)}
    if len(classes) == 2:
        pos = spec["pos_label"]
        kw = {"average": "binary", "pos_label": pos, "zero_division": 0}
        try:
            out["roc_auc"] = m.roc_auc_score(np.asarray(y) == pos, proba[:, classes.index(pos)])
        except ValueError:
            out["roc_auc"] = float("nan")
    else:
        kw = {"average": "weighted", "zero_division": 0}
        try:
            out["roc_auc"] = m.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=classes)
        except ValueError:
            out["roc_auc"] = float("nan")
    out["f1_score"] = m.f1_score(y, pred, **kw)
    out["precision_score"] = m.precision_score(y, pred, **kw)
    out["recall_score"] = m.recall_score(y, pred, **kw)
    try:
        out["log_loss"] = m.log_loss(y, proba, labels=classes)
    except ValueError:      # a class of these rows that the training rows never had
        out["log_loss"] = float("nan")
    return {k: float(v) for k, v in out.items()}


# --- FLAML, imported without its side effects -------------------------------------------------------

@contextlib.contextmanager
def _without_pandas_on_spark():
    """FLAML's import creates a pandas-on-Spark session and turns ANSI mode off in the active Spark
    session. AutoML here works on pandas only, so hide pyspark.pandas and the active session while
    FLAML imports: the learner's Spark session is left as it was."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        yield
        return
    saved = sys.modules.get("pyspark.pandas", None)
    had = "pyspark.pandas" in sys.modules
    active = SparkSession.__dict__.get("getActiveSession")
    sys.modules["pyspark.pandas"] = None
    SparkSession.getActiveSession = classmethod(lambda cls: None)
    try:
        yield
    finally:
        if active is not None:
            SparkSession.getActiveSession = active
        if had:
            sys.modules["pyspark.pandas"] = saved
        else:
            sys.modules.pop("pyspark.pandas", None)


def _flaml():
    if "flaml" not in sys.modules:
        with _without_pandas_on_spark(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import flaml  # noqa: F401
    from flaml import tune
    from flaml.automl import model as estimators
    from flaml.automl.task.factory import task_factory

    classes = {"lgbm": estimators.LGBMEstimator, "rf": estimators.RandomForestEstimator,
               "extra_tree": estimators.ExtraTreesEstimator, "lrl2": estimators.LRL2Classifier,
               "xgboost": estimators.XGBoostSklearnEstimator}
    return tune, classes, task_factory


# --- the run --------------------------------------------------------------------------------------

def _output_dir(experiment_dir, name: str) -> Path:
    from course import paths

    root = Path(experiment_dir).expanduser() if experiment_dir else paths.sub_dir("automl")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _experiment(name: str, folder: Path):
    import mlflow

    from course import tracking

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    if mlflow.get_tracking_uri() == tracking.tracking_uri():
        location = (tracking.artifact_root() / name).as_uri()
    else:
        location = (folder / "artifacts").as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


def _run(problem: str, **args) -> AutoMLSummary:
    import mlflow
    import mlflow.sklearn
    import numpy as np
    from mlflow.models import infer_signature

    frame = _to_pandas(args.pop("dataset"))
    features, frameworks = _check(problem, frame, args)
    if args.get("max_trials") is not None:
        warnings.warn("max_trials is deprecated (Databricks Runtime 10.4 ML) and not supported from 11.0 ML "
                      "on Databricks: use timeout_minutes. This stand-in still caps the trials with it.",
                      FutureWarning, stacklevel=3)
    seconds = args.get("timeout_seconds")
    if seconds is None:
        seconds = 60 * args["timeout_minutes"] if args.get("timeout_minutes") is not None else DEFAULT_SECONDS
    target = args["target_col"]
    frame = _split(problem, frame, args)
    y_all = frame[target]
    if problem == "classification" and args.get("pos_label") is None:
        labels = sorted(y_all.unique().tolist(), key=str)
        args["pos_label"] = 1 if set(labels) <= {0, 1} else (True if set(labels) <= {False, True} else labels[-1])
    numeric = [c for c in features if _is_number(frame[c])]
    categorical = [c for c in features if c not in numeric]
    counts = y_all[frame[SPLIT_COL] == "train"].value_counts() if problem == "classification" else None
    spec = {"numeric": numeric, "categorical": categorical, "imputers": dict(args.get("imputers") or {}),
            "pos_label": args.get("pos_label"),
            "class_weights": bool(counts is not None and counts.min() / counts.max() < IMBALANCE_RATIO)}

    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    name = args.get("experiment_name") or f"automl-{target}-{stamp}"
    folder = _output_dir(args.get("experiment_dir"), name.strip("/").replace("/", "_"))
    data_path = folder / "data.parquet"
    frame.to_parquet(data_path, index=False)
    experiment_id = _experiment(name, folder)
    tags = {"automl.problem_type": problem, "automl.target_col": target,
            "automl.primary_metric": args["primary_metric"], "automl.exclude_cols": ",".join(args.get("exclude_cols") or []),
            "automl.data_path": str(data_path), "automl.standin": "course.standins.automl"}
    client = mlflow.tracking.MlflowClient()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)

    parts = {s: frame[frame[SPLIT_COL] == s] for s in ("train", "validate", "test")}
    X = {s: part[features] for s, part in parts.items()}
    y = {s: part[target] for s, part in parts.items()}
    fit_params = {}
    if spec["class_weights"]:
        from sklearn.utils.class_weight import compute_sample_weight

        fit_params = {"model__sample_weight": compute_sample_weight("balanced", y["train"])}
    metric_name, mode = (CLASSIFICATION_METRICS if problem == "classification" else REGRESSION_METRICS)[args["primary_metric"]]

    tune, classes, task_factory = _flaml()
    import mlflow.pyfunc  # noqa: F401  (imported before the clock starts: the first trial pays no import)
    import mlflow.utils.environment  # noqa: F401
    task = task_factory(problem)
    learners = [(fw, learner) for fw in frameworks for learner in LEARNERS[(problem, fw)]]
    per_learner = seconds / len(learners)
    cap = None if args.get("max_trials") is None else max(1, math.ceil(args["max_trials"] / len(learners)))
    example = X["train"].head(5)
    requirements = _requirements()
    records: list[dict] = []
    failures: list[str] = []

    def evaluate(trial_config, framework, learner, estimator):
        """One trial: fit, score, and log it as an MLflow run (inside the time budget, as on Databricks)."""
        began = time.time()
        flaml_estimator = estimator(task=task, **trial_config)
        params = {k: (v.item() if hasattr(v, "item") else v) for k, v in flaml_estimator.params.items()}
        params.update(_fixed_params(flaml_estimator.estimator_class, args["seed"]))
        model = _build(spec, flaml_estimator.estimator_class, params)
        try:
            model.fit(X["train"], y["train"], **fit_params)
            scores = {split: _metrics(problem, model, X[part], y[part], spec)
                      for split, part in (("training", "train"), ("val", "validate"), ("test", "test"))}
        except Exception as error:     # a failed trial is skipped, as Databricks marks it failed
            failures.append(f"{learner}: {type(error).__name__}: {error}"[:300])
            return {"score": -1e9 if mode == "max" else 1e9}
        seconds_taken = time.time() - began
        code = _pipeline_code(spec, flaml_estimator.estimator_class, params)
        record = {"framework": framework, "learner": learner, "class": flaml_estimator.estimator_class,
                  "params": params, "scores": scores, "seconds": seconds_taken, "code": code}
        logged = {"framework": framework, "estimator": record["class"].__name__,
                  **{f"model__{k}": v for k, v in params.items()}}
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"{learner}-{len(records)}") as run:
            mlflow.set_tags({"automl.trial": "true", "automl.framework": framework,
                             "estimator_class": record["class"].__name__})
            mlflow.log_params(logged)
            mlflow.log_metrics({f"{split}_{k}": v for split, values in scores.items()
                                for k, v in values.items() if np.isfinite(v)})
            mlflow.log_metric("trial_seconds", seconds_taken)
            signature = infer_signature(example, model.predict(example))
            mlflow.sklearn.log_model(model, name="model", signature=signature,
                                     serialization_format="cloudpickle", pip_requirements=requirements)
            mlflow.log_text(_notebook_json(_trial_notebook(problem, args, spec, code, run.info.run_id,
                                                           metric_name, data_path)),
                            "notebooks/trial_notebook.ipynb")
            record.update(run_id=run.info.run_id, artifact_uri=run.info.artifact_uri, logged=logged)
        records.append(record)
        value = scores["val"][metric_name]
        return {"score": value if np.isfinite(value) else (-1e9 if mode == "max" else 1e9)}

    with _quiet():
        for framework, learner in learners:
            estimator = classes[learner]
            space = estimator.search_space(data_size=(len(X["train"]), len(features)), task=task)
            config = {k: v["domain"] for k, v in space.items()}
            low_cost = {k: v["low_cost_init_value"] for k, v in space.items() if "low_cost_init_value" in v}
            start = {k: v["init_value"] for k, v in space.items() if "init_value" in v}
            tune.run(lambda c, f=framework, lr=learner, e=estimator: evaluate(c, f, lr, e),
                     config=config, low_cost_partial_config=low_cost or None,
                     points_to_evaluate=[start] if start else None, metric="score", mode=mode,
                     time_budget_s=per_learner, num_samples=cap or -1, verbose=0,
                     use_ray=False, use_spark=False)
    return _summarise(problem, args, spec, features, records, metric_name, mode, experiment_id,
                      folder, data_path, failures)


@contextlib.contextmanager
def _quiet():
    """Silence FLAML's, Optuna's and MLflow's chatter and warnings during the run, then restore."""
    import logging

    loggers = {name: logging.getLogger(name) for name in ("flaml", "optuna", "mlflow")}
    levels = {name: lg.level for name, lg in loggers.items()}
    for lg in loggers.values():
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, lg in loggers.items():
            lg.setLevel(levels[name])


def _fixed_params(estimator_class, seed: int) -> dict:
    name = estimator_class.__name__
    fixed = {"random_state": seed}
    if name.startswith(("LGBM", "XGB", "RandomForest", "ExtraTrees")):
        fixed["n_jobs"] = 1        # one core per trial: repeatable and kind to a shared machine
    return fixed


def _summarise(problem, args, spec, features, records, metric_name, mode, experiment_id,
               folder, data_path, failures=()) -> AutoMLSummary:
    import mlflow
    import numpy as np

    if not records:
        raise RuntimeError("no trial finished: give AutoML more time, or check the data"
                           + (f" (the trials failed, e.g. {failures[0]})" if failures else ""))
    sign = -1 if mode == "max" else 1

    def key(record):
        value = record["scores"]["val"][metric_name]
        return sign * value if np.isfinite(value) else float("inf")

    records.sort(key=key)
    trials = []
    for rank, record in enumerate(records):
        path = None
        if rank == 0:
            path = folder / "best_trial.ipynb"
            _write_notebook(_trial_notebook(problem, args, spec, record["code"], record["run_id"],
                                            metric_name, data_path), path)
        trials.append(TrialInfo(
            mlflow_run_id=record["run_id"],
            metrics={f"{split}_{k}": v for split, values in record["scores"].items() for k, v in values.items()},
            params={k: str(v) for k, v in record["logged"].items()},
            model_path=f"runs:/{record['run_id']}/model",
            model_description=f"{record['class'].__name__} ({record['framework']})",
            duration=record["seconds"], evaluation_metric_score=record["scores"]["val"][metric_name],
            artifact_uri=record["artifact_uri"], preprocessors="SimpleImputer, OneHotEncoder, StandardScaler",
            notebook_path=str(path) if path else None, notebook_url=path.as_uri() if path else None,
            framework=record["framework"]))
    exploration = folder / "data_exploration.ipynb"
    _write_notebook(_exploration_notebook(problem, args, features, data_path), exploration)
    values = np.array([t.evaluation_metric_score for t in trials], dtype=float)
    distribution = (f"val_{metric_name}: best {trials[0].evaluation_metric_score:.4f}, "
                    f"median {np.nanmedian(values):.4f}, worst {trials[-1].evaluation_metric_score:.4f} "
                    f"over {len(trials)} trials")
    summary = AutoMLSummary(
        experiment=mlflow.get_experiment(experiment_id), trials=trials, best_trial=trials[0],
        metric_distribution=distribution, problem_type=problem, target_col=args["target_col"],
        primary_metric=args["primary_metric"], exploration_notebook_path=str(exploration),
        data_path=str(data_path), excluded_cols=list(args.get("exclude_cols") or []))
    print(f"AutoML ({problem}, local stand-in): {len(trials)} trials in experiment "
          f"{summary.experiment.name!r}; best: {trials[0].model_description}, "
          f"val_{metric_name} = {trials[0].evaluation_metric_score:.4f}"
          + (f" ({len(failures)} failed trials skipped)" if failures else ""))
    return summary


def _requirements() -> list[str]:
    from importlib.metadata import version

    found = []
    for package in ("scikit-learn", "lightgbm", "xgboost", "pandas"):
        with contextlib.suppress(Exception):
            found.append(f"{package}=={version(package)}")
    return found


# --- the generated notebooks --------------------------------------------------------------------

def _notebook(cells: list):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
                      for kind, text in cells]
    return notebook


def _notebook_json(cells: list) -> str:
    import nbformat

    return nbformat.writes(_notebook(cells))


def _write_notebook(cells: list, path: Path) -> None:
    import nbformat

    nbformat.write(_notebook(cells), str(path))


def _trial_notebook(problem, args, spec, pipeline_code, run_id, metric_name, data_path) -> list:
    target = args["target_col"]
    pos = args.get("pos_label")
    metric_code = {
        "classification": (
            "from sklearn import metrics\n"
            + (f"pos_label = {pos!r}\n" if pos is not None else "")
            + "def scores(X, y):\n"
            "    pred, proba = model.predict(X), model.predict_proba(X)\n"
            "    binary = len(model.classes_) == 2\n"
            "    kw = {'average': 'binary', 'pos_label': pos_label} if binary else {'average': 'weighted'}\n"
            "    out = {'accuracy_score': metrics.accuracy_score(y, pred),\n"
            "           'f1_score': metrics.f1_score(y, pred, zero_division=0, **kw),\n"
            "           'precision_score': metrics.precision_score(y, pred, zero_division=0, **kw),\n"
            "           'recall_score': metrics.recall_score(y, pred, zero_division=0, **kw),\n"
            "           'log_loss': metrics.log_loss(y, proba, labels=list(model.classes_))}\n"
            "    if binary:\n"
            "        out['roc_auc'] = metrics.roc_auc_score(y == pos_label, proba[:, list(model.classes_).index(pos_label)])\n"
            "    return out\n"),
        "regression": (
            "from sklearn import metrics\n"
            "def scores(X, y):\n"
            "    pred = model.predict(X)\n"
            "    mse = metrics.mean_squared_error(y, pred)\n"
            "    return {'r2_score': metrics.r2_score(y, pred), 'mean_absolute_error': metrics.mean_absolute_error(y, pred),\n"
            "            'mean_squared_error': mse, 'root_mean_squared_error': mse ** 0.5}\n"),
    }[problem]
    return [
        ("md", f"# AutoML trial: {problem} of `{target}`\n\nGenerated by the course's local AutoML stand-in "
               f"(an imitation of a Databricks AutoML trial notebook) from MLflow run `{run_id}`. It retrains "
               "the trial's model **from scratch** with the same split, preprocessing and hyperparameters: "
               "edit anything and run it again."),
        ("code", "import pandas as pd\n\n"
                 f"data = pd.read_parquet({str(data_path)!r})   # the rows AutoML used, with its split column\n"
                 f"target_col = {target!r}\n"
                 f"split_col = {SPLIT_COL!r}   # train / validate / test (60 / 20 / 20)\n"
                 "train, val, test = (data[data[split_col] == s] for s in ('train', 'validate', 'test'))\n"
                 f"feature_cols = {spec['numeric'] + spec['categorical']!r}\n"
                 "X_train, y_train = train[feature_cols], train[target_col]\n"
                 "X_val, y_val = val[feature_cols], val[target_col]\n"
                 "X_test, y_test = test[feature_cols], test[target_col]"),
        ("md", "## Preprocessing and model\n\nMissing values are imputed, text columns one-hot encoded and numbers "
               "standardised, inside one scikit-learn `Pipeline` with the model, so the same steps run at "
               "prediction time."),
        ("code", pipeline_code),
        ("code", _weights_code(spec) + "\nmodel.fit(X_train, y_train, **fit_params)"),
        ("md", f"## Evaluation\n\nAutoML ranked the trials by the validation `{metric_name}`; the test rows "
               "were used by no decision."),
        ("code", metric_code + "val_scores, test_scores = scores(X_val, y_val), scores(X_test, y_test)\n"
                 f"val_score = val_scores[{metric_name!r}]\n"
                 "pd.DataFrame({'validation': val_scores, 'test': test_scores})"),
        ("md", "## Which features matter\n\nDatabricks' notebooks compute SHAP values (off by default); this local "
               "version uses scikit-learn's permutation importance on the validation rows."),
        ("code", "from sklearn.inspection import permutation_importance\n"
                 "importance = permutation_importance(model, X_val, y_val, n_repeats=3, random_state=0)\n"
                 "pd.Series(importance.importances_mean, index=feature_cols).sort_values(ascending=False).head(10)"),
        ("md", "## Log it yourself (optional)\n\nSet `log_to_mlflow = True` to log this retrained model as a new run."),
        ("code", "log_to_mlflow = False\n"
                 "if log_to_mlflow:\n"
                 "    import mlflow\n"
                 "    with mlflow.start_run(run_name='edited trial'):\n"
                 "        mlflow.log_metrics({f'val_{k}': v for k, v in val_scores.items()})\n"
                 "        mlflow.sklearn.log_model(model, name='model', serialization_format='cloudpickle')"),
    ]


def _exploration_notebook(problem, args, features, data_path) -> list:
    target = args["target_col"]
    balance = (f"data[{target!r}].value_counts(normalize=True).rename('share')   # class balance"
               if problem == "classification" else f"data[{target!r}].describe()   # the target's distribution")
    return [
        ("md", f"# Data exploration: `{target}`\n\nGenerated by the course's local AutoML stand-in. Databricks' "
               "exploration notebook is a ydata-profiling report; this one is plain pandas."),
        ("code", "import pandas as pd\n\n"
                 f"data = pd.read_parquet({str(data_path)!r}).drop(columns={SPLIT_COL!r})\n"
                 f"feature_cols = {features!r}\n"
                 "data.shape"),
        ("code", "data.describe(include='all').T   # every column"),
        ("code", "data.isna().mean().rename('missing share').sort_values(ascending=False)"),
        ("code", balance),
    ]
