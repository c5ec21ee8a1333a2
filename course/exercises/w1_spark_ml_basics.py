"""Exercises of week 1, lesson 5: Spark ML building blocks.

Each exercise moves the lesson's idea to another table (churn, penguins, diabetes) or to stages
the lesson never shows. Every judge recomputes the truth from ``course.datasets``, never from the
lesson's variables, and names the mistake in one sentence; the answers each judge was written
against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

from course.checks import (CheckFailed, Exercise, describe, expect, expect_choice, expect_columns,
                           expect_spark_dataframe, expect_type)

LESSON = "05-spark-ml-building-blocks"
SPLIT = ([0.8, 0.2], 42)   # weights and seed of the lesson's churn_* and diab_* splits
PARTS = {"train_part": 0.7, "val_part": 0.15, "test_part": 0.15}
MEASUREMENTS = {"bill_length_mm", "bill_depth_mm", "flipper_length_mm"}
CHURN_FEATURES = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
STAGES = {  # name -> (is an Estimator, why a wrong pick is wrong / how a missing one is described)
    "MinMaxScaler": (True, "a stage that must first learn each column's minimum and maximum is missing"),
    "QuantileDiscretizer": (True, "a stage that learns its bucket boundaries from the data is missing"),
    "IDF": (True, "a stage that must count in how many documents each term appears is missing"),
    "CrossValidator": (True, "a tuning stage whose fit() trains many models is missing"),
    "MinMaxScalerModel": (False, "it is what MinMaxScaler.fit() returns: a Model, and every Model is a Transformer"),
    "Bucketizer": (False, "you give it the split points, so it has nothing to learn: a Transformer"),
    "HashingTF": (False, "hashing a word to an index needs nothing learnt from data: a Transformer"),
    "RegressionEvaluator": (False, "an Evaluator scores predictions with evaluate(): it neither fits nor transforms"),
}


def _spark():
    from course.spark import get_spark

    return get_spark()   # the notebook's session (Spark Connect or classic)


def _table(name: str, spark=None):
    from course import datasets

    return datasets.load_spark(name, spark or _spark())


def _ids(df) -> list[str]:
    return [r.customer_id for r in df.select("customer_id").collect()]


# --- Exercise 1: fix a split that leaks --------------------------------------------------

def form_split(train_part, val_part, test_part) -> None:
    for name, part in zip(PARTS, (train_part, val_part, test_part)):
        expect_spark_dataframe(part, f"`{name}`")
        expect_columns(part, ["customer_id"], f"`{name}` (split the rows, keep every column)")


def judge_split(train_part, val_part, test_part) -> None:
    everyone = set(_ids(_table("churn", train_part.sparkSession)))
    parts = [_ids(part) for part in (train_part, val_part, test_part)]
    placed = [i for part in parts for i in part]
    expect(len(placed) == len(set(placed)), "some customers are in two parts: each randomSplit call "
                                            "draws its own sample, so never split `churn` twice")
    expect(set(placed) <= everyone, "some rows are not customers of `churn`: split `churn` itself")
    missing = len(everyone - set(placed))
    expect(not missing, f"{missing} customers are in no part: were rows dropped before the split?")
    shares = [len(part) / len(everyone) for part in parts]
    expect(shares[0] == max(shares),
           "the training part should be the largest: parts come back in the order of the weights")
    expect(all(abs(s - w) < 0.03 for s, w in zip(shares, PARTS.values())),
           "the parts hold " + ", ".join(f"{s:.0%}" for s in shares) + " of the customers, not about 70/15/15")


# --- Exercise 2: an assembler for penguin body mass ---------------------------------------

def form_assembler(penguin_assembler) -> None:
    from pyspark.ml.feature import VectorAssembler

    expect_type(penguin_assembler, VectorAssembler, "`penguin_assembler`")
    expect(penguin_assembler.isSet("inputCols"), "`penguin_assembler` has no `inputCols` yet")


def judge_assembler(penguin_assembler) -> None:
    columns = set(penguin_assembler.getInputCols())
    expect("body_mass_g" not in columns,
           "`body_mass_g` is the label: as a feature it hands the model the answer, so its score means nothing")
    extra = sorted(columns - MEASUREMENTS)
    if extra:
        raise CheckFailed(f"`{extra[0]}` is not one of the bill and flipper measurements")
    expect(columns == MEASUREMENTS, "one of the three bill and flipper measurements is missing from `inputCols`")
    expect(penguin_assembler.getOutputCol() == "features", "name the output column `features`, as the exercise asks")
    mode = penguin_assembler.getHandleInvalid()
    expect(mode != "error",
           "with the default handleInvalid='error' the first action fails on the penguins without measurements")
    expect(mode != "keep", "'keep' writes NaN into those penguins' vectors, and a regression cannot be fitted on NaN")


# --- Exercise 3: fix a churn pipeline that leaks -----------------------------------------

def form_pipeline(churn_pipeline, churn_model) -> None:
    from pyspark.ml import Pipeline, PipelineModel

    expect_type(churn_pipeline, Pipeline, "`churn_pipeline` (the unfitted Pipeline)")
    expect_type(churn_model, PipelineModel, "`churn_model` (what `churn_pipeline.fit(...)` returns)")


def _probabilities(model, rows) -> dict[str, float]:
    return {r.customer_id: float(r.probability[1])
            for r in model.transform(rows).select("customer_id", "probability").collect()}


def _reference_churn_model(train):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import Imputer, VectorAssembler

    filled = [c if c != "total_charges" else "total_charges_ref" for c in CHURN_FEATURES]
    return Pipeline(stages=[
        Imputer(strategy="median", inputCols=["total_charges"], outputCols=["total_charges_ref"]),
        VectorAssembler(inputCols=filled, outputCol="features"),
        LogisticRegression(labelCol="churn")]).fit(train)


def judge_pipeline(churn_pipeline, churn_model) -> None:
    from pyspark.ml.feature import ImputerModel, VectorAssembler

    assemblers = [s for s in churn_model.stages if isinstance(s, VectorAssembler)]
    expect(len(assemblers) == 1, "the pipeline needs one VectorAssembler stage that builds `features`")
    inputs = assemblers[0].getInputCols()
    expect("churn" not in inputs, "`churn` is the label: as a feature it hands the model the answer")
    expect("total_charges" not in inputs,
           "the assembler reads the raw `total_charges`, not the Imputer's output column")
    expect(not any(isinstance(s, ImputerModel) for s in churn_pipeline.getStages()),
           "the pipeline holds an Imputer already fitted on every customer, test rows included: "
           "give it the unfitted one")
    imputers = [s for s in churn_model.stages if isinstance(s, ImputerModel)]
    expect(len(imputers) == 1, "the pipeline needs one Imputer stage that fills the missing total charges")
    expect(imputers[0].getStrategy() == "median",
           "the Imputer fills with the mean, its default; keep the median the colleague chose")
    train, test = _table("churn").randomSplit(*SPLIT)
    got, want = _probabilities(churn_model, test), _probabilities(_reference_churn_model(train), test)
    expect(got.keys() == want.keys() and max(abs(got[k] - want[k]) for k in want) < 1e-4,
           "the model differs from the same pipeline fitted on `churn_train` alone: was it fitted on other rows?")


# --- Exercise 4: choose the metric, then compute it ---------------------------------------

def form_score(diabetes_score) -> None:
    expect(isinstance(diabetes_score, (int, float)) and not isinstance(diabetes_score, bool),
           f"expected `diabetes_score` to be a number (what `evaluate()` returns); got {describe(diabetes_score)}")


def _diabetes_metrics() -> dict[tuple[str, str], float]:
    """Every metric of the lesson's diabetes model, on its test and its training rows."""
    from pyspark.ml import Pipeline
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    diabetes = _table("diabetes")
    train, test = diabetes.randomSplit(*SPLIT)
    model = Pipeline(stages=[
        VectorAssembler(inputCols=[c for c in diabetes.columns if c != "target"], outputCol="features"),
        LinearRegression(labelCol="target")]).fit(train)
    evaluator = RegressionEvaluator(labelCol="target")
    return {(split, metric): evaluator.evaluate(model.transform(rows), {evaluator.metricName: metric})
            for split, rows in (("test", test), ("train", train)) for metric in ("mae", "rmse", "mse", "r2")}


