"""Exercises of week 3, lesson 1: MLflow tracking in depth.

The lesson's demos log a ridge regression and a boosting history on `diabetes`, autolog a forest
on `breast_cancer` and nest a ridge search. The exercises move the ideas to a churn classifier
logged by hand (params, a recall, a figure and a model with a signature), to a sweep experiment
of penguin-mass models whose best trial must be found under a constraint, to a colleague's
broken search whose trials are not nested, to places of the MLflow UI, and to a listings price
tree whose autologging was switched on too late and without the model. Every judge recomputes
the truth from ``course.datasets`` (refitting the same deterministic models) or from the MLflow
store the lesson's cells wrote (the ids it needs are named in ``context``), never from numbers on
the page, and names the mistake in one sentence; the answers each judge was written against are
in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import CheckFailed, Exercise, expect, expect_type

LESSON = "01-mlflow-tracking"
CHURN_FEATURES = ["tenure_months", "monthly_charges", "support_calls", "senior_citizen"]
CHURN_SPLIT = {"test_size": 0.25, "random_state": 3}         # churn_X_train / churn_X_val
CHURN_PARAMS = {"C": 0.3, "class_weight": "balanced"}        # the model q1 logs
PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
PENGUIN_SPLIT = {"test_size": 0.3, "random_state": 7}        # pen_X_train / pen_X_val
SWEEP_EXPERIMENT = "w3-01-mlflow-tracking-sweep"
FOREST_GRID = [(n, d) for n in (10, 50) for d in (2, 4, 6, 8)]   # (n_estimators, max_depth)
PRICE_FEATURES = ["accommodates", "bedrooms", "bathrooms", "minimum_nights", "number_of_reviews"]
PRICE_SPLIT = {"test_size": 0.25, "random_state": 11}        # price_X_train / price_X_val
PRICE_TREE = {"max_depth": 6, "random_state": 0}             # the colleague's tree of q5
RIDGE_ALPHAS = (0.1, 10.0, 100.0)
LASSO_ALPHAS = (1.0, 10.0, 100.0)
PLACES = ("runs table", "run overview", "metric chart", "artifacts", "logged model", "compare view")
UI_KEY = {  # letter -> (place, why the given place is wrong, without naming the right one)
    "A": ("run overview", "the Git commit is not a file the run logged: MLflow records it as a source tag "
                          "when the run starts, with the run's other properties"),
    "B": ("metric chart", "a metric logged with steps keeps every value; a place that shows one value per "
                          "metric, or compares runs, cannot show how it evolved within one run"),
    "C": ("compare view", "relating two parameters to a metric takes a plot over several selected runs, "
                          "not a list of rows or one run's page"),
    "D": ("runs table", "the question is over every run of the experiment, filtered and sorted, not over "
                        "a handful of selected runs or one run"),
    "E": ("logged model", "the input columns and types are the signature, which belongs to the model that "
                          "was logged, not to the run's parameters, tags or files"),
    "F": ("artifacts", "`log_figure` stores an image file with the run; it is neither a metric nor a "
                       "property of the run"),
    "G": ("run overview", "a description and tags are properties of one run, shown where that run itself "
                          "is displayed, not in a chart or a file"),
}


# --- shared helpers ---------------------------------------------------------------------------

def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def _run(run_id, what: str):
    """The run ``run_id`` from the tracking store, or a CheckFailed that says what is wrong."""
    expect_type(run_id, str, f"{what} (a run id: `run.info.run_id`, a string)")
    try:
        return _client().get_run(run_id.strip())
    except Exception:
        raise CheckFailed(f"{what} is not the id of a run in the course's MLflow store: use "
                          "`run.info.run_id` of the run you opened") from None


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _artifact_names(run_id: str, folder: str | None = None) -> list[str]:
    """Every artifact file of a run, as paths, walking the folders."""
    client, found = _client(), []
    for item in client.list_artifacts(run_id, folder):
        found += _artifact_names(run_id, item.path) if item.is_dir else [item.path]
    return found


def _logged_models(run_id: str) -> list:
    import mlflow

    return mlflow.search_logged_models(filter_string=f"source_run_id = '{run_id}'", output_format="list")


# --- Exercise 1: log a churn model by hand ---------------------------------------------------------

def churn_split():
    """(X_train, X_val, y_train, y_val) of the churn exercise, as the set-up cell makes them."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    churn = datasets.load("churn")
    return train_test_split(churn[CHURN_FEATURES], churn["churn"], **CHURN_SPLIT)


