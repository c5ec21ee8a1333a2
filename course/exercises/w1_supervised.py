"""Exercises of week 1, lesson 3: supervised learning, classification and regression.

Exercise 1 names the task of new scenarios (a few strings per key: guessable, so only its form is
checked in a classroom). Exercise 2 fixes a broken classifier of a new label (the penguins' sex);
exercise 3 moves from classification to regression on the same birds (body mass) and compares the
model with a baseline. The judges recompute the truth from ``course.datasets``: they never trust
the lesson's variables, and they compare models by what they predict, mapped back to names, so
the order a ``StringIndexer`` gives the labels does not matter.
"""
from __future__ import annotations

from course.checks import (CheckFailed, Exercise, assembled_columns, describe, expect, expect_type,
                           fitted_stages)

LESSON = "03-supervised-learning"
FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
ROW_KEY = (*FEATURES, "species", "island", "year")   # never null once the measurements are
SPLIT_SEED = 42        # the lesson's penguins_train / penguins_test
SEX_SEED = 7           # exercise 2's sex_train / sex_test
MASS_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm")
CLOSE = 1e-6

# --- exercise 1: name the task ---------------------------------------------------------------

TASK_TYPES = ("classification", "regression", "clustering", "dimensionality reduction")
SCENARIOS = {
    "delivery_delay": "predict how many minutes late each delivery will arrive, from past deliveries "
                      "and their recorded delays",
    "fraud_flag": "flag card payments as fraudulent or genuine, from payments that investigators have "
                  "already labelled",
    "store_groups": "group 800 stores by the shape of their weekly sales; no grouping of stores exists yet",
    "pixel_compression": "turn the 784 pixel columns of each scanned digit into 40 new columns before "
                         "training a model",
    "readmission_risk": "give each discharged patient a probability of coming back within 30 days, from "
                        "past patients who did or did not come back",
    "support_calls": "forecast how many support calls each customer will make next month, from past "
                     "monthly counts",
    "region_code": "predict which of nine sales regions, stored as the integers 1 to 9, a new customer "
                   "belongs to, from customers whose region is known",
}
_TASK_KEY = {
    "delivery_delay": "regression", "fraud_flag": "classification", "store_groups": "clustering",
    "pixel_compression": "dimensionality reduction", "readmission_risk": "classification",
    "support_calls": "regression", "region_code": "classification",
}
_SUPERVISED = {"classification", "regression"}
_WHY = {  # scenario -> (wrong answer -> why), each without naming the right task
    "delivery_delay": {"classification": "minutes late can take any value on a scale: decide by what the "
                                         "label means, not by how a delay is often talked about"},
    "readmission_risk": {"regression": "the output is a number, but the event it is about has two outcomes: "
                                       "which kind of model outputs a probability per outcome?"},
    "support_calls": {"classification": "a count is a quantity: four calls are twice two calls, and "
                                        "next month's count need not be one seen before"},
    "region_code": {"regression": "the integers 1 to 9 only name regions: region 4 is not 'twice region 2', "
                                  "so the label is not a quantity"},
    "store_groups": {"dimensionality reduction": "the stores (rows) are to be grouped; no columns are "
                                                 "being replaced"},
    "pixel_compression": {"clustering": "the images (rows) stay as they are; it is the columns that are "
                                        "replaced by fewer new ones"},
}


def form_task_types(task_types) -> None:
    expect_type(task_types, dict, "`task_types`")
    missing = [k for k in SCENARIOS if k not in task_types]
    extra = sorted(str(k) for k in task_types if k not in SCENARIOS)
    expect(not extra, f"{extra} are not scenario keys of this exercise (spelling counts)")
    expect(not missing, f"no answer yet for {missing}: give one task type per scenario key")
    unknown = [k for k in SCENARIOS if task_types[k] not in TASK_TYPES]
    expect(not unknown, f"the answers for {unknown} are not one of the four task types, spelled exactly "
                        f"as listed (lower case): {', '.join(repr(t) for t in TASK_TYPES)}")


