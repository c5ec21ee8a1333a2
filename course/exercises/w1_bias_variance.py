"""Exercises of week 1, lesson 6: bias, variance and ensembles.

Each exercise moves the lesson's idea to other data or another question: a higher-is-better
metric (1), a depth sweep the learner runs on the diabetes data (2), a multiclass label that
Spark's GBT cannot take (3), scenarios to sort into bagging and boosting (4), importances read
from a fitted pipeline whose assembler does not follow the table's column order (5). The judges
recompute what they need from ``course.datasets`` (exercise 5 reads the lesson's fitted
``cancer_model``, a ``context`` name); nothing they compare with is printed on the page.
"""
from __future__ import annotations

import math
import numbers

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "06-bias-variance-ensembles"

# --- Exercise 1: diagnose four churn models scored by AUC (higher is better) ----------------
DIAGNOSES = ("high bias", "high variance", "good fit")
MODELS = ("A", "B", "C", "D")
_DIAGNOSIS_KEY = {"A": "good fit", "B": "high variance", "C": "high bias", "D": "high variance"}

# --- Exercise 2: a depth sweep on the diabetes data ------------------------------------------
DIABETES_DEPTHS = (1, 2, 3, 4, 5, 6)
DIABETES_SPLIT = ([0.7, 0.3], 11)            # weights and seed of the lesson's randomSplit
SWEEP_COLUMNS = ("depth", "train_rmse", "val_rmse")
TOLERANCE = 1e-6

# --- Exercise 3: three penguin species --------------------------------------------------------
PENGUIN_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
PENGUIN_SPLIT = ([0.7, 0.3], 7)

# --- Exercise 4: bagging or boosting? ---------------------------------------------------------
KINDS = ("bagging", "boosting")
SCENARIOS = ("a", "b", "c", "d", "e", "f", "g", "h")
_BOOSTING = {"b", "c", "f", "g"}
_NOT_BOOSTING = {   # why a letter labelled "boosting" is not
    "a": "more trees that never make the validation error worse is the mark of averaging independent trees",
    "d": "rows drawn with replacement for each tree is bootstrap sampling, the first half of the word bagging",
    "e": "keeping deep trees and cutting their variance is what averaging does, not sequential correction",
    "h": "trees that do not depend on one another are not built in sequence",
}
_MISSING_BOOSTING = {   # a boosting scenario labelled "bagging", described without its letter
    "b": "an ensemble that starts to overfit after many rounds is labelled bagging",
    "c": "a scenario where each tree must wait for the one before it is labelled bagging",
    "f": "a scenario that lowers the bias of shallow trees is labelled bagging",
    "g": "a scenario about the learning rate is labelled bagging",
}


# --- shared helpers ---------------------------------------------------------------------------

def _spark():
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        from course.spark import get_spark

        spark = get_spark()
    return spark


def _close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _labelled_dict(value, what: str, keys, allowed) -> None:
    expect_type(value, dict, what)
    missing = [k for k in keys if k not in value]
    extra = [k for k in value if k not in keys]
    expect(not missing, f"{what} has no entry for {', '.join(map(repr, missing))}")
    expect(not extra, f"{what} has keys that are not in the exercise: {', '.join(map(repr, extra))}")
    wrong = sorted(k for k, v in value.items() if v not in allowed)
    expect(not wrong, f"the values for {', '.join(map(repr, wrong))} should each be one of "
                      + ", ".join(f'"{a}"' for a in allowed) + " (spelled exactly, lower case)")


# --- Exercise 1 -------------------------------------------------------------------------------

def form_diagnosis(diagnosis) -> None:
    _labelled_dict(diagnosis, "`diagnosis`", MODELS, DIAGNOSES)


def judge_diagnosis(diagnosis) -> None:
    flipped = {"high bias": "high variance", "high variance": "high bias", "good fit": "good fit"}
    if diagnosis == {m: flipped[v] for m, v in _DIAGNOSIS_KEY.items()}:
        raise CheckFailed("bias and variance are swapped: a model that scores far better on its training "
                          "data than on new data has learnt its sample too well")
    for model in MODELS:
        given, truth = diagnosis[model], _DIAGNOSIS_KEY[model]
        if given == truth:
            continue
        if given == "good fit" and truth == "high bias":
            raise CheckFailed(f"model {model}: a small gap between training and validation is not enough for "
                              "a good fit: look at how high its training AUC itself is for this data")
        if given == "good fit":
            raise CheckFailed(f"model {model}: with AUC, higher is better, so look at how far its validation "
                              "AUC falls below its training AUC")
        if given == "high bias":
            raise CheckFailed(f"model {model}: high bias shows as poor scores on the training data too, "
                              f"and model {model}'s training AUC is not poor")
        raise CheckFailed(f"model {model}: high variance shows as a validation score far below the "
                          f"training score, and model {model}'s gap is small")