def churn_classifier():
    """The churn classifier of the exercise, unfitted."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(**CHURN_PARAMS))


def _churn_truth() -> dict:
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    X_train, X_val, y_train, y_val = churn_split()
    model = churn_classifier().fit(X_train, y_train)
    val_pred, train_pred = model.predict(X_val), model.predict(X_train)
    return {"X_val": X_val, "val_pred": val_pred,
            "recall": recall_score(y_val, val_pred), "train_recall": recall_score(y_train, train_pred),
            "precision": precision_score(y_val, val_pred), "accuracy": accuracy_score(y_val, val_pred),
            "stayer_recall": recall_score(y_val, val_pred, pos_label=0)}


def form_churn_run(churn_run_id) -> None:
    expect_type(churn_run_id, str, "`churn_run_id` (a run id: `run.info.run_id`, a string)")


def judge_churn_run(churn_run_id) -> None:
    import mlflow
    import numpy as np

    run = _run(churn_run_id, "`churn_run_id`")
    params, metrics = run.data.params, run.data.metrics
    for name, value in CHURN_PARAMS.items():
        expect(name in params, f"the run has no parameter `{name}`: log the model's settings with "
                               "`log_param` or `log_params` under the names asked")
        same = (str(params[name]) == str(value) if isinstance(value, str)
                else _as_float(params[name]) == value)
        expect(same, f"the parameter `{name}` holds `{params[name]}`, not the value `churn_clf` was built with")
    expect("val_recall" in metrics, "the run has no metric `val_recall`: log the recall with `log_metric`")
    truth, got = _churn_truth(), metrics["val_recall"]
    if not _near(got, truth["recall"]):
        expect(not _near(got, truth["train_recall"]),
               "`val_recall` was measured on the training rows: predict `churn_X_val`")
        expect(not _near(got, truth["stayer_recall"]),
               "`val_recall` is the recall of the customers who stay (label 0); the churners are label 1")
        expect(not _near(got, truth["precision"]),
               "`val_recall` holds a precision (of the flagged customers, the share who churn); the recall "
               "is the share of churners the model flags")
        expect(not _near(got, truth["accuracy"]), "`val_recall` holds the accuracy, not the recall of the churners")
        raise CheckFailed("`val_recall` is not the recall of the churners on the validation rows")
    files = _artifact_names(run.info.run_id)
    expect(any(f.rsplit("/", 1)[-1] == "confusion_matrix.png" for f in files),
           "the run has no artifact `confusion_matrix.png`: log the figure with `mlflow.log_figure(fig, ...)`")
    models = _logged_models(run.info.run_id)
    expect(models, "no model was logged in this run: call `mlflow.sklearn.log_model` inside the same "
                   "`with mlflow.start_run()` block")
    named = [m for m in models if m.name == "model"]
    expect(named, "the run's model is not logged under the name `model` (`name=\"model\"`)")
    info = mlflow.models.get_model_info(f"models:/{named[-1].model_id}")
    expect(info.signature is not None, "the model was logged without a signature: pass "
                                       "`signature=infer_signature(...)` (Unity Catalog refuses models without one)")
    inputs = set(info.signature.inputs.input_names())
    expect(inputs == set(CHURN_FEATURES), "the signature's inputs are not the four feature columns: infer it "
                                           "from the validation features and the model's predictions")
    loaded = mlflow.pyfunc.load_model(f"models:/{named[-1].model_id}")
    predicted = np.asarray(loaded.predict(truth["X_val"])).ravel()
    expect(np.array_equal(predicted.astype(int), np.asarray(truth["val_pred"]).astype(int)),
           "the logged model does not predict like `churn_clf`: log the fitted `churn_clf` itself")


# --- Exercise 2: the best trial of a sweep --------------------------------------------------------

def penguin_split():
    """(X_train, X_val, y_train, y_val): penguin body mass from three bill and flipper measurements."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    penguins = datasets.load("penguins").dropna(subset=[*PENGUIN_FEATURES, "body_mass_g"])
    return train_test_split(penguins[PENGUIN_FEATURES], penguins["body_mass_g"], **PENGUIN_SPLIT)


