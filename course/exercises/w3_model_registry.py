"""Exercises of week 3, lesson 3: the model registry, the Unity Catalog way.

The lesson's demos register, tag, alias and promote a churn model; the exercises move the ideas to
a breast-cancer screening model registered with the client API, to a promotion routine judged on
diabetes models the page never registers, to broken stage-based code for a penguin classifier and
to scenarios about Unity Catalog and deployment patterns. Every judge reads the course's local
MLflow registry and recomputes the truth from ``course.datasets``: versions are looked up by what
the learner did (the ModelVersion they hold, the aliases they set), never by a fixed number, so a
lesson run twice (new versions each time) is judged the same way. The answers each judge was
written against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import uuid

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "03-model-registry"
CANCER_MODEL = "registry_lesson_cancer"
CANCER_SPLIT = {"test_size": 0.25, "random_state": 7}          # stratified on target
DIABETES_SPLIT = {"test_size": 0.25, "random_state": 3}
PENGUIN_MODEL = "registry_lesson_penguins"
PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
TRUSTED = ["sklearn.tree._tree.Tree"]   # skops, MLflow 3's default format, loads a tree only when trusted
_CACHE: dict[str, object] = {}


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def _memo(key, compute):
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _requirements() -> list[str]:
    import sklearn

    return [f"scikit-learn=={sklearn.__version__}"]


# --- Exercise 1: register a screening model with the client API ---------------------------------

def cancer_split():
    """(train, test) of breast_cancer, as the lesson splits it."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    cancer = datasets.load("breast_cancer")
    return train_test_split(cancer, stratify=cancer["target"], **CANCER_SPLIT)


def _cancer_reference():
    def fit():
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        train, test = cancer_split()
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train.drop(columns="target"), train["target"])
        features = test.drop(columns="target")
        return features, model.predict(features)
    return _memo("cancer", fit)


def form_cancer(cancer_version) -> None:
    from mlflow.entities.model_registry import ModelVersion

    expect_type(cancer_version, ModelVersion,
                "`cancer_version` (what `create_model_version` or `mlflow.register_model` returns)")


def judge_cancer(cancer_version) -> None:
    import mlflow
    import numpy as np

    client = _client()
    expect(cancer_version.name == CANCER_MODEL,
           f"that version belongs to `{cancer_version.name}`: register it under the name `CANCER_MODEL` holds")
    try:
        stored = client.get_model_version(CANCER_MODEL, cancer_version.version)
    except Exception:
        raise CheckFailed("that version is no longer in the registry: register the model again") from None
    uri = f"models:/{CANCER_MODEL}/{stored.version}"
    try:
        model = mlflow.sklearn.load_model(uri)
    except Exception:
        raise CheckFailed(
            f"version {stored.version} points at `{stored.source}`, where no model is stored: in MLflow 3 a "
            "model logged with `name=` lives in the logged model (the `model_uri` that `log_model` returns), "
            "and `create_model_version` takes its source literally") from None
    features, truth = _cancer_reference()
    try:
        same = np.array_equal(np.asarray(model.predict(features)), truth)
    except Exception:
        same = False
    expect(same, f"version {stored.version} does not hold `cancer_model`: it predicts other classes for the "
                 "test tumours (was another model logged?)")
    expect(mlflow.models.get_model_info(uri).signature is not None,
           "the logged model has no signature, and Unity Catalog refuses such a version: log it with "
           "`signature=` (or an `input_example`)")
    expect(stored.run_id and client.get_run(stored.run_id) is not None,
           "the version is not linked to the run that logged the model")
    tags = stored.tags
    if tags.get("task") != "screening":
        expect(client.get_run(stored.run_id).data.tags.get("task") != "screening",
               "`task` is a tag of the run (`mlflow.set_tag`), not of the model version")
        expect(client.get_registered_model(CANCER_MODEL).tags.get("task") != "screening",
               "`task` is set on the registered model; the brief wants it on this version only "
               "(`set_model_version_tag`)")
        raise CheckFailed("the version has no tag `task` with the value `screening`")
    expect(tags.get("owner") is None,
           "`owner` describes the whole registered model, not one version: `set_registered_model_tag`")
    expect(client.get_registered_model(CANCER_MODEL).tags.get("owner") == "oncology-ml",
           "the registered model has no tag `owner` with the value `oncology-ml`")


