"""Exercises of week 3, lesson 6: real-time model serving.

The lesson serves a custom churn model with ``mlflow models serve`` and splits traffic between two
versions; the exercises move the ideas to a request body for a listings pricing model, to a broken
custom pyfunc for penguins, to the traffic config of another endpoint and to an A/B comparison
of the lesson's measured split. No judge needs a running server: request bodies are parsed by the
MLflow scoring server's own parser, the custom model is saved and loaded as a server would load
it, and the A/B truth is recomputed from ``course.datasets`` with the stand-in's seeded router.
The answers each judge was written against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import json
import math

from course.checks import CheckFailed, Exercise, describe, expect

LESSON = "06-real-time-serving"
_CACHE: dict[str, object] = {}

# --- shared with the lesson: the churn demo, its split, the A/B traffic ---------------------------

CHURN_INPUTS = ["contract", "tenure_months", "monthly_charges", "support_calls"]
CONTRACT_MONTHS = {"Month-to-month": 1, "One year": 12, "Two year": 24}
AB_ROUTES = [{"served_model_name": "champion", "traffic_percentage": 80},
             {"served_model_name": "challenger", "traffic_percentage": 20}]
AB_REQUESTS = 200
AB_SEED = 6


def _memo(key, compute):
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def churn_split():
    """(train, test) of churn, as the lesson splits it."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    churn = datasets.load("churn")
    return train_test_split(churn, test_size=0.25, random_state=6, stratify=churn["churn"])


def prepare_churn(raw):
    """The features the inner models see: the contract as months, support calls per year."""
    import pandas as pd

    return pd.DataFrame({"contract_months": raw["contract"].map(CONTRACT_MONTHS),
                         "tenure_months": raw["tenure_months"],
                         "monthly_charges": raw["monthly_charges"],
                         "calls_per_year": 12 * raw["support_calls"] / raw["tenure_months"].clip(lower=1)})


def fit_churn_models():
    """{"champion": ..., "challenger": ...}: the inner scikit-learn models of the two versions."""
    def fit():
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        train, _ = churn_split()
        X = prepare_churn(train)
        return {"champion": make_pipeline(StandardScaler(), LogisticRegression(C=0.01)).fit(
                    X[["tenure_months", "monthly_charges"]], train["churn"]),
                "challenger": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, train["churn"])}
    return _memo("churn-models", fit)


def ab_requests():
    """The held-out customers sent to the endpoint, one request each, and their true labels."""
    _, test = churn_split()
    return test.head(AB_REQUESTS).reset_index(drop=True)


def _ab_truth() -> dict[str, float]:
    def compute():
        from course.standins.serving import split_requests

        rows = ab_requests()
        models = fit_churn_models()
        X = prepare_churn(rows)
        served = split_requests(AB_ROUTES, len(rows), AB_SEED)
        hits: dict[str, list[bool]] = {}
        for i, name in enumerate(served):
            columns = list(models[name].feature_names_in_)
            label = int(models[name].predict_proba(X.iloc[[i]][columns])[0, 1] >= 0.5)
            hits.setdefault(name, []).append(label == int(rows["churn"].iloc[i]))
        return {name: sum(h) / len(h) for name, h in hits.items()}
    return _memo("ab-truth", compute)


# --- Exercise 1: request bodies for the pricing endpoint -------------------------------------------

PRICE_INPUTS = ["room_type", "accommodates", "bedrooms", "bathrooms", "minimum_nights"]


def new_listings():
    """Four listings to price (complete rows of the listings table), as the endpoint receives them."""
    from course import datasets

    listings = datasets.load("listings").dropna(subset=PRICE_INPUTS)
    return listings.iloc[[17, 230, 1999, 4321]][PRICE_INPUTS].reset_index(drop=True)