def make_sweep() -> str:
    """Create (again) the sweep experiment of exercise 2 and return its id.

    Two parent runs, ``forest-search`` and ``ridge-search``, each with one nested child run per
    setting of its grid. Every child logs its parameters (``model`` and the model's settings),
    ``val_rmse`` and ``val_r2`` on the penguin validation rows; each parent logs ``model`` and the
    best ``val_rmse`` of its children. Runs of an earlier call are deleted first, so the experiment
    holds one sweep however often the cell runs.
    """
    import mlflow
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error, r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from course.tracking import artifact_root

    client = _client()
    found = mlflow.get_experiment_by_name(SWEEP_EXPERIMENT)
    if found is None:
        experiment_id = client.create_experiment(
            SWEEP_EXPERIMENT, artifact_location=(artifact_root() / SWEEP_EXPERIMENT).as_uri())
    else:
        experiment_id = found.experiment_id
        for old in client.search_runs([experiment_id], max_results=1000):
            client.delete_run(old.info.run_id)
    X_train, X_val, y_train, y_val = penguin_split()
    searches = {
        "forest": [({"n_estimators": n, "max_depth": d},
                    RandomForestRegressor(n_estimators=n, max_depth=d, random_state=0)) for n, d in FOREST_GRID],
        "ridge": [({"alpha": a}, make_pipeline(StandardScaler(), Ridge(alpha=a))) for a in RIDGE_ALPHAS],
    }
    for family, trials in searches.items():
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"{family}-search"):
            mlflow.log_param("model", family)
            scores = []
            for settings, model in trials:
                label = ", ".join(f"{k}={v}" for k, v in settings.items())
                with mlflow.start_run(experiment_id=experiment_id, run_name=f"{family} {label}", nested=True):
                    predicted = model.fit(X_train, y_train).predict(X_val)
                    scores.append(mean_squared_error(y_val, predicted) ** 0.5)
                    mlflow.log_params({"model": family, **settings})
                    mlflow.log_metrics({"val_rmse": scores[-1], "val_r2": r2_score(y_val, predicted)})
            mlflow.log_metric("val_rmse", min(scores))
    return experiment_id


def form_best_trial(best_run_id, sweep_id=None) -> None:
    expect_type(best_run_id, str, "`best_run_id` (a run id, a string)")


def _sweep_runs(sweep_id: str):
    import mlflow

    runs = mlflow.search_runs(experiment_ids=[sweep_id])
    expect(len(runs) > 0, "the sweep experiment holds no run: run the exercise set-up cell again")
    return runs.set_index("run_id")


