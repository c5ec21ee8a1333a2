"""Exercises of week 1, lesson 4: bias, variance and ensembles."""
from __future__ import annotations

from course.checks import Exercise, describe, expect, expect_type

LESSON = "04-bias-variance-ensembles"
DIAGNOSES = ("high bias", "high variance", "good fit")
MODELS = ("A", "B", "C", "D")
KINDS = ("bagging", "boosting")
STATEMENTS = {
    "a": "Each new tree is fitted to the errors that the trees built so far still make.",
    "b": "Every tree learns from its own bootstrap sample of the rows, independently of the others.",
    "c": "All of its trees can be trained at the same time.",
    "d": "It mainly reduces bias: many shallow, weak trees add up to a strong model.",
    "e": "It mainly reduces variance: averaging many deep trees smooths out their individual overfitting.",
    "f": "Spark ML's GBTRegressor and XGBoost's SparkXGBRegressor work this way.",
    "g": "A learning rate (stepSize) shrinks the contribution of each new tree.",
    "h": "Spark ML's RandomForestRegressor works this way.",
}
FEATURE_COLS = ("accommodates", "bedrooms", "bathrooms", "minimum_nights", "number_of_reviews",
                "review_score", "room_type_idx", "neighbourhood_idx", "superhost")


def _labelled_dict(value, what: str, keys, allowed) -> None:
    expect_type(value, dict, what)
    missing = [k for k in keys if k not in value]
    extra = [k for k in value if k not in keys]
    expect(not missing, f"{what} has no entry for {', '.join(map(repr, missing))}")
    expect(not extra, f"{what} has keys that are not in the exercise: {', '.join(map(repr, extra))}")
    wrong = sorted(k for k, v in value.items() if v not in allowed)
    expect(not wrong, f"the values for {', '.join(map(repr, wrong))} should each be one of "
                      + ", ".join(f'"{a}"' for a in allowed) + " (spelled exactly, lower case)")


def check_diagnosis(diagnosis) -> None:
    _labelled_dict(diagnosis, "`diagnosis`", MODELS, DIAGNOSES)


def check_best_depth(best_depth, sweep) -> None:
    import numbers

    expect(isinstance(best_depth, numbers.Integral) and not isinstance(best_depth, bool),
           f"expected `best_depth` to be an int (a tree depth); got {describe(best_depth)}")
    depths = {int(d) for d in sweep["depth"]}
    expect(int(best_depth) in depths, "`best_depth` should be one of the depths in `sweep['depth']`")


def check_rf_model(rf_model) -> None:
    from pyspark.ml.regression import RandomForestRegressionModel, RandomForestRegressor

    expect(not isinstance(rf_model, RandomForestRegressor),
           "`rf_model` is the unfitted estimator: call `.fit(...)` on it and keep what it returns")
    expect_type(rf_model, RandomForestRegressionModel, "`rf_model` (what `RandomForestRegressor(...).fit(...)` returns)")
    expect(rf_model.getLabelCol() == "log_price", "the forest should predict `log_price`")
    expect(rf_model.getFeaturesCol() == "features", "the forest should read the `features` vector")
    expect(rf_model.numFeatures == len(FEATURE_COLS),
           f"the forest saw {rf_model.numFeatures} features; the lesson's vector has {len(FEATURE_COLS)}")


def check_kinds(kinds) -> None:
    _labelled_dict(kinds, "`kinds`", tuple(STATEMENTS), KINDS)
    expect(len(set(kinds.values())) == 2, "both kinds of ensemble appear among the statements")


def check_top_features(top_features) -> None:
    expect_type(top_features, (list, tuple), "`top_features`")
    expect(len(top_features) == 3, f"`top_features` should hold three names; it holds {len(top_features)}")
    expect(all(isinstance(name, str) for name in top_features),
           "`top_features` should hold feature names (strings from `feature_cols`), not positions or scores")
    unknown = [name for name in top_features if name not in FEATURE_COLS]
    expect(not unknown, f"{unknown} are not names from `feature_cols`")
    expect(len(set(top_features)) == 3, "the three names should be different")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: diagnose four models",
    syllabus=("D1.bias-variance", "S3.15"), names=("diagnosis",), checker=check_diagnosis,
    hints=("Look at two things for each model: how high the training error is, and how far the validation error is above it.",
           "Both errors high and close together: the model is too simple. A low training error with a much higher validation error: too complex.",
           "Too simple = high bias (underfitting); too complex = high variance (overfitting). Only one model is low on both and close."),
    solution_code='diagnosis = {"A": "high bias", "B": "high variance", "C": "good fit", "D": "high variance"}',
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: pick the depth",
    syllabus=("D1.bias-variance", "S3.15"), names=("best_depth", "sweep"), checker=check_best_depth,
    hints=("Which of the two error columns estimates the error on new data?",
           "The training error always prefers the deepest tree; choose by `val_rmse`.",
           "`sweep['val_rmse'].idxmin()` gives the row label of the smallest value; read `depth` on that row with `.loc` and wrap it in `int(...)`."),
    solution_code='best_depth = int(sweep.loc[sweep["val_rmse"].idxmin(), "depth"])',
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: a random forest",
    syllabus=("D1.bagging-boosting",), names=("rf_model",), checker=check_rf_model,
    hints=("`RandomForestRegressor` takes `labelCol`, `numTrees`, `maxDepth` and `seed`; `featuresCol` is `features` by default.",
           "`fit` returns the model; the estimator itself is not a model.",
           "Fit on `train_f`, the training split only: the validation and test splits stay out of training."),
    solution_code=('rf_model = RandomForestRegressor(labelCol="log_price", featuresCol="features",\n'
                   '                                 numTrees=10, maxDepth=4, seed=7).fit(train_f)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: bagging or boosting?",
    syllabus=("D1.bagging-boosting",), names=("kinds",), checker=check_kinds,
    hints=("Bagging trains independent trees on bootstrap samples and averages them; boosting trains trees in sequence.",
           "Anything about fixing the errors of earlier trees, or a learning rate, is boosting; anything that can run in parallel is bagging.",
           "Bagging reduces variance (random forest); boosting reduces bias (GBT, XGBoost)."),
    solution_code=('kinds = {"a": "boosting", "b": "bagging", "c": "bagging", "d": "boosting",\n'
                   '         "e": "bagging", "f": "boosting", "g": "boosting", "h": "bagging"}'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: the most important features",
    syllabus=("D1.bagging-boosting", "S3.15"), names=("top_features",), checker=check_top_features,
    hints=("`gbt.featureImportances` is a vector with one number per slot of `features`; `.toArray()` makes it a numpy array.",
           "Slot i is the i-th name of `feature_cols`, the assembler's input columns.",
           "`argsort()` sorts from the smallest: reverse it (`[::-1]`) and keep the first three positions, then turn them into names."),
    solution_code=('_scores = gbt.featureImportances.toArray()\n'
                   'top_features = [feature_cols[i] for i in _scores.argsort()[::-1][:3]]'),
)