def _parse(body, fmt: str, what: str):
    import pandas as pd
    from mlflow.models import infer_signature
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    if isinstance(body, (str, bytes)):
        raise CheckFailed(f"`{what}` is JSON text: `client.predict(inputs=...)` and `requests.post(json=...)` take "
                          "the dict itself")
    expect(isinstance(body, dict), f"expected `{what}` to be a dict (the request body); got {describe(body)}")
    try:
        sent = json.loads(json.dumps(body))
    except (TypeError, ValueError) as error:
        raise CheckFailed(f"`{what}` cannot be sent as JSON ({str(error)[:80]}): use plain Python values, e.g. "
                          "what `DataFrame.to_dict(...)` returns") from None
    keys = sorted(sent)
    if fmt not in sent:
        known = [k for k in keys if k in ("dataframe_split", "dataframe_records", "instances", "inputs")]
        if known:
            raise CheckFailed(f"`{what}` uses the `{known[0]}` format; this one asks for `{fmt}`")
        raise CheckFailed(f"`{what}` has the keys {keys}: a scoring server wants exactly one of `dataframe_split`, "
                          "`dataframe_records`, `instances` or `inputs` at the top (the bare `columns`/`data` body "
                          "is MLflow 1's format)")
    expect(len(sent) == 1, f"`{what}` has more keys than `{fmt}`: {keys}")
    truth = new_listings()
    try:
        parsed = infer_and_parse_data(sent, infer_signature(truth).inputs)
    except Exception as error:
        raise CheckFailed(f"the scoring server cannot parse `{what}`: {str(error).splitlines()[0][:160]}") from None
    expect(isinstance(parsed, pd.DataFrame), f"`{what}` does not parse to a table of rows")
    missing = [c for c in PRICE_INPUTS if c not in parsed.columns]
    expect(not missing, f"the rows of `{what}` have no column {', '.join(f'`{c}`' for c in missing)}")
    extra = [c for c in parsed.columns if c not in PRICE_INPUTS]
    expect(not extra, f"`{what}` sends columns the model does not take: {extra}")
    expect(len(parsed) == len(truth), f"`{what}` holds {len(parsed)} rows; `new_listings` has {len(truth)}")
    got = parsed[PRICE_INPUTS].reset_index(drop=True)
    same = all(list(got[c]) == list(truth[c]) for c in PRICE_INPUTS)
    if not same:
        same_rows = sorted(map(tuple, got.astype(str).values)) == sorted(map(tuple, truth.astype(str).values))
        expect(not same_rows, f"`{what}` holds the right rows in another order: predictions come back in request "
                              "order, so keep the rows of `new_listings` in order")
        raise CheckFailed(f"the rows of `{what}` are not the rows of `new_listings` (a value went to the wrong column?)")


def form_bodies(split_body, records_body) -> None:
    for body, what in ((split_body, "split_body"), (records_body, "records_body")):
        expect(isinstance(body, (dict, str, bytes)), f"expected `{what}` to be a dict (the request body); got {describe(body)}")


def judge_bodies(split_body, records_body) -> None:
    _parse(split_body, "dataframe_split", "split_body")
    records = records_body.get("dataframe_records") if isinstance(records_body, dict) else None
    if isinstance(records, dict):
        raise CheckFailed("`records_body['dataframe_records']` is a dict of columns; the records format is a list "
                          "with one dict per row")
    _parse(records_body, "dataframe_records", "records_body")


# --- Exercise 2: fix a custom pyfunc ---------------------------------------------------------------

PENGUIN_INPUTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUIN_FEATURES = ["bill_ratio", "flipper_length_mm", "body_mass_kg"]