def judge_task_types(task_types) -> None:
    for key, truth in _TASK_KEY.items():
        given = task_types[key]
        if given == truth:
            continue
        if truth in _SUPERVISED and given not in _SUPERVISED:
            raise CheckFailed(f"`{key}`: the past data records the answer to predict, so there is a label "
                              "to learn from")
        if truth not in _SUPERVISED and given in _SUPERVISED:
            raise CheckFailed(f"`{key}`: nobody has recorded an answer to learn from, so there is no label")
        raise CheckFailed(f"`{key}`: {_WHY[key].get(given, 're-read what the scenario predicts or produces')}")


# --- shared: the data, recomputed ------------------------------------------------------------

_CACHE: dict = {}


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.active()


def _penguins():
    from course import datasets

    return datasets.load_spark("penguins", _spark()).dropna(subset=list(FEATURES))


def _by_key(rows) -> list:
    """Rows sorted by the penguin's own columns: results compared row by row, not by order."""
    return sorted(rows, key=lambda r: tuple(r[c] for c in ROW_KEY))


def _as_float(value, name: str) -> None:
    expect(isinstance(value, float) and not isinstance(value, bool),
           f"expected `{name}` to be a Python float (what `.evaluate()` returns); got {describe(value)}")


# --- exercise 2: fix the sex classifier --------------------------------------------------------

def _sex_indexer(model):
    from pyspark.ml.feature import StringIndexerModel

    for stage in fitted_stages(model):
        if isinstance(stage, StringIndexerModel):
            inputs = stage.getInputCols() if stage.isSet("inputCols") else [stage.getInputCol()]
            outputs = stage.getOutputCols() if stage.isSet("outputCols") else [stage.getOutputCol()]
            if "sex" in inputs:
                i = inputs.index("sex")
                return list(stage.labelsArray[i]), outputs[i]
    return None, None


def female_probabilities(model, data) -> list[float]:
    """P(female) per bird of ``data``, sorted by the bird's columns, whatever the label order."""
    labels, _ = _sex_indexer(model)
    female = labels.index("female")
    classifier = fitted_stages(model)[-1]
    rows = model.transform(data).select(*ROW_KEY, classifier.getProbabilityCol()).collect()
    return [r[-1][female] for r in _by_key(rows)]


def sex_accuracy_of(model, data) -> float:
    """Accuracy of ``model`` on ``data`` with predictions mapped back to names."""
    labels, _ = _sex_indexer(model)
    classifier = fitted_stages(model)[-1]
    rows = model.transform(data).select("sex", classifier.getPredictionCol()).collect()
    return sum(labels[int(r[1])] == r[0] for r in rows) / len(rows)


def sex_split():
    sexed = _penguins().dropna(subset=["sex"])
    train, test = sexed.randomSplit([0.8, 0.2], seed=SEX_SEED)
    return sexed, train, test


def _sex_pipeline():
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    return Pipeline(stages=[StringIndexer(inputCol="sex", outputCol="label"),
                            VectorAssembler(inputCols=list(FEATURES), outputCol="features"),
                            LogisticRegression()])


def sex_truth() -> dict:
    """The reference model's P(female) per bird, and its test accuracy (computed once)."""
    if "sex" not in _CACHE:
        from pyspark.ml.evaluation import MulticlassClassificationEvaluator

        sexed, train, test = sex_split()
        model = _sex_pipeline().fit(train)
        predictions = model.transform(test)
        _CACHE["sex"] = {
            "p_female": female_probabilities(model, sexed),
            "accuracy": sex_accuracy_of(model, test),
            "train_accuracy": sex_accuracy_of(model, train),
            "f1": MulticlassClassificationEvaluator().evaluate(predictions),
        }
    return _CACHE["sex"]