# --- Exercise 2: promote the challenger only when it wins -----------------------------------------

def diabetes_split():
    """(X_train, X_test, y_train, y_test) of diabetes, as the lesson splits it."""
    from sklearn.model_selection import train_test_split

    from course import datasets

    diabetes = datasets.load("diabetes")
    return train_test_split(diabetes.drop(columns="target"), diabetes["target"], **DIABETES_SPLIT)


def diabetes_candidates():
    """Three fitted regressors on the training rows: an unpruned tree (perfect on its training rows,
    poor on new ones), a linear model on two columns, and a linear model on all ten."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeRegressor

    X_train, _, y_train, _ = diabetes_split()
    return {"tree": DecisionTreeRegressor(random_state=0).fit(X_train, y_train),
            "two_columns": make_pipeline(make_column_transformer(("passthrough", ["bmi", "bp"])),
                                         LinearRegression()).fit(X_train, y_train),
            "linear": LinearRegression().fit(X_train, y_train)}


def _logged_candidates() -> dict[str, str]:
    """The three candidates logged once per session (model URIs), to build fresh registered models from."""
    def log():
        import mlflow
        from mlflow.models import infer_signature

        X_train = diabetes_split()[0]
        uris = {}
        for kind, model in diabetes_candidates().items():
            with mlflow.start_run(run_name=f"registry-check-{kind}"):
                info = mlflow.sklearn.log_model(model, name="model", pip_requirements=_requirements(),
                                                skops_trusted_types=TRUSTED,
                                                signature=infer_signature(X_train, model.predict(X_train)))
            uris[kind] = info.model_uri
        return uris
    return _memo("diabetes-candidates", log)


# champion kind, challenger kind, should the challenger be promoted (lower held-out RMSE)?
SCENARIOS = {"overfit champion": ("tree", "linear", True),
             "overfit challenger": ("linear", "tree", False),
             "better everywhere": ("two_columns", "linear", True)}


def _run_scenario(promote, champion: str, challenger: str) -> dict:
    """Register a fresh model with two versions, call the learner's function, report what it did."""
    client = _client()
    uris = _logged_candidates()
    name = f"registry_lesson_check_{uuid.uuid4().hex[:10]}"
    client.create_registered_model(name)
    try:
        old = client.create_model_version(name, uris[champion]).version
        new = client.create_model_version(name, uris[challenger]).version
        client.set_registered_model_alias(name, "champion", old)
        client.set_registered_model_alias(name, "challenger", new)
        _, X_test, _, y_test = diabetes_split()
        returned = promote(name, X_test.copy(), y_test.copy())
        versions = {int(v.version): v for v in client.search_model_versions(f"name = '{name}'")}
        return {"old": int(old), "new": int(new), "returned": returned, "versions": versions,
                "aliases": {a: int(v) for a, v in client.get_registered_model(name).aliases.items()}}
    finally:
        client.delete_registered_model(name)


def form_promote(promote_if_better) -> None:
    import inspect

    expect(callable(promote_if_better), f"expected `promote_if_better` to be a function; got {describe(promote_if_better)}")
    try:
        inspect.signature(promote_if_better).bind("a_model", None, None)
    except TypeError:
        raise CheckFailed("`promote_if_better` should take three arguments: (model_name, X_holdout, y_holdout)") from None