def judge_best_trial(best_run_id, sweep_id) -> None:
    runs = _sweep_runs(sweep_id)
    run_id = best_run_id.strip()
    expect(run_id in runs.index, "`best_run_id` is not the id of a run of the sweep experiment (if you ran the "
                                 "set-up cell again, search again: it recreates the runs)")
    row = runs.loc[run_id]
    parent = row.get("tags.mlflow.parentRunId")
    expect(isinstance(parent, str) and parent != "",
           "that is a parent run: it only summarises its search and trained no model itself; pick a trial "
           "(a child run)")
    expect(row["params.model"] == "forest", "that trial is not a random forest: the team ships a forest")
    children = runs[runs["tags.mlflow.parentRunId"].notna() & (runs["params.model"] == "forest")]
    small = children[children["params.n_estimators"] == "10"]
    if row["params.n_estimators"] != "10":
        expect(not _near(row["metrics.val_rmse"], children["metrics.val_rmse"].min()),
               "that is the best forest of any size: the latency budget allows 10 trees, so filter on the "
               "`n_estimators` parameter (a string: quote its value)")
        raise CheckFailed("that forest has more than 10 trees, which the latency budget does not allow")
    expect(not _near(row["metrics.val_rmse"], small["metrics.val_rmse"].max()),
           "that is the 10-tree forest with the highest validation RMSE, the worst one: an error is better "
           "when lower, so sort ascending")
    expect(_near(row["metrics.val_rmse"], small["metrics.val_rmse"].min()),
           "that 10-tree forest does not have the lowest validation RMSE: order by `metrics.val_rmse`")


# --- Exercise 3: fix a search whose trials are not nested -------------------------------------------

def _lasso_truth() -> dict[float, tuple[float, float]]:
    """alpha -> (validation MAE, training MAE) of the lasso search."""
    from sklearn.linear_model import Lasso
    from sklearn.metrics import mean_absolute_error
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_val, y_train, y_val = penguin_split()
    truth = {}
    for alpha in LASSO_ALPHAS:
        model = make_pipeline(StandardScaler(), Lasso(alpha=alpha)).fit(X_train, y_train)
        truth[alpha] = (mean_absolute_error(y_val, model.predict(X_val)),
                        mean_absolute_error(y_train, model.predict(X_train)))
    return truth


def form_lasso_parent(lasso_parent_id) -> None:
    expect_type(lasso_parent_id, str, "`lasso_parent_id` (the parent run's id, a string)")


def judge_lasso_parent(lasso_parent_id) -> None:
    parent = _run(lasso_parent_id, "`lasso_parent_id`")
    expect("mlflow.parentRunId" not in parent.data.tags,
           "`lasso_parent_id` is itself a child run: give the id of the search's parent run")
    children = _client().search_runs([parent.info.experiment_id],
                                     filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    expect(children, "no run names this run as its parent: the trials are still top-level runs. Open each trial "
                     "with `mlflow.start_run(nested=True)` while the parent run is active (inside its `with` block)")
    alphas = sorted(_as_float(c.data.params.get("alpha")) for c in children)
    expect(len(children) == len(LASSO_ALPHAS),
           f"the parent has {len(children)} child runs: it should have one per alpha of the list")
    expect(alphas == sorted(LASSO_ALPHAS), "the child runs do not log the parameter `alpha` with the alphas of "
                                           "the list, one each")
    truth = _lasso_truth()
    for child in children:
        alpha = _as_float(child.data.params["alpha"])
        got = child.data.metrics.get("val_mae")
        expect(got is not None, f"the trial alpha={child.data.params['alpha']} has no metric `val_mae`")
        if _near(got, truth[alpha][0]):
            continue
        expect(not _near(got, truth[alpha][1]), "`val_mae` is still measured on the training rows: predict "
                                                "`pen_X_val` and compare with `pen_y_val`")
        raise CheckFailed(f"the `val_mae` of the trial alpha={child.data.params['alpha']} is not the mean absolute "
                          "error on the validation rows")


# --- Exercise 4: where in the MLflow UI? ---------------------------------------------------------

def _normal(value) -> str:
    return " ".join(str(value).strip().lower().split())


def form_ui_places(ui_place) -> None:
    expect_type(ui_place, dict, "`ui_place`")
    keys = {str(k).strip().upper() for k in ui_place}
    missing = sorted(set(UI_KEY) - keys)
    expect(not missing, f"`ui_place` has no place for question {', '.join(missing)}")
    extra = sorted(keys - set(UI_KEY))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a question of the table (A to G)")
    for key, value in ui_place.items():
        expect(_normal(value) in PLACES, f"`{value}` (question {key}) is not one of the places of the list "
                                         "(spelling counts, capitals do not)")


def judge_ui_places(ui_place) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in ui_place.items()}
    wrong = [k for k in sorted(UI_KEY) if given[k] != UI_KEY[k][0]]
    if wrong:
        more = f" ({len(wrong)} questions are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"question {wrong[0]}: `{given[wrong[0]]}` is not where you find it; "
                          f"{UI_KEY[wrong[0]][1]}{more}")