def _same(a: list[float], b: list[float], tolerance: float = CLOSE) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def form_sex(sex_model, sex_accuracy) -> None:
    from pyspark.ml import PipelineModel

    expect_type(sex_model, PipelineModel, "`sex_model` (what `Pipeline(...).fit(...)` returns)")
    _as_float(sex_accuracy, "sex_accuracy")
    expect(0.0 <= sex_accuracy <= 1.0, "an accuracy lies between 0 and 1")


def judge_sex(sex_model, sex_accuracy) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    classifier = fitted_stages(sex_model)[-1]
    expect(isinstance(classifier, LogisticRegressionModel),
           "the pipeline's last stage should be the fitted logistic regression: keep the estimator, fix the rest")
    labels, label_column = _sex_indexer(sex_model)
    expect(labels is not None, "no StringIndexer in the pipeline reads `sex`: the label to learn is the sex, "
                               "and a classifier needs it as numbers")
    expect(classifier.getLabelCol() == label_column,
           f"the logistic regression learns `{classifier.getLabelCol()}`, not the column your StringIndexer "
           "writes from `sex`")
    features = assembled_columns(sex_model)
    expect(label_column not in features and "sex" not in features,
           "the label is among the features: the model reads the answer it should predict")
    expect(features == set(FEATURES), "the features should be the four measurements, and only them")
    truth = sex_truth()
    sexed = sex_split()[0]
    mine = female_probabilities(sex_model, sexed)
    if not _same(mine, truth["p_female"]):
        leaked = _CACHE.get("sex_leak")
        if leaked is None:
            leaked = _CACHE["sex_leak"] = female_probabilities(_sex_pipeline().fit(sexed), sexed)
        expect(not _same(mine, leaked),
               "the model was fitted on every bird, the test birds included: it has seen the rows it is scored on")
        raise CheckFailed("the model's predictions differ from a default logistic regression fitted on "
                          "`sex_train`: were other rows or settings used?")
    if abs(sex_accuracy - truth["accuracy"]) > 1e-9:
        expect(abs(sex_accuracy - truth["f1"]) > 1e-9,
               "that is the evaluator's default metric, weighted F1, not accuracy: name the metric you want")
        expect(abs(sex_accuracy - truth["train_accuracy"]) > 1e-9,
               "that is the accuracy on the training birds; score the birds the model has not seen")
        raise CheckFailed("`sex_accuracy` is not the share of test birds whose sex is predicted right")


# --- exercise 3: regress the body mass -------------------------------------------------------

def penguin_split():
    return _penguins().randomSplit([0.8, 0.2], seed=SPLIT_SEED)


def _mass_pipeline():
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    return Pipeline(stages=[VectorAssembler(inputCols=list(MASS_FEATURES), outputCol="features"),
                            LinearRegression(labelCol="body_mass_g")])


def mass_predictions(model) -> list[float]:
    """The model's predictions for every measured penguin, sorted by the bird's columns."""
    regressor = fitted_stages(model)[-1]
    rows = model.transform(_penguins()).select(*ROW_KEY, regressor.getPredictionCol()).collect()
    return [r[-1] for r in _by_key(rows)]


def _errors(test, prediction_of_row) -> dict:
    rows = test.select("body_mass_g", *ROW_KEY).collect()
    errors = [prediction_of_row(r) - r.body_mass_g for r in rows]
    return {"mae": sum(abs(e) for e in errors) / len(errors),
            "rmse": (sum(e * e for e in errors) / len(errors)) ** 0.5}