def penguin_split():
    """(train, holdout) of the complete penguin rows."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    penguins = datasets.load("penguins").dropna(subset=PENGUIN_INPUTS)
    return train_test_split(penguins, test_size=0.3, random_state=6, stratify=penguins["species"])


def prepare_penguins(raw):
    """The features `penguin_inner` was trained on."""
    import pandas as pd

    return pd.DataFrame({"bill_ratio": raw["bill_length_mm"] / raw["bill_depth_mm"],
                         "flipper_length_mm": raw["flipper_length_mm"],
                         "body_mass_kg": raw["body_mass_g"] / 1000})


def fit_penguin_inner():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, _ = penguin_split()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        prepare_penguins(train), train["species"])


def _penguin_truth():
    def compute():
        _, holdout = penguin_split()
        model = fit_penguin_inner()
        proba = model.predict_proba(prepare_penguins(holdout))
        return holdout[PENGUIN_INPUTS].reset_index(drop=True), model.classes_[proba.argmax(axis=1)], proba.max(axis=1)
    return _memo("penguin-truth", compute)


def form_scorer(penguin_scorer) -> None:
    import mlflow

    expect(isinstance(penguin_scorer, mlflow.pyfunc.PythonModel),
           f"expected `penguin_scorer` to be an instance of your mlflow.pyfunc.PythonModel class; got {describe(penguin_scorer)}")


def served_predictions(model, rows):
    """What a scoring server answers: the model saved, loaded back as a pyfunc, predict on raw rows."""
    import tempfile
    from pathlib import Path

    import logging
    import warnings

    import mlflow

    quiet = logging.getLogger("mlflow")
    level = quiet.level
    quiet.setLevel(logging.ERROR)      # nothing on stderr: nbgrader gives a cell that writes there no points
    try:
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = Path(folder) / "model"
            mlflow.pyfunc.save_model(path, python_model=model, pip_requirements=["scikit-learn"])
            return mlflow.pyfunc.load_model(str(path)).predict(rows.copy())
    finally:
        quiet.setLevel(level)


def judge_scorer(penguin_scorer) -> None:
    import numpy as np
    import pandas as pd

    rows, species, probability = _penguin_truth()
    try:
        got = served_predictions(penguin_scorer, rows)
    except Exception as error:
        text = str(error).splitlines()[0][:140] if str(error) else type(error).__name__
        raise CheckFailed("saved and loaded as a server loads it, your model fails on the raw columns the endpoint "
                          f"receives ({type(error).__name__}: {text})") from None
    expect(isinstance(got, pd.DataFrame), f"`predict` should return a pandas DataFrame; it returned {describe(got)}")
    expect({"species", "probability"} <= set(got.columns),
           f"the returned DataFrame should have the columns `species` and `probability`; it has {list(got.columns)}")
    expect(len(got) == len(rows), "`predict` should return one row per input row")
    if list(got["species"]) != list(species):
        raise CheckFailed("the predicted species differ from the model's on held-out penguins: are the features "
                          "derived exactly as `prepare_penguins` derives them, from the raw columns?")
    values = np.asarray(got["probability"], dtype=float)
    if not np.allclose(values, probability, atol=1e-6):
        raise CheckFailed("`probability` is not the probability of the predicted species (the largest of "
                          "`predict_proba`'s row)")


# --- Exercise 3: a traffic config for the pricing endpoint ----------------------------------------

PRICE_MODEL = "main.pricing.listing_price"


def form_price_config(price_config) -> None:
    expect(isinstance(price_config, dict), f"expected `price_config` to be a dict; got {describe(price_config)}")
    expect(isinstance(price_config.get("served_entities"), list),
           "`price_config` needs a list `served_entities`")
    traffic = price_config.get("traffic_config")
    expect(isinstance(traffic, dict) and isinstance(traffic.get("routes"), list),
           "`price_config` needs `traffic_config` with a list `routes`")
    for entity in price_config["served_entities"]:
        expect(isinstance(entity, dict), "each served entity is a dict")
    for route in traffic["routes"]:
        expect(isinstance(route, dict) and {"served_model_name", "traffic_percentage"} <= set(route),
               "each route is a dict with `served_model_name` and `traffic_percentage`")


def judge_price_config(price_config) -> None:
    from course.standins.serving import ServingError, validate_config

    entities = price_config["served_entities"]
    for entity in entities:
        if "model_name" in entity or "model_version" in entity:
            raise CheckFailed("`model_name`/`model_version` belong to the legacy `served_models`; a served entity "
                              "has `entity_name` and `entity_version`")
    try:
        config = validate_config(price_config)
    except ServingError as error:
        raise CheckFailed(f"Databricks would refuse this config: {error}") from None
    by_name = {e["name"]: e for e in config["served_entities"]}
    expect(set(by_name) == {"current", "candidate"},
           f"the served entities should be named `current` and `candidate`; they are {sorted(by_name)}")
    for entity in by_name.values():
        expect(entity["entity_name"] == PRICE_MODEL,
               f"`entity_name` should be the registered model's three-level name `{PRICE_MODEL}`")
    expect(by_name["current"]["entity_version"] == "7" and by_name["candidate"]["entity_version"] == "8",
           "the served entities do not serve the versions the brief names (the candidate is the new version)")
    expect(all(e["workload_size"] == "Small" for e in by_name.values()), "both entities should be `Small`")
    expect(all(e["scale_to_zero_enabled"] is False for e in by_name.values()),
           "a checkout page cannot wait for a cold start: scale to zero must be off on both entities")
    share = {r["served_model_name"]: r["traffic_percentage"] for r in config["traffic_config"]["routes"]}
    expect(len(config["traffic_config"]["routes"]) == 2, "one route per served entity")
    if share.get("candidate") == 85:
        raise CheckFailed("the shares are swapped: the new version should get the small share")
    expect(share == {"current": 85, "candidate": 15}, "the routes do not give the candidate the share the brief asks for")


# --- Exercise 4: read the A/B split ------------------------------------------------------------------

def form_ab(ab_accuracy, split_log=None) -> None:
    expect(isinstance(ab_accuracy, dict) or hasattr(ab_accuracy, "to_dict"),
           f"expected `ab_accuracy` to be a dict (served model -> accuracy); got {describe(ab_accuracy)}")


def judge_ab(ab_accuracy, split_log) -> None:
    got = ab_accuracy.to_dict() if hasattr(ab_accuracy, "to_dict") else dict(ab_accuracy)
    got = {str(k): v for k, v in got.items()}
    truth = _ab_truth()
    expect(set(got) == set(truth), f"`ab_accuracy` should have one entry per served model ({', '.join(sorted(truth))})")
    try:
        values = {k: float(v) for k, v in got.items()}
    except (TypeError, ValueError):
        raise CheckFailed("the accuracies should be numbers") from None
    if any(v > 1 for v in values.values()):
        raise CheckFailed("an accuracy is a share between 0 and 1, not a count or a percentage")
    rows = ab_requests()
    from course.standins.serving import split_requests

    served = split_requests(AB_ROUTES, len(rows), AB_SEED)
    counts = {k: served.count(k) / len(served) for k in truth}
    if all(math.isclose(values[k], counts[k], abs_tol=1e-9) for k in truth):
        raise CheckFailed("those are the shares of traffic each model answered, not how often it was right")
    if all(math.isclose(values[k], truth[k], abs_tol=1e-9) for k in truth):
        return
    same = len(set(round(v, 9) for v in values.values())) == 1
    expect(not same, "both models get the same value: compute the accuracy separately on the requests each one answered")
    raise CheckFailed("not the share of correct predictions among the requests each served model answered "
                      "(compare its `prediction` with the customer's true `churn`)")


# --- the exercises -------------------------------------------------------------------------------

q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: request bodies for the pricing endpoint",
    syllabus=("S4.05",), names=("split_body", "records_body"), form=form_bodies, judge=judge_bodies,
    hints=("A request body is a dict with exactly one top-level key that names its format; inside it, the rows. "
           "The split format sends the column names once and the rows as lists; the records format sends one "
           "dict per row.",
           "pandas writes both layouts for you: `DataFrame.to_dict(orient=...)` with `\"split\"` or `\"records\"`. "
           "Wrap each in the key of its format.",
           "`split_body = {\"<format key>\": new_listings.to_dict(orient=...)}`, and the same shape for "
           "`records_body`."),
    solution_code='split_body = {"dataframe_split": new_listings.to_dict(orient="split")}\n'
                  'records_body = {"dataframe_records": new_listings.to_dict(orient="records")}')

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix the penguin pyfunc",
    syllabus=("S4.02", "D4.register"), names=("penguin_scorer",), form=form_scorer, judge=judge_scorer,
    hints=("An endpoint sends the raw columns a client knows; everything the inner model needs on top must happen "
           "inside `predict`, or the served model breaks (or silently predicts from the wrong numbers).",
           "Call the feature preparation on `model_input` inside `predict`, then `predict_proba` on its result; "
           "the class with the largest probability is `classes_[argmax]`, its probability the row's maximum.",
           "In `predict`: `X = <prepare>(model_input)`, then `proba = <inner model>.predict_proba(X)`, then return "
           "`pd.DataFrame({\"species\": ..., \"probability\": ...})`; build `penguin_scorer` again from the fixed "
           "class."),
    solution_code='''class PenguinScorer(mlflow.pyfunc.PythonModel):
    def __init__(self, model):
        self.model = model

    def predict(self, context, model_input, params=None):
        X = prepare_penguins(model_input)
        proba = self.model.predict_proba(X)
        return pd.DataFrame({"species": self.model.classes_[proba.argmax(axis=1)],
                             "probability": proba.max(axis=1)})

penguin_scorer = PenguinScorer(penguin_inner)''')

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: a canary for the pricing endpoint",
    syllabus=("S4.06", "S4.05"), names=("price_config",), form=form_price_config, judge=judge_price_config,
    guessable=True,
    hints=("An endpoint config has two parts: the served entities (which model version runs, under which name, "
           "on what capacity) and the traffic config (which share of requests each named entity gets).",
           "Each served entity has `name`, `entity_name`, `entity_version`, `workload_size`, `scale_to_zero_enabled`; "
           "each route has `served_model_name` and an integer `traffic_percentage`; the routes add up to 100.",
           "`price_config = dict(served_entities=[<current>, <candidate>], traffic_config=dict(routes=[<route>, "
           "<route>]))`, each <...> a dict of the keys above"),
    solution_code='''price_config = {
    "served_entities": [
        {"name": "current", "entity_name": "main.pricing.listing_price", "entity_version": "7",
         "workload_size": "Small", "scale_to_zero_enabled": False},
        {"name": "candidate", "entity_name": "main.pricing.listing_price", "entity_version": "8",
         "workload_size": "Small", "scale_to_zero_enabled": False}],
    "traffic_config": {"routes": [
        {"served_model_name": "current", "traffic_percentage": 85},
        {"served_model_name": "candidate", "traffic_percentage": 15}]}}''')

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: who won the A/B split?",
    syllabus=("S4.06",), names=("ab_accuracy",), form=form_ab, judge=judge_ab, context=("split_log",),
    hints=("A traffic split is an experiment: each served model answered its own share of the requests, so each "
           "one is scored on those requests only.",
           "Group `split_log` by `served_model` and take the mean of a boolean column that says whether the "
           "prediction equals the true label.",
           "`(split_log[\"prediction\"] == split_log[...]).groupby(split_log[...]).mean().to_dict()`"),
    solution_code='''ab_accuracy = (split_log.assign(correct=split_log["prediction"] == split_log["churn"])
               .groupby("served_model")["correct"].mean().to_dict())''')