# --- Exercise 5: autologging that logged nothing ---------------------------------------------------

def price_split():
    """(X_train, X_val, y_train, y_val): listing price from five numeric columns (rows without gaps)."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    listings = datasets.load("listings").dropna(subset=PRICE_FEATURES)
    return train_test_split(listings[PRICE_FEATURES], listings["price"], **PRICE_SPLIT)


def _price_truth() -> dict:
    """The colleague's tree refitted with autologging off, and what autologging would compute for it."""
    from mlflow.utils.autologging_utils import disable_autologging
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.tree import DecisionTreeRegressor

    X_train, X_val, y_train, y_val = price_split()
    with disable_autologging():                     # the judge's own fit must not become a run
        tree = DecisionTreeRegressor(**PRICE_TREE).fit(X_train, y_train)
    train_pred, val_pred = tree.predict(X_train), tree.predict(X_val)
    mse = mean_squared_error(y_train, train_pred)
    return {"X_val": X_val, "val_pred": val_pred,
            "train_mae": mean_absolute_error(y_train, train_pred), "val_mae": mean_absolute_error(y_val, val_pred),
            "train_mse": mse, "train_rmse": mse ** 0.5, "train_r2": r2_score(y_train, train_pred)}


def form_price_autolog(price_run_id, price_train_mae) -> None:
    expect_type(price_run_id, str, "`price_run_id` (a run id: `run.info.run_id`, a string)")
    expect_type(price_train_mae, (int, float), "`price_train_mae` (a number)")