def judge_promote(promote_if_better) -> None:
    outcomes = {}
    for label, (champion, challenger, wins) in SCENARIOS.items():
        try:
            outcomes[label] = _run_scenario(promote_if_better, champion, challenger)
        except CheckFailed:
            raise
        except Exception as exc:
            raise CheckFailed(f"your function raised {type(exc).__name__} on a fresh registered model with a "
                              f"champion and a challenger: {str(exc)[:160]}") from None
    for label, outcome in outcomes.items():
        expect(outcome["old"] in outcome["versions"] and outcome["new"] in outcome["versions"],
               "your function deleted a model version: keep the old champion, it is what you roll back to")
    promoted = {label: o["aliases"].get("champion") == o["new"] for label, o in outcomes.items()}
    if promoted == {label: wins for label, (_, _, wins) in SCENARIOS.items()}:
        for label, outcome in outcomes.items():
            if promoted[label]:
                expect("challenger" not in outcome["aliases"],
                       "after a promotion the `challenger` alias is still set: remove it, so the slot is free "
                       "for the next candidate")
                expect(outcome["returned"] is True or outcome["returned"] == True,  # noqa: E712 (numpy bools)
                       "your function promoted the challenger but did not return True")
            else:
                expect(outcome["aliases"] == {"champion": outcome["old"], "challenger": outcome["new"]},
                       "when the challenger loses, both aliases should stay where they were")
                expect(outcome["returned"] is False or outcome["returned"] == False,  # noqa: E712
                       "your function kept the champion but did not return False")
        return
    if not any(promoted.values()):
        staged = any(o["versions"][o["new"]].current_stage == "Production" for o in outcomes.values())
        expect(not staged, "your function moves a stage, which is deprecated and does not exist in Unity Catalog: "
                           "move the `champion` alias instead")
        raise CheckFailed("the champion alias never moves, even when the challenger has the lower RMSE on the "
                          "held-out rows: point `champion` at the challenger's version")
    expect(not all(promoted.values()), "your function promotes every challenger, also one with a higher RMSE on the "
                                       "held-out rows: compare before moving the alias")
    expect(not (promoted["overfit challenger"] and promoted["better everywhere"]),
           "your function compares the models on their training rows, where an unpruned tree looks perfect: "
           "score both on the held-out rows it is given")
    expect(not (promoted["overfit challenger"] and not promoted["better everywhere"]),
           "your function promotes the model with the higher RMSE: for an error, lower is better")
    raise CheckFailed("your function does not promote exactly the challengers with the lower RMSE on the held-out rows")


# --- Exercise 3: from stages to aliases -----------------------------------------------------------

def penguin_rows():
    """The 20 penguins the lesson scores (the last complete rows of the table)."""
    from course import datasets

    return datasets.load("penguins").dropna(subset=PENGUIN_FEATURES).tail(20)[PENGUIN_FEATURES]


def form_penguins(penguin_uri, penguin_predictions, new_penguin_version) -> None:
    expect(isinstance(penguin_uri, str), f"expected `penguin_uri` to be a string; got {describe(penguin_uri)}")
    expect(hasattr(penguin_predictions, "__len__") and len(penguin_predictions) == 20,
           "expected `penguin_predictions` to hold one prediction for each of the 20 rows of `penguin_new`")


def _normal_uri(uri: str) -> str:
    return uri.strip().replace(" ", "")


def judge_penguins(penguin_uri, penguin_predictions, new_penguin_version) -> None:
    import mlflow
    import numpy as np

    client = _client()
    version = str(new_penguin_version)
    registered = client.get_registered_model(PENGUIN_MODEL)
    aliases = {a: str(v) for a, v in registered.aliases.items()}
    stored = client.get_model_version(PENGUIN_MODEL, version)
    if aliases.get("champion") != version:
        expect(stored.current_stage != "Production",
               "the validated version was moved to the Production stage, which is deprecated and does not exist "
               "in Unity Catalog: point the `champion` alias at it instead")
        raise CheckFailed("the `champion` alias does not point at the validated version (`new_penguin_version`)")
    expect("challenger" not in aliases,
           f"the `challenger` alias still points at version {aliases.get('challenger')}: the brief asks to remove it")
    tag = stored.tags.get("awaiting_review")
    expect(tag != "None", "setting a tag to None stores the text 'None'; a tag is removed with "
                          "`delete_model_version_tag`")
    expect(tag is None, "the validated version still carries the tag `awaiting_review`")
    uri = _normal_uri(penguin_uri)
    expect(not uri.endswith(("/Production", "/production")),
           "`penguin_uri` loads a stage: stages are deprecated, and Unity Catalog has none")
    expect(uri != f"models:/{PENGUIN_MODEL}/{version}",
           "`penguin_uri` pins a version number, so the scoring job would need a code change at every "
           "promotion: load through the alias")
    expect(uri == f"models:/{PENGUIN_MODEL}@champion",
           "`penguin_uri` is not the URI that loads whichever version holds the `champion` alias")
    truth = mlflow.pyfunc.load_model(f"models:/{PENGUIN_MODEL}/{version}").predict(penguin_rows())
    expect(np.array_equal(np.asarray(penguin_predictions).ravel(), np.asarray(truth).ravel()),
           "`penguin_predictions` are not the champion's predictions for the rows of `penguin_new`")