# --- Exercise 2 -------------------------------------------------------------------------------

def diabetes_splits(spark):
    """The diabetes training and validation splits of exercise 2, assembled (the lesson's recipe)."""
    from pyspark.ml.feature import VectorAssembler

    from course import datasets

    data = datasets.load_spark("diabetes", spark)
    assembler = VectorAssembler(inputCols=[c for c in data.columns if c != "target"], outputCol="features")
    weights, seed = DIABETES_SPLIT
    return [assembler.transform(part) for part in data.randomSplit(weights, seed=seed)]


_DEPTH_TRUTH: dict[int, dict[int, tuple[float, float]]] = {}


def diabetes_depth_errors() -> dict[int, tuple[float, float]]:
    """depth -> (training RMSE, validation RMSE) of a default decision tree on exercise 2's
    splits, recomputed from the data once per Spark session: the judge and the notebook's hidden
    tests share it, so a check cell fits the trees once."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.regression import DecisionTreeRegressor

    spark = _spark()
    if id(spark) not in _DEPTH_TRUTH:
        train, val = (part.cache() for part in diabetes_splits(spark))
        evaluator = RegressionEvaluator(labelCol="target")
        truth = {}
        for depth in DIABETES_DEPTHS:
            tree = DecisionTreeRegressor(labelCol="target", maxDepth=depth).fit(train)
            truth[depth] = (evaluator.evaluate(tree.transform(train)), evaluator.evaluate(tree.transform(val)))
        train.unpersist(), val.unpersist()
        _DEPTH_TRUTH[id(spark)] = truth
    return _DEPTH_TRUTH[id(spark)]


def form_depth(diabetes_sweep, best_depth, sweep) -> None:
    import pandas as pd

    expect(isinstance(diabetes_sweep, pd.DataFrame),
           f"expected `diabetes_sweep` to be a pandas DataFrame (`pd.DataFrame(rows)`); got {describe(diabetes_sweep)}")
    missing = [c for c in SWEEP_COLUMNS if c not in diabetes_sweep.columns]
    expect(not missing, f"`diabetes_sweep` has no column {', '.join(f'`{c}`' for c in missing)}")
    depths = sorted(int(d) for d in diabetes_sweep["depth"])
    expect(depths == sorted(DIABETES_DEPTHS),
           f"`diabetes_sweep` should have one row for each depth from {DIABETES_DEPTHS[0]} to "
           f"{DIABETES_DEPTHS[-1]}; its depths are {depths}")
    expect(_is_int(best_depth), f"expected `best_depth` to be an int (a tree depth); got {describe(best_depth)}")


def judge_depth(diabetes_sweep, best_depth, sweep) -> None:
    truth = diabetes_depth_errors()
    got = {int(r.depth): (float(r.train_rmse), float(r.val_rmse)) for r in diabetes_sweep.itertuples()}
    if all(_close(got[d][1], truth[d][0]) for d in truth):
        raise CheckFailed("your `val_rmse` column holds the errors on the training rows: score each tree "
                          "on `diabetes_val`")
    if not all(_close(got[d][1], truth[d][1]) for d in truth):
        raise CheckFailed("your `val_rmse` values differ from default decision trees of those depths fitted "
                          "on `diabetes_train` alone and scored by RMSE on `diabetes_val`")
    if not all(_close(got[d][0], truth[d][0]) for d in truth):
        raise CheckFailed("your `train_rmse` values are not the RMSE of each tree on `diabetes_train`, "
                          "the rows it was fitted on")
    best = min(truth, key=lambda d: truth[d][1])
    if best_depth == best:
        return
    if best_depth not in truth:
        raise CheckFailed("`best_depth` is not one of the depths of your sweep")
    low_row = diabetes_sweep["val_rmse"].astype(float).idxmin()
    if _is_int(low_row) and best_depth == low_row and int(diabetes_sweep.loc[low_row, "depth"]) != best_depth:
        raise CheckFailed("`best_depth` is the row label of the lowest validation error, not the depth "
                          "written in that row")
    if best_depth == min(truth, key=lambda d: truth[d][0]):
        raise CheckFailed("that depth has the lowest training error, and the training error always prefers "
                          "the deepest tree: choose by the error on data the tree has not seen")
    if best_depth == max(truth, key=lambda d: truth[d][1]):
        raise CheckFailed("that depth has the highest validation error: you want the lowest")
    listings_best = int(sweep.loc[sweep["val_rmse"].idxmin(), "depth"])
    if best_depth == listings_best:
        raise CheckFailed("that is the depth the listings sweep of section 1 picked; the diabetes data "
                          "needs its own choice, read from `diabetes_sweep`")
    raise CheckFailed("`best_depth` is not the depth with the lowest validation RMSE in your sweep")


# --- Exercise 3 -------------------------------------------------------------------------------

def penguin_splits(spark):
    """The penguins training and validation splits of exercise 3 (the lesson's recipe)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    from course import datasets

    penguins = datasets.load_spark("penguins", spark).dropna(subset=["species", *PENGUIN_FEATURES])
    ready = Pipeline(stages=[
        StringIndexer(inputCol="species", outputCol="species_idx"),
        VectorAssembler(inputCols=list(PENGUIN_FEATURES), outputCol="features"),
    ]).fit(penguins).transform(penguins)
    weights, seed = PENGUIN_SPLIT
    return ready.randomSplit(weights, seed=seed)


def _final_stage(model):
    from pyspark.ml import PipelineModel

    return model.stages[-1] if isinstance(model, PipelineModel) and model.stages else model


def form_species(species_model, species_accuracy) -> None:
    from pyspark.ml import Estimator, Model

    expect(not isinstance(species_model, Estimator),
           "`species_model` is an estimator that was never trained: call `.fit(...)` and keep what it returns")
    expect(isinstance(species_model, Model),
           f"expected `species_model` to be a fitted Spark ML model; got {describe(species_model)}")
    expect(isinstance(species_accuracy, numbers.Real) and not isinstance(species_accuracy, bool),
           f"expected `species_accuracy` to be a number; got {describe(species_accuracy)}")
    expect(0 <= species_accuracy <= 1, "an accuracy lies between 0 and 1")


def judge_species(species_model, species_accuracy) -> None:
    from pyspark.ml.classification import (DecisionTreeClassificationModel, GBTClassificationModel,
                                           OneVsRestModel, RandomForestClassificationModel)
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator

    model = _final_stage(species_model)
    if isinstance(model, DecisionTreeClassificationModel):
        raise CheckFailed("a single decision tree handles three classes, but it is not an ensemble: "
                          "the task asks for many trees")
    if isinstance(model, GBTClassificationModel):
        raise CheckFailed(f"a GBT model knows two classes only, and this one was trained on {model.numClasses} "
                          "labels: the task needs all three species")
    if isinstance(model, OneVsRestModel):
        expect(all(isinstance(m, (GBTClassificationModel, RandomForestClassificationModel)) for m in model.models),
               "inside `OneVsRest`, each binary model should itself be a tree ensemble")
        n_classes = len(model.models)
    else:
        expect(isinstance(model, RandomForestClassificationModel),
               f"`species_model` is {describe(model)}, not a tree ensemble that classifies")
        n_classes = model.numClasses
    expect(model.getLabelCol() == "species_idx", "the model should learn the label `species_idx`")
    expect(n_classes == 3, f"the model knows {n_classes} classes; the penguins have three species")
    train, val = penguin_splits(_spark())
    if isinstance(model, RandomForestClassificationModel) and model.hasSummary:
        seen, rows = model.summary.predictions.count(), train.count()
        expect(seen == rows, f"the forest was trained on {seen} rows and `penguins_train` has {rows}: "
                             "fit on the training split alone")
    scored = species_model.transform(val)
    accuracy = MulticlassClassificationEvaluator(labelCol="species_idx", metricName="accuracy").evaluate(scored)
    if _close(species_accuracy, accuracy):
        return
    if _close(species_accuracy, MulticlassClassificationEvaluator(labelCol="species_idx").evaluate(scored)):
        raise CheckFailed("that is the F1 score, `MulticlassClassificationEvaluator`'s default metric: "
                          "ask it for accuracy")
    on_train = MulticlassClassificationEvaluator(labelCol="species_idx", metricName="accuracy").evaluate(
        species_model.transform(train))
    if _close(species_accuracy, on_train):
        raise CheckFailed("that is the accuracy on the training rows: score the model on `penguins_val`")
    raise CheckFailed("`species_accuracy` is not the accuracy of `species_model` on `penguins_val`")


# --- Exercise 4 -------------------------------------------------------------------------------

def form_kinds(kinds) -> None:
    _labelled_dict(kinds, "`kinds`", SCENARIOS, KINDS)


def judge_kinds(kinds) -> None:
    boosting = {letter for letter, kind in kinds.items() if kind == "boosting"}
    if boosting == set(SCENARIOS) - _BOOSTING:
        raise CheckFailed("bagging and boosting are swapped throughout: boosting is the sequential one")
    expect_choice(boosting, _BOOSTING, _NOT_BOOSTING, _MISSING_BOOSTING, "scenarios labelled boosting")


# --- Exercise 5 -------------------------------------------------------------------------------

def _importance_truth(cancer_model) -> dict[str, float]:
    """Feature name -> importance of the pipeline's tree model, through its assembler's inputs."""
    from pyspark.ml.feature import VectorAssembler

    assembler = next(s for s in cancer_model.stages if isinstance(s, VectorAssembler))
    scores = cancer_model.stages[-1].featureImportances.toArray()
    return dict(zip(assembler.getInputCols(), (float(s) for s in scores)))


def form_importances(importance_of, top3, cancer_model) -> None:
    expect_type(importance_of, dict, "`importance_of`")
    expect(all(isinstance(k, str) for k in importance_of),
           "the keys of `importance_of` should be feature names (strings), not positions")
    expect(all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in importance_of.values()),
           "the values of `importance_of` should be numbers (the importances)")
    expect_type(top3, (set, frozenset, list, tuple), "`top3`")
    expect(all(isinstance(n, str) for n in top3), "`top3` should hold feature names (strings), not positions or scores")
    expect(len(set(top3)) == 3 and len(top3) == 3, f"`top3` should hold three different names; it holds {len(top3)}")