def judge_price_autolog(price_run_id, price_train_mae) -> None:
    import mlflow
    import numpy as np

    run = _run(price_run_id, "`price_run_id`")
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    autologged = "estimator_class" in tags or any(k.startswith("training_") for k in metrics)
    expect(autologged or "min_samples_leaf" not in params,
           "the tree's settings were logged by hand, so the run has none of the training metrics autologging "
           "computes: the task is to let autologging record the fit")
    expect(autologged, "the run holds nothing autologging recorded (no training metrics, no estimator tags): "
                       "autologging records only a `fit` that runs after it is switched on, into the run that "
                       "is active at that moment (and after an explicit `mlflow.sklearn.autolog` call, "
                       "`mlflow.autolog()` leaves scikit-learn's setting as it was)")
    expect(params.get("max_depth") == str(PRICE_TREE["max_depth"])
           and params.get("random_state") == str(PRICE_TREE["random_state"]),
           "the fit autologging recorded in this run is not the colleague's tree (`max_depth=6`, "
           "`random_state=0`): keep their model")
    truth = _price_truth()
    expect(_near(metrics.get("training_mean_absolute_error", math.nan), truth["train_mae"]),
           "the fit autologging recorded is not the tree trained on `price_X_train` / `price_y_train`")
    expect("val_mae" in metrics, "the run has no metric `val_mae`: keep the colleague's `log_metric` inside the run")
    if not _near(metrics["val_mae"], truth["val_mae"]):
        expect(not _near(metrics["val_mae"], truth["train_mae"]),
               "`val_mae` is measured on the training rows: predict `price_X_val`")
        raise CheckFailed("`val_mae` is not the mean absolute error of the tree on the validation rows")
    models = _logged_models(run.info.run_id)
    expect(models, "the run holds no model: `log_models=False` tells autologging to skip it, and the colleague "
                   "needs the model to register it")
    loaded = mlflow.pyfunc.load_model(f"models:/{models[-1].model_id}")
    expect(np.allclose(np.asarray(loaded.predict(truth["X_val"])).ravel(), truth["val_pred"]),
           "the model in the run does not predict like the colleague's tree")
    got = float(price_train_mae)
    if _near(got, truth["train_mae"]):
        return
    expect(not _near(got, truth["val_mae"]),
           "`price_train_mae` is the validation MAE the colleague logs by hand; the metrics autologging "
           "computes itself are measured on the training rows and named `training_...`")
    for key, what in (("train_rmse", "root mean squared error"), ("train_mse", "mean squared error"),
                      ("train_r2", "R²")):
        expect(not _near(got, truth[key]), f"`price_train_mae` is the training {what}, not the mean absolute error")
    raise CheckFailed("`price_train_mae` is not the training mean absolute error autologging recorded in the run")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: log a churn model by hand",
    syllabus=("S1.12",), names=("churn_run_id",),
    form=form_churn_run, judge=judge_churn_run,
    hints=("Everything must land in one run: open it with a `with` block and do all the logging inside it. "
           "Parameters are the model's settings, metrics are numbers it earned on rows it has not seen, "
           "a figure is an artifact, and the model itself goes in with a signature.",
           "`mlflow.log_params({...})`, `mlflow.log_metric(name, value)`, `mlflow.log_figure(fig, file_name)`, "
           "`mlflow.sklearn.log_model(model, name=..., signature=infer_signature(inputs, outputs))`; "
           "`recall_score(y_true, y_pred)` scores label 1; `run.info.run_id` is the id.",
           "`with mlflow.start_run() as run:` then `log_params(...)`, `log_metric(\"val_recall\", __)`, "
           "`fig, ax = plt.subplots()` + `ConfusionMatrixDisplay.from_predictions(__, __, ax=ax)` + "
           "`log_figure(fig, __)`, `sklearn.log_model(__, name=__, signature=__)`; after the block "
           "`churn_run_id = __`"),
    solution_code=('val_pred = churn_clf.predict(churn_X_val)\n'
                   'with mlflow.start_run(run_name="churn-logreg") as churn_run:\n'
                   '    mlflow.log_params({"C": 0.3, "class_weight": "balanced"})\n'
                   '    mlflow.log_metric("val_recall", recall_score(churn_y_val, val_pred))\n'
                   '    fig, ax = plt.subplots(figsize=(4, 4))\n'
                   '    ConfusionMatrixDisplay.from_predictions(churn_y_val, val_pred, ax=ax)\n'
                   '    mlflow.log_figure(fig, "confusion_matrix.png")\n'
                   '    plt.close(fig)\n'
                   '    mlflow.sklearn.log_model(churn_clf, name="model",\n'
                   '                             signature=infer_signature(churn_X_val, val_pred),\n'
                   '                             input_example=churn_X_val.head(3), pip_requirements=requirements)\n'
                   'churn_run_id = churn_run.info.run_id'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: the best trial under a constraint",
    syllabus=("S1.11", "D5.search-runs", "D5.nested-runs"), names=("best_run_id",),
    context=("sweep_id",), form=form_best_trial, judge=judge_best_trial,
    hints=("Three decisions: which runs qualify (trials, forests, 10 trees), in which direction the metric "
           "improves, and how many rows you keep.",
           "`mlflow.search_runs(experiment_ids=[...], filter_string=..., order_by=[...], max_results=...)` returns "
           "a pandas DataFrame with a `run_id` column; parameters are strings, so their values are quoted in "
           "filters; an RMSE is better when lower.",
           "`mlflow.search_runs(experiment_ids=[sweep_id], filter_string=\"params.__ = '__' and params.__ = '__'\", "
           "order_by=[\"metrics.__ __\"], max_results=1)`, then the `run_id` of its first row"),
    solution_code=('best = mlflow.search_runs(experiment_ids=[sweep_id],\n'
                   '                          filter_string="params.model = \'forest\' and params.n_estimators = \'10\'",\n'
                   '                          order_by=["metrics.val_rmse ASC"], max_results=1)\n'
                   'best_run_id = best.iloc[0]["run_id"]'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: nest the trials of a search",
    syllabus=("D5.nested-runs", "S1.12"), names=("lasso_parent_id",),
    form=form_lasso_parent, judge=judge_lasso_parent,
    hints=("A child run exists only while its parent is active: the loop over the trials must run inside the "
           "parent's `with` block. Then look at which rows the error is measured on.",
           "`mlflow.start_run(run_name=..., nested=True)` inside the parent's block; the parent's id is "
           "`parent.info.run_id`; `mean_absolute_error(y_true, y_pred)` on the validation rows.",
           "keep the colleague's parent block and move the loop into it: `    for alpha in [...]:` / "
           "`        with mlflow.start_run(run_name=__, nested=__):` ... `log_metric(\"val_mae\", "
           "mean_absolute_error(__, model.predict(__)))`, then `lasso_parent_id = __`"),
    solution_code=('with mlflow.start_run(run_name="lasso-search") as parent:\n'
                   '    for alpha in [1.0, 10.0, 100.0]:\n'
                   '        with mlflow.start_run(run_name=f"alpha={alpha}", nested=True):\n'
                   '            model = make_pipeline(StandardScaler(), Lasso(alpha=alpha)).fit(pen_X_train, pen_y_train)\n'
                   '            mlflow.log_param("alpha", alpha)\n'
                   '            mlflow.log_metric("val_mae", mean_absolute_error(pen_y_val, model.predict(pen_X_val)))\n'
                   'lasso_parent_id = parent.info.run_id'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: where in the MLflow UI?",
    syllabus=("S1.13", "D5.source-tracking"), names=("ui_place",),
    form=form_ui_places, judge=judge_ui_places, guessable=True,
    hints=("Ask what the thing is: a property of one run (its page), the history of one metric, a file, the "
           "logged model, a question over all runs of an experiment, or a relation across several runs.",
           "One run's page holds its parameters, tags, source and user; its metric charts show the steps; its "
           "artifacts are files; the logged model holds the signature; the runs table sorts and filters; the "
           "compare view plots parameters against metrics.",
           "`ui_place = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\", \"F\": \"__\", "
           "\"G\": \"__\"}`"),
    solution_code=('ui_place = {"A": "run overview", "B": "metric chart", "C": "compare view", "D": "runs table",\n'
                   '            "E": "logged model", "F": "artifacts", "G": "run overview"}'),
)


q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: autologging that logged nothing",
    syllabus=("D5.autolog", "S1.12"), names=("price_run_id", "price_train_mae"),
    form=form_price_autolog, judge=judge_price_autolog,
    hints=("Autologging patches `fit`: it records a fit only if it was switched on before that fit ran, and it "
           "writes into the run that is active at that moment. Then read what the colleague's options tell it to "
           "skip. The metrics it computes on its own are measured on the training rows.",
           "`mlflow.sklearn.autolog(...)` takes `log_models=` (True unless you say otherwise) and `silent=`; a "
           "run's metrics are in `MlflowClient().get_run(run_id).data.metrics`, a dict whose autologged keys "
           "start with `training_`; `mlflow.search_runs` shows them as columns `metrics.<key>`.",
           "switch autologging on (with the model) first, then the colleague's `with` block without its autolog "
           "line, then their `disable=True` line; `price_run_id = __`, then "
           "`price_train_mae = MlflowClient().get_run(__).data.metrics[\"training___\"]`"),
    solution_code=('mlflow.sklearn.autolog(silent=True)                # before fit; log_models=True is the default\n'
                   'with mlflow.start_run(run_name="price-tree") as price_run:\n'
                   '    price_tree = DecisionTreeRegressor(max_depth=6, random_state=0).fit(price_X_train, price_y_train)\n'
                   '    mlflow.log_metric("val_mae", mean_absolute_error(price_y_val, price_tree.predict(price_X_val)))\n'
                   'mlflow.sklearn.autolog(disable=True)\n'
                   'price_run_id = price_run.info.run_id\n'
                   'price_train_mae = client.get_run(price_run_id).data.metrics["training_mean_absolute_error"]'),
)