# --- Exercise 4: Unity Catalog and deployment patterns --------------------------------------------

UC_STATEMENTS = "ABCDEF"
UC_KEY = {"A", "C", "E"}
UC_WHY_WRONG = {
    "B": "Unity Catalog has no stages; aliases such as champion and challenger replace them",
    "D": "Unity Catalog refuses a model version without a signature; the workspace registry accepted one",
    "F": "a Unity Catalog model lives in the metastore, shared by every workspace attached to it: "
         "`main.ml.churn` names one model for all of them",
}
UC_WHY_MISSING = {
    "A": "a statement about using one model from several workspaces is true",
    "C": "a statement about how access to a model is granted is true",
    "E": "a statement about what Unity Catalog records around a model version is true",
}
PATTERNS = {"P": "code", "Q": "models", "R": "models", "S": "code"}


def _letters(value) -> set[str]:
    return {str(x).strip().upper() for x in value}


def _pattern(value) -> str:
    text = str(value).strip().lower()
    return "code" if text in {"code", "deploy code"} else "models" if text in {"models", "model", "deploy models"} else text


def form_registry(uc_true, deploy_pattern) -> None:
    expect_type(uc_true, (set, frozenset), "`uc_true`")
    unknown = sorted(_letters(uc_true) - set(UC_STATEMENTS))
    expect(not unknown, f"{unknown} are not statement letters: use the letters A to F")
    expect_type(deploy_pattern, dict, "`deploy_pattern`")
    keys = {str(k).strip().upper() for k in deploy_pattern}
    missing = sorted(set(PATTERNS) - keys)
    expect(not missing, f"`deploy_pattern` has no answer for scenario {', '.join(missing)}")
    odd = sorted(str(v) for v in deploy_pattern.values() if _pattern(v) not in {"code", "models"})
    if odd:
        raise CheckFailed(f"answer each scenario with \"code\" or \"models\"; got {odd[0]!r}")