def judge_score(diabetes_score) -> None:
    metrics = _diabetes_metrics()

    def near(key):
        return abs(diabetes_score - metrics[key]) <= 1e-6 * max(1.0, abs(metrics[key]))

    if near(("test", "mae")):
        return
    expect(not near(("test", "rmse")),
           "that is the RMSE (the evaluator's default): squaring lets the worst patients dominate it")
    expect(not near(("test", "mse")), "that is the MSE: squared misses, not in the target's own units")
    expect(not near(("test", "r2")), "that is R², a share of explained variance, not the size of a miss")
    expect(not any(near(("train", m)) for m in ("mae", "rmse", "mse", "r2")),
           "that is measured on the training rows, which the model has seen: use the held-out patients")
    raise CheckFailed("that is none of `diab_model`'s metrics on `diab_test`: "
                      "was it typed from another model's output?")


# --- Exercise 5: which are Estimators? ----------------------------------------------------

def form_estimators(estimators) -> None:
    expect_type(estimators, (set, frozenset), "`estimators`")
    unknown = sorted(set(estimators) - set(STAGES))
    if unknown:
        raise CheckFailed(f"`{unknown[0]}` is not one of the names in the table (spelling counts)")


def judge_estimators(estimators) -> None:
    key = {name for name, (estimator, _) in STAGES.items() if estimator}
    reasons = {name: reason for name, (_, reason) in STAGES.items()}
    expect_choice(estimators, key, why_wrong=reasons, why_missing=reasons, what="`estimators`")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: fix a split that leaks",
    syllabus=("D3.random-split", "S3.04"), names=tuple(PARTS), form=form_split, judge=judge_split,
    hints=("Each `randomSplit` call draws its own random sample, so two calls on the same table overlap: "
           "split `churn` once (splitting one of its parts again is fine).",
           "`randomSplit` takes one weight per part (rescaled if they do not sum to 1), returns that many "
           "DataFrames in the order of the weights, and `seed=` makes it repeatable.",
           "`train_part, val_part, test_part = churn.randomSplit([__, __, __], seed=__)`"),
    solution_code="train_part, val_part, test_part = churn.randomSplit([0.7, 0.15, 0.15], seed=7)",
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: an assembler for penguin body mass",
    syllabus=("D2.vector-assembler", "S3.04"), names=("penguin_assembler",),
    form=form_assembler, judge=judge_assembler,
    hints=("Two things are wrong: the answer itself is among the features, and two penguins have no "
           "measurements at all.",
           "`inputCols` lists only predictors; `handleInvalid` decides what happens to a row with a null: "
           "'error' (the default), 'skip' or 'keep'. Which leaves something a regression can fit?",
           "`VectorAssembler(inputCols=[__, __, __], outputCol=__, handleInvalid=__)`"),
    solution_code=('penguin_assembler = VectorAssembler(\n'
                   '    inputCols=["bill_length_mm", "bill_depth_mm", "flipper_length_mm"],\n'
                   '    outputCol="features", handleInvalid="skip")'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: fix a churn pipeline that leaks",
    syllabus=("D1.estimator-transformer", "D2.imputer", "S3.03", "S3.04"),
    names=("churn_pipeline", "churn_model"), form=form_pipeline, judge=judge_pipeline,
    hints=("A stage fitted before the split has seen the test rows; and the label must never be a feature.",
           "`Pipeline.fit(df)` fits every Estimator stage on `df` and keeps a fitted Model stage as it is. "
           "So hand the Pipeline an Imputer on which `fit` was never called.",
           "`Pipeline(stages=[Imputer(strategy=__, inputCols=[__], outputCols=[__]), VectorAssembler(...), "
           "LogisticRegression(labelCol=__)])`, then `.fit(__)`"),
    solution_code=('imputer = Imputer(strategy="median", inputCols=["total_charges"],\n'
                   '                  outputCols=["total_charges_filled"])\n'
                   'assembler = VectorAssembler(outputCol="features",\n'
                   '    inputCols=["tenure_months", "monthly_charges", "total_charges_filled", "support_calls"])\n'
                   'churn_pipeline = Pipeline(stages=[imputer, assembler, LogisticRegression(labelCol="churn")])\n'
                   'churn_model = churn_pipeline.fit(churn_train)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: choose the metric, then compute it",
    syllabus=("D3.regression-metrics", "S3.12"), names=("diabetes_score",), form=form_score, judge=judge_score,
    hints=("Which metric is a typical miss in the label's own units, without squaring the misses? "
           "And which rows has the model not seen?",
           "`RegressionEvaluator(labelCol=..., metricName=...)` scores a DataFrame of predictions, "
           "which `diab_model.transform(...)` makes. The label here is `target`, not `label`.",
           "`RegressionEvaluator(labelCol=__, metricName=__).evaluate(diab_model.transform(__))`"),
    solution_code=('diabetes_score = RegressionEvaluator(labelCol="target", metricName="mae").evaluate(\n'
                   '    diab_model.transform(diab_test))'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: which are Estimators?",
    syllabus=("D1.estimator-transformer", "S3.03"), names=("estimators",),
    form=form_estimators, judge=judge_estimators, guessable=True,
    hints=("Ask of each one: must it learn something from the data before it can transform anything?",
           "An Estimator has `fit()`, which returns a Model; every Model is a Transformer. An Evaluator "
           "has `evaluate()` and is neither.",
           "Four of the eight are Estimators: `estimators = {\"__\", \"__\", \"__\", \"__\"}`"),
    solution_code='estimators = {"MinMaxScaler", "QuantileDiscretizer", "IDF", "CrossValidator"}',
)