def judge_importances(importance_of, top3, cancer_model) -> None:
    truth = _importance_truth(cancer_model)
    expect("target" not in importance_of, "`target` is the label, not one of the model's features")
    missing = sorted(set(truth) - set(importance_of))
    expect(not missing, f"`importance_of` lacks {len(missing)} of the model's {len(truth)} features")
    extra = sorted(set(importance_of) - set(truth))
    expect(not extra, f"{extra[:3]} are not input columns of the model's assembler")
    if not all(_close(importance_of[n], truth[n]) for n in truth):
        same_numbers = (sorted(round(float(v), 9) for v in importance_of.values())
                        == sorted(round(v, 9) for v in truth.values()))
        raise CheckFailed("the right numbers are paired with the wrong names: slot i of the vector belongs to "
                          "the i-th input column of the fitted assembler" if same_numbers else
                          "those are not the importances of the pipeline's forest")
    third = sorted(truth.values(), reverse=True)[2]
    unknown = [n for n in top3 if n not in truth]
    expect(not unknown, f"{unknown} are not features of the model")
    if all(truth[n] <= sorted(truth.values())[2] for n in top3):
        raise CheckFailed("`top3` holds the least important features: sort from the largest importance")
    expect(all(truth[n] >= third for n in top3), "`top3` is not the three features with the largest importances")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: diagnose four churn models",
    syllabus=("D1.bias-variance", "S3.15"), names=("diagnosis",),
    form=form_diagnosis, judge=judge_diagnosis, guessable=True,
    hints=("For each model look at two things: how good the training score is, and how far the validation "
           "score falls from it. With AUC, higher is better.",
           "Both scores poor and close together: too simple. A training score far above the validation "
           "score: too complex. Close together and as good as this data allows: neither.",
           "Too simple = high bias (underfitting); too complex = high variance (overfitting). Fill in "
           'diagnosis = {"A": ___, "B": ___, "C": ___, "D": ___}.'),
    solution_code='diagnosis = {"A": "good fit", "B": "high variance", "C": "high bias", "D": "high variance"}',
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: sweep the depth on the diabetes data",
    syllabus=("D1.bias-variance", "S3.15"), names=("diabetes_sweep", "best_depth"), context=("sweep",),
    form=form_depth, judge=judge_depth,
    hints=("Fit one tree per depth on the training split, score it on both splits, then choose the depth "
           "whose error on unseen rows is lowest.",
           "`DecisionTreeRegressor(labelCol=..., maxDepth=d).fit(...)`, "
           "`RegressionEvaluator(labelCol=...)` (RMSE by default), a list of dicts, `pd.DataFrame(rows)`; "
           "then `idxmin()` on the right column and `.loc[row, \"depth\"]`.",
           "for d in ____:\n    tree = DecisionTreeRegressor(labelCol=\"target\", maxDepth=d).fit(____)\n"
           "    rows.append({\"depth\": ____, \"train_rmse\": ____, \"val_rmse\": ____})\n"
           "best_depth = int(diabetes_sweep.loc[diabetes_sweep[____].idxmin(), ____])"),
    solution_code=('diabetes_evaluator = RegressionEvaluator(labelCol="target")\n'
                   'rows = []\n'
                   'for d in range(1, 7):\n'
                   '    tree = DecisionTreeRegressor(labelCol="target", maxDepth=d).fit(diabetes_train)\n'
                   '    rows.append({"depth": d,\n'
                   '                 "train_rmse": diabetes_evaluator.evaluate(tree.transform(diabetes_train)),\n'
                   '                 "val_rmse": diabetes_evaluator.evaluate(tree.transform(diabetes_val))})\n'
                   'diabetes_sweep = pd.DataFrame(rows)\n'
                   'best_depth = int(diabetes_sweep.loc[diabetes_sweep["val_rmse"].idxmin(), "depth"])'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: fix the three-species classifier",
    syllabus=("D1.bagging-boosting",), names=("species_model", "species_accuracy"),
    form=form_species, judge=judge_species,
    hints=("Two things are broken: Spark's GBT classifier takes two classes only, and the evaluator is "
           "one made for two classes.",
           "A random forest classifier takes any number of classes; `MulticlassClassificationEvaluator` "
           "scores them, and its `metricName` defaults to F1, not accuracy.",
           "species_model = ____(labelCol=\"species_idx\", seed=7).fit(____)\n"
           "species_accuracy = ____(labelCol=\"species_idx\", metricName=____)"
           ".evaluate(species_model.transform(____))"),
    solution_code=('species_model = RandomForestClassifier(labelCol="species_idx", numTrees=30, seed=7)'
                   '.fit(penguins_train)\n'
                   'species_accuracy = MulticlassClassificationEvaluator(\n'
                   '    labelCol="species_idx", metricName="accuracy").evaluate(species_model.transform(penguins_val))'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: bagging or boosting?",
    syllabus=("D1.bagging-boosting",), names=("kinds",),
    form=form_kinds, judge=judge_kinds, guessable=True,
    hints=("Ask of each scenario: are the trees independent of one another, or does each one need the "
           "ones before it?",
           "Independent trees averaged cut variance and do not overfit from more trees; sequential trees "
           "cut bias, use a learning rate, and can overfit with too many rounds.",
           'kinds = {"a": ___, "b": ___, ...}: one entry per letter, each "bagging" or "boosting".'),
    solution_code=('kinds = {"a": "bagging", "b": "boosting", "c": "boosting", "d": "bagging",\n'
                   '         "e": "bagging", "f": "boosting", "g": "boosting", "h": "bagging"}'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: name the importances of a fitted pipeline",
    syllabus=("D1.bagging-boosting", "S3.15"), names=("importance_of", "top3"), context=("cancer_model",),
    form=form_importances, judge=judge_importances,
    hints=("The importance vector only has positions; the names come from the assembler that built the "
           "vector, in its own order.",
           "`cancer_model.stages` lists the fitted stages: the assembler's `getInputCols()` gives the names, "
           "the forest's `featureImportances.toArray()` the numbers.",
           "importance_of = dict(zip(____.getInputCols(), ____.featureImportances.toArray()))\n"
           "top3 = sorted(importance_of, key=____, reverse=____)[:3]"),
    solution_code=('assembler, forest_stage = cancer_model.stages\n'
                   'importance_of = dict(zip(assembler.getInputCols(), forest_stage.featureImportances.toArray()))\n'
                   'top3 = sorted(importance_of, key=importance_of.get, reverse=True)[:3]'),
)