def mass_truth() -> dict:
    """Reference predictions, test and train errors, and the baseline's (computed once)."""
    if "mass" not in _CACHE:
        from pyspark.sql import functions as F

        train, test = penguin_split()
        model = _mass_pipeline().fit(train)
        scored = {tuple(r[c] for c in ROW_KEY): r.prediction
                  for r in model.transform(_penguins()).select(*ROW_KEY, "prediction").collect()}

        def by_model(row):
            return scored[tuple(row[c] for c in ROW_KEY)]

        train_mean = train.agg(F.avg("body_mass_g")).first()[0]
        test_mean = test.agg(F.avg("body_mass_g")).first()[0]
        _CACHE["mass"] = {
            "predictions": mass_predictions(model),
            "test": _errors(test, by_model), "train": _errors(train, by_model),
            "baseline": _errors(test, lambda r: train_mean),
            "baseline_test_mean": _errors(test, lambda r: test_mean),
        }
    return _CACHE["mass"]


def form_mass(mass_model, mass_mae, baseline_mae) -> None:
    from pyspark.ml import PipelineModel

    expect_type(mass_model, PipelineModel, "`mass_model` (what `Pipeline(...).fit(...)` returns)")
    for name, value in (("mass_mae", mass_mae), ("baseline_mae", baseline_mae)):
        _as_float(value, name)
        expect(value >= 0, f"`{name}` is negative, and a mean absolute error cannot be")


def judge_mass(mass_model, mass_mae, baseline_mae) -> None:
    from pyspark.ml.classification import ClassificationModel
    from pyspark.ml.regression import LinearRegressionModel

    regressor = fitted_stages(mass_model)[-1]
    expect(not isinstance(regressor, ClassificationModel),
           "the last stage is a classifier: it predicts one of a few classes, and body mass is a quantity")
    expect(isinstance(regressor, LinearRegressionModel), "the pipeline's last stage should be a fitted LinearRegression")
    expect(regressor.getLabelCol() == "body_mass_g",
           f"the regression learns `{regressor.getLabelCol()}`; the exercise predicts the body mass")
    features = assembled_columns(mass_model)
    expect("body_mass_g" not in features,
           "`body_mass_g` is both the label and a feature: the model reads the answer it should predict")
    expect(features == set(MASS_FEATURES), "the features should be the three other measurements, and only them")
    truth = mass_truth()
    mine = mass_predictions(mass_model)
    if not _same(mine, truth["predictions"], 1e-4):
        leaked = _CACHE.get("mass_leak")
        if leaked is None:
            leaked = _CACHE["mass_leak"] = mass_predictions(_mass_pipeline().fit(_penguins()))
        expect(not _same(mine, leaked, 1e-4),
               "the model was fitted on every penguin, the test birds included: it has seen the rows it is scored on")
        raise CheckFailed("the model's predictions differ from a default LinearRegression fitted on "
                          "`penguins_train`: were other rows or settings used?")
    if abs(mass_mae - truth["test"]["mae"]) > CLOSE:
        expect(abs(mass_mae - truth["test"]["rmse"]) > CLOSE,
               "`mass_mae` is the root mean squared error, the evaluator's default; the exercise asks for the mean "
               "absolute error")
        expect(abs(mass_mae - truth["train"]["mae"]) > CLOSE,
               "`mass_mae` was measured on the training birds; score the birds the model has not seen")
        raise CheckFailed("`mass_mae` is not the mean absolute error of `mass_model` on `penguins_test`")
    if abs(baseline_mae - truth["baseline"]["mae"]) > CLOSE:
        expect(abs(baseline_mae - truth["baseline_test_mean"]["mae"]) > CLOSE,
               "the baseline predicts the mean of the test birds: a baseline may only know the training data")
        expect(abs(baseline_mae - truth["baseline"]["rmse"]) > CLOSE,
               "`baseline_mae` is a root mean squared error; compare like with like: the mean absolute error")
        raise CheckFailed("`baseline_mae` is not the mean absolute error of predicting the training birds' "
                          "mean mass for every test bird")
    return f"The model's errors are {mass_mae / baseline_mae:.0%} of the baseline's."


# --- the exercises ----------------------------------------------------------------------------