def judge_registry(uc_true, deploy_pattern) -> None:
    expect_choice(_letters(uc_true), UC_KEY, UC_WHY_WRONG, UC_WHY_MISSING, "`uc_true`")
    given = {str(k).strip().upper(): _pattern(v) for k, v in deploy_pattern.items()}
    for letter, right in PATTERNS.items():
        if given.get(letter) != right:
            raise CheckFailed(f"scenario {letter} is not a case for deploying {given.get(letter)}: "
                              f"re-read which of its constraints the comparison table in section 7 names")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: register a screening model with the client API",
    syllabus=("D4.register", "S1.14", "S1.17", "S1.15"), names=("cancer_version",),
    form=form_cancer, judge=judge_cancer,
    hints=("Three steps: log the fitted model in a run (with a signature, as Unity Catalog demands), make sure the "
           "registered model exists, then add a version that points at the logged model and tag it.",
           "`mlflow.sklearn.log_model(..., name=\"model\", signature=..., pip_requirements=REQUIREMENTS)` returns a "
           "ModelInfo whose `model_uri` is the source to register; `MlflowClient` has `create_registered_model`, "
           "`create_model_version(name, source, run_id)`, `set_model_version_tag` and `set_registered_model_tag`.",
           "with mlflow.start_run() as run:\n    info = <log cancer_model with a signature>\n"
           "<create CANCER_MODEL only if search_registered_models finds no such name>\n"
           "cancer_version = client.create_model_version(CANCER_MODEL, source=<the logged model's URI>, run_id=<...>)\n"
           "<one tag on the version, one on the registered model>"),
    solution_code=(
        'with mlflow.start_run(run_name="cancer-screening") as run:\n'
        '    cancer_info = mlflow.sklearn.log_model(\n'
        '        cancer_model, name="model", pip_requirements=REQUIREMENTS,\n'
        '        signature=infer_signature(cancer_X_train, cancer_model.predict(cancer_X_train)))\n'
        'if not client.search_registered_models(filter_string=f"name = \'{CANCER_MODEL}\'"):\n'
        '    client.create_registered_model(CANCER_MODEL)\n'
        'cancer_version = client.create_model_version(CANCER_MODEL, source=cancer_info.model_uri,\n'
        '                                             run_id=run.info.run_id)\n'
        'client.set_model_version_tag(CANCER_MODEL, cancer_version.version, "task", "screening")\n'
        'client.set_registered_model_tag(CANCER_MODEL, "owner", "oncology-ml")'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: promote the challenger only when it wins",
    syllabus=("S1.18", "D4.stages", "D4.register"), names=("promote_if_better",),
    form=form_promote, judge=judge_promote,
    hints=("Load both versions through their aliases, score both on the same held-out rows you are given, and "
           "move the alias only when the challenger's error is lower. Never delete a version.",
           "`mlflow.pyfunc.load_model(f\"models:/{model_name}@...\")`, `root_mean_squared_error` from "
           "sklearn.metrics, `client.get_model_version_by_alias`, `client.set_registered_model_alias` and "
           "`client.delete_registered_model_alias`.",
           "Inside the function, in order:\n"
           "    <the RMSE of each alias's model on X_holdout, y_holdout>\n"
           "    if <the challenger's RMSE is lower>:\n"
           "        <champion -> the challenger's version; drop the challenger alias>\n"
           "        <report True>\n"
           "    <otherwise report False, having changed nothing>"),
    solution_code=(
        'def promote_if_better(model_name, X_holdout, y_holdout):\n'
        '    rmse = {alias: root_mean_squared_error(\n'
        '                y_holdout, mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}").predict(X_holdout))\n'
        '            for alias in ("champion", "challenger")}\n'
        '    if rmse["challenger"] < rmse["champion"]:\n'
        '        challenger = client.get_model_version_by_alias(model_name, "challenger")\n'
        '        client.set_registered_model_alias(model_name, "champion", challenger.version)\n'
        '        client.delete_registered_model_alias(model_name, "challenger")\n'
        '        return True\n'
        '    return False'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: from stages to aliases",
    syllabus=("D4.stages", "S1.18", "S1.17"), names=("penguin_uri", "penguin_predictions"),
    context=("new_penguin_version",), form=form_penguins, judge=judge_penguins,
    hints=("Four things change: the stage becomes an alias, the leftover alias goes, the tag is deleted (not set to "
           "an empty value), and the job loads the model through the alias.",
           "`set_registered_model_alias(name, alias, version)`, `delete_registered_model_alias(name, alias)`, "
           "`delete_model_version_tag(name, version, key)`; an alias URI reads `models:/<name>@<alias>`.",
           "client.<move champion to new_penguin_version>\nclient.<remove the challenger alias>\n"
           "client.<delete the awaiting_review tag of new_penguin_version>\n"
           "penguin_uri = <the alias URI>\npenguin_predictions = mlflow.pyfunc.load_model(...).predict(penguin_new)"),
    solution_code=(
        'client.set_registered_model_alias(PENGUIN_MODEL, "champion", new_penguin_version)\n'
        'client.delete_registered_model_alias(PENGUIN_MODEL, "challenger")\n'
        'client.delete_model_version_tag(PENGUIN_MODEL, new_penguin_version, "awaiting_review")\n'
        'penguin_uri = f"models:/{PENGUIN_MODEL}@champion"\n'
        'penguin_predictions = mlflow.pyfunc.load_model(penguin_uri).predict(penguin_new)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: Unity Catalog, and what to promote",
    syllabus=("S1.15", "S1.16", "D4.register"), names=("uc_true", "deploy_pattern"),
    form=form_registry, judge=judge_registry, guessable=True,
    hints=("For the statements, compare a registry that lives in one workspace with one that lives in the "
           "metastore next to your tables. For the scenarios, ask what cannot be repeated or reached.",
           "Sections 2 and 8 list what Unity Catalog adds and what it drops; section 7's table says when the code "
           "moves and when the model does (restricted production data, automated retraining, cost of training, "
           "one workspace without CI/CD).",
           "uc_true = {<the letters of the true statements>}\n"
           "deploy_pattern = {\"P\": \"code or models\", \"Q\": \"...\", \"R\": \"...\", \"S\": \"...\"}"),
    solution_code=('uc_true = {"A", "C", "E"}\n'
                   'deploy_pattern = {"P": "code", "Q": "models", "R": "models", "S": "code"}'),
)