q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: name the task",
    syllabus=("D1.supervised", "D1.unsupervised", "S3.01"), names=("task_types",),
    form=form_task_types, judge=judge_task_types, guessable=True,
    hints=("First ask: does the past data record the answer to predict (a label)? No label means "
           "unsupervised: then, are rows grouped or columns replaced?",
           "With a label, ask what it means, not how it is stored: a category is classification, a "
           "quantity (a count too) is regression.",
           "Fill in `{\"delivery_delay\": \"...\", \"fraud_flag\": \"...\", ...}` with one of the four "
           "strings per key; a probability of a yes/no event is a classifier's output."),
    solution_code=('task_types = {\n'
                   '    "delivery_delay": "regression",\n'
                   '    "fraud_flag": "classification",\n'
                   '    "store_groups": "clustering",\n'
                   '    "pixel_compression": "dimensionality reduction",\n'
                   '    "readmission_risk": "classification",\n'
                   '    "support_calls": "regression",\n'
                   '    "region_code": "classification",\n'
                   '}'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix the sex classifier",
    syllabus=("D1.supervised", "S3.01", "S3.04"), names=("sex_model", "sex_accuracy"),
    form=form_sex, judge=judge_sex,
    hints=("Read the code as Spark will: what type must a classifier's label have, which columns may the "
           "features hold, which rows may `fit` see, and what does the evaluator compute when you do not say?",
           "A `StringIndexer` stage turns `sex` into a numeric column, which is the classifier's `labelCol`; "
           "`fit` belongs on the training split; `MulticlassClassificationEvaluator` takes a `metricName`.",
           "Skeleton: `Pipeline(stages=[StringIndexer(inputCol=..., outputCol=...), "
           "VectorAssembler(inputCols=..., outputCol=...), LogisticRegression(labelCol=...)])`, then "
           "`.fit(...)` on one split and `evaluate(...)` on the other."),
    solution_code=('sexed = penguins.dropna(subset=["sex"])\n'
                   'sex_train, sex_test = sexed.randomSplit([0.8, 0.2], seed=7)\n'
                   'sex_pipeline = Pipeline(stages=[\n'
                   '    StringIndexer(inputCol="sex", outputCol="label"),\n'
                   '    VectorAssembler(inputCols=FEATURES, outputCol="features"),\n'
                   '    LogisticRegression()])\n'
                   'sex_model = sex_pipeline.fit(sex_train)\n'
                   'sex_accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(\n'
                   '    sex_model.transform(sex_test))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: how heavy is this penguin?",
    syllabus=("D1.supervised", "D3.regression-metrics", "S3.01"),
    names=("mass_model", "mass_mae", "baseline_mae"), form=form_mass, judge=judge_mass,
    hints=("The diabetes pattern on another label: the quantity to predict must not be among the features, and "
           "the regressor and the evaluator both need to be told which column is the label.",
           "`LinearRegression(labelCol=...)` and `RegressionEvaluator(labelCol=..., metricName=...)`: the "
           "default metric is not the mean absolute error. A baseline is the test split with a constant "
           "`prediction` column, `F.lit(value)`.",
           "Skeleton: `Pipeline(stages=[VectorAssembler(inputCols=[...], outputCol=...), LinearRegression(...)])"
           ".fit(...)`; the training mean is `penguins_train.agg(F.avg(...)).first()[0]`."),
    solution_code=('mass_features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]\n'
                   'mass_model = Pipeline(stages=[VectorAssembler(inputCols=mass_features, outputCol="features"),\n'
                   '                              LinearRegression(labelCol="body_mass_g")]).fit(penguins_train)\n'
                   'mae = RegressionEvaluator(labelCol="body_mass_g", metricName="mae")\n'
                   'mass_mae = mae.evaluate(mass_model.transform(penguins_test))\n'
                   'train_mean_mass = penguins_train.agg(F.avg("body_mass_g")).first()[0]\n'
                   'baseline_mae = mae.evaluate(penguins_test.withColumn("prediction", F.lit(train_mean_mass)))'),
)
