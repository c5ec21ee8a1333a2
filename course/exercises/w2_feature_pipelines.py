"""Exercises of week 2, lesson 2: feature engineering pipelines without leakage.

The lesson encodes the string columns of ``listings``; the exercises encode ``churn`` for a
logistic regression, mend a leaking ``listings`` pipeline, decide where one-hot encoding belongs
and count the slots of an encoded ``penguins`` vector. Every judge recomputes the truth from
``course.datasets``, never from the lesson's variables, and names the mistake in one sentence; the
answers each judge was written against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "02-feature-pipelines"
SPLIT = ([0.8, 0.2], 42)   # weights and seed of every split of the lesson
CHURN_CATEGORIES = ["contract", "internet_service", "payment_method"]
CHURN_NUMBERS = ["tenure_months", "monthly_charges", "support_calls", "senior_citizen"]
LISTING_NUMBERS = ["accommodates", "number_of_reviews", "minimum_nights"]
PENGUIN_CATEGORIES = ["island", "sex", "year"]
PENGUIN_NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
NEW_CUSTOMERS = {"contract": "Three year", "payment_method": "Crypto wallet"}   # never in `churn`
SCENARIOS = {  # letter -> (needs one-hot, why a wrong pick is wrong / how a missing one is described)
    "A": (True, "a linear classifier reading an unordered category with a handful of values is missing"),
    "B": (False, "a random forest splits on sets of indexed categories itself; one-hot would scatter "
                 "one feature over many sparse columns"),
    "C": (True, "a linear regression reading a category of ten unordered values is missing"),
    "D": (False, "gradient-boosted trees split on the indexed neighbourhoods directly"),
    "E": (False, "the number of guests is already a number whose size means something: nothing to encode"),
    "F": (True, "a distance-based model, for which the gap between two index values would be a fake "
                "distance, is missing"),
    "G": (False, "a shared feature table should keep the raw category: each model's pipeline encodes it "
                 "the way that model needs"),
    "H": (False, "an identifier with one value per row gives one column per customer: the model memorises "
                 "rows instead of learning; drop it"),
}


def _spark():
    from course.spark import get_spark

    return get_spark()   # the notebook's session (Spark Connect or classic)


def _table(name: str, spark=None):
    from course import datasets

    return datasets.load_spark(name, spark or _spark())


def _split(name: str):
    return _table(name).randomSplit(*SPLIT)


def _fitted_stages(pipeline) -> list:
    from pyspark.ml import Model

    return [s for s in pipeline.getStages() if isinstance(s, Model)]


def _assembled(model) -> list[str]:
    from pyspark.ml.feature import VectorAssembler

    return [c for s in model.stages if isinstance(s, VectorAssembler) for c in s.getInputCols()]


def _near(got: dict, want: dict, tolerance: float) -> bool:
    return got.keys() == want.keys() and all(abs(got[k] - want[k]) <= tolerance * max(1.0, abs(want[k]))
                                             for k in want)


def _form_pipeline_pair(pipeline, model, pipeline_name: str, model_name: str) -> None:
    from pyspark.ml import Pipeline, PipelineModel

    expect_type(pipeline, Pipeline, f"`{pipeline_name}` (the unfitted Pipeline)")
    expect_type(model, PipelineModel, f"`{model_name}` (what `{pipeline_name}.fit(...)` returns)")


def _unencoded_indices(model) -> list[str]:
    """Outputs of a StringIndexer stage that reach an assembler without a OneHotEncoder."""
    from pyspark.ml.feature import OneHotEncoderModel, StringIndexerModel

    indexed = [c for s in model.stages if isinstance(s, StringIndexerModel)
               for c in (s.getOutputCols() if s.isSet("outputCols") else [s.getOutputCol()])]
    encoded = [c for s in model.stages if isinstance(s, OneHotEncoderModel)
               for c in (s.getInputCols() if s.isSet("inputCols") else [s.getInputCol()])]
    return [c for c in indexed if c in _assembled(model) and c not in encoded]


# --- Exercise 1: one-hot encode churn for a logistic regression ---------------------------

def form_churn_encoded(churn_encoded_pipeline, churn_encoded_model) -> None:
    _form_pipeline_pair(churn_encoded_pipeline, churn_encoded_model, "churn_encoded_pipeline", "churn_encoded_model")


def _churn_probabilities(model, rows) -> dict[str, float]:
    return {r.customer_id: float(r.probability[1])
            for r in model.transform(rows).select("customer_id", "probability").collect()}


def _reference_churn(train):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    index = [f"{c}_ref_i" for c in CHURN_CATEGORIES]
    vectors = [f"{c}_ref_v" for c in CHURN_CATEGORIES]
    return Pipeline(stages=[
        StringIndexer(inputCols=CHURN_CATEGORIES, outputCols=index, handleInvalid="keep"),
        OneHotEncoder(inputCols=index, outputCols=vectors),
        VectorAssembler(inputCols=vectors + CHURN_NUMBERS, outputCol="features"),
        LogisticRegression(labelCol="churn")]).fit(train)


def new_customers(test):
    """Five test customers given a contract and a payment method that `churn` never had."""
    from pyspark.sql import functions as F

    rows = test.orderBy("customer_id").limit(5)
    for column, value in NEW_CUSTOMERS.items():
        rows = rows.withColumn(column, F.lit(value))
    return rows


def judge_churn_encoded(churn_encoded_pipeline, churn_encoded_model) -> None:
    from pyspark.ml.classification import LogisticRegressionModel

    fitted = _fitted_stages(churn_encoded_pipeline)
    expect(not fitted, f"the pipeline holds a `{type(fitted[0]).__name__ if fitted else ''}` fitted before "
                       "the split, on rows that include the test customers: give it the unfitted stage")
    last = churn_encoded_model.stages[-1]
    expect(isinstance(last, LogisticRegressionModel) and last.getLabelCol() == "churn",
           "the last stage should be a LogisticRegression with `churn` as its label")
    inputs = _assembled(churn_encoded_model)
    expect("churn" not in inputs, "`churn` is the label: as a feature it hands the model the answer")
    expect("customer_id" not in " ".join(inputs),
           "`customer_id` is an identifier, one value per customer: it is no feature")
    raw = [c for c in CHURN_CATEGORIES if c in inputs]
    expect(not raw, f"`{raw[0] if raw else ''}` holds strings: index it, then one-hot encode it")
    bare = _unencoded_indices(churn_encoded_model)
    expect(not bare, f"the index `{bare[0] if bare else ''}` goes into the model as a number, as if the "
                     "categories were ordered and evenly spaced: one-hot encode it")
    train, test = _split("churn")
    got, want = _churn_probabilities(churn_encoded_model, test), _churn_probabilities(_reference_churn(train), test)
    expect(got.keys() == want.keys(), "the model does not score every test customer: does a stage drop rows?")
    if not _near(got, want, 1e-3) and _near(got, _churn_probabilities(_reference_churn(_table("churn")), test), 1e-3):
        raise CheckFailed("the model was fitted on every customer, the test customers included: "
                          "fit the pipeline on `churn_train`")
    expect(_near(got, want, 1e-3),
           "the churn probabilities differ from a logistic regression on the three one-hot encoded categories "
           "and the four numeric columns, fitted on `churn_train`: is a feature missing or extra?")
    try:
        scored = churn_encoded_model.transform(new_customers(test)).select("probability").collect()
    except Exception:
        raise CheckFailed("customers with a contract or payment method the training rows never had stop the "
                          "model with an error: see StringIndexer's `handleInvalid`") from None
    expect(len(scored) == 5, "customers with a contract or payment method the training rows never had are "
                             "dropped, not scored: `'skip'` is not the right `handleInvalid`")


# --- Exercise 2: fix a listings pipeline that leaks ---------------------------------------

def form_price(price_pipeline, price_model) -> None:
    _form_pipeline_pair(price_pipeline, price_model, "price_pipeline", "price_model")


def _price_predictions(model, rows) -> dict[int, float]:
    return {r.listing_id: float(r.prediction)
            for r in model.transform(rows).select("listing_id", "prediction").collect()}


def _reference_price(train):
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
    from pyspark.ml.regression import LinearRegression

    return Pipeline(stages=[
        StringIndexer(inputCol="room_type", outputCol="room_ref_i"),
        VectorAssembler(inputCols=LISTING_NUMBERS, outputCol="numbers_ref"),
        StandardScaler(inputCol="numbers_ref", outputCol="scaled_ref", withMean=True),
        OneHotEncoder(inputCol="room_ref_i", outputCol="room_ref_v"),
        VectorAssembler(inputCols=["scaled_ref", "room_ref_v"], outputCol="features"),
        LinearRegression(labelCol="price")]).fit(train)


def judge_price(price_pipeline, price_model) -> None:
    from pyspark.ml.feature import OneHotEncoderModel, StandardScalerModel, StringIndexerModel
    from pyspark.ml.regression import LinearRegressionModel

    for stage in _fitted_stages(price_pipeline):
        if isinstance(stage, StandardScalerModel):
            raise CheckFailed("the scaler in the pipeline was fitted before the split: its mean and spread "
                              "include the test listings; give the pipeline an unfitted StandardScaler")
        if isinstance(stage, StringIndexerModel):
            raise CheckFailed("the StringIndexer in the pipeline was fitted on every listing, test rows "
                              "included; give the pipeline an unfitted one")
        raise CheckFailed(f"the pipeline holds a `{type(stage).__name__}` fitted before the split: "
                          "give it unfitted stages")
    inputs = _assembled(price_model)
    expect("price" not in inputs, "`price` is the label: among the features it hands the model the answer")
    expect("room_type" not in inputs, "`room_type` holds strings: the assembler needs its one-hot vector")
    expect(any(isinstance(s, OneHotEncoderModel) for s in price_model.stages) and not _unencoded_indices(price_model),
           "a linear regression needs the room type one-hot encoded, not as an index or left out")
    expect(any(isinstance(s, StandardScalerModel) for s in price_model.stages),
           "keep the scaler, fitted inside the pipeline like every other stage")
    last = price_model.stages[-1]
    expect(isinstance(last, LinearRegressionModel) and last.getLabelCol() == "price",
           "the last stage should be the LinearRegression of `price`")
    train, test = _split("listings")
    got = _price_predictions(price_model, test)
    if _near(got, _price_predictions(_reference_price(train), test), 1e-4):
        return
    expect(not _near(got, _price_predictions(_reference_price(_table("listings")), test), 1e-4),
           "the pipeline was fitted on every listing, the test rows included: fit it on `train`")
    raise CheckFailed("the predictions differ from the mended pipeline fitted on `train`: "
                      "is one of the three numbers lost, or another column added?")


# --- Exercise 3: where does one-hot encoding belong? --------------------------------------

def form_one_hot(needs_one_hot) -> None:
    expect_type(needs_one_hot, (set, frozenset), "`needs_one_hot`")
    unknown = sorted(str(x) for x in set(needs_one_hot) - set(SCENARIOS))
    if unknown:
        raise CheckFailed(f"`{unknown[0]}` is not one of the scenario letters A to H (capital letters)")


def judge_one_hot(needs_one_hot) -> None:
    key = {letter for letter, (needed, _) in SCENARIOS.items() if needed}
    reasons = {letter: reason for letter, (_, reason) in SCENARIOS.items()}
    expect_choice(needs_one_hot, key, why_wrong=reasons, why_missing=reasons, what="`needs_one_hot`")


# --- Exercise 4: how long is the vector? --------------------------------------------------

def penguin_pipeline():
    """The encoding pipeline of exercise 4 (the notebook spells out the same stages)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    index = [f"{c}_i" for c in PENGUIN_CATEGORIES]
    vectors = [f"{c}_v" for c in PENGUIN_CATEGORIES]
    return Pipeline(stages=[
        StringIndexer(inputCols=PENGUIN_CATEGORIES, outputCols=index, handleInvalid="keep"),
        OneHotEncoder(inputCols=index, outputCols=vectors),
        VectorAssembler(inputCols=vectors + PENGUIN_NUMBERS, outputCol="features", handleInvalid="skip")])


def form_slots(n_features) -> None:
    expect(isinstance(n_features, int) and not isinstance(n_features, bool),
           f"expected `n_features` to be a whole number (an int); got {describe(n_features)}")


def judge_slots(n_features) -> None:
    train, _ = _split("penguins")
    distinct = {c: train.select(c).dropna().distinct().count() for c in PENGUIN_CATEGORIES}
    truth = len(penguin_pipeline().fit(train).transform(train).first()["features"])
    if n_features == truth:
        return
    categories = sum(distinct.values())
    numbers = len(PENGUIN_NUMBERS)
    expect(n_features != categories - len(distinct) + numbers,
           "`handleInvalid='keep'` gives each indexed column one more index, for unseen values and nulls, "
           "before `dropLast` drops one")
    expect(n_features != categories + len(distinct) + numbers,
           "`dropLast=True` (the default) drops the last slot of each encoded column")
    expect(n_features != categories, "the four measurements fill a slot each too")
    raise CheckFailed("that is not the length of the vectors: count the slots column by column, "
                      "from the distinct values of the training rows")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: one-hot encode churn for a logistic regression",
    syllabus=("D2.indexer-encoder", "S2.07", "S3.04"),
    names=("churn_encoded_pipeline", "churn_encoded_model"), form=form_churn_encoded, judge=judge_churn_encoded,
    hints=("A linear model multiplies each feature by a weight, so a category needs one 0/1 column per value; "
           "strings need an index first; and a value never seen in training must not stop the model.",
           "`StringIndexer(inputCols=..., outputCols=..., handleInvalid=...)` then `OneHotEncoder(inputCols=..., "
           "outputCols=...)`, then a `VectorAssembler` of the encoded vectors and the numbers, then the model; "
           "`Pipeline(stages=[...]).fit(churn_train)`.",
           "`Pipeline(stages=[StringIndexer(inputCols=__, outputCols=__, handleInvalid=__), "
           "OneHotEncoder(inputCols=__, outputCols=__), VectorAssembler(inputCols=__ + __, outputCol=\"features\"), "
           "LogisticRegression(labelCol=__)])`"),
    solution_code=(
        'categories = ["contract", "internet_service", "payment_method"]\n'
        'indexed = [c + "_index" for c in categories]\n'
        'encoded = [c + "_vec" for c in categories]\n'
        'churn_encoded_pipeline = Pipeline(stages=[\n'
        '    StringIndexer(inputCols=categories, outputCols=indexed, handleInvalid="keep"),\n'
        '    OneHotEncoder(inputCols=indexed, outputCols=encoded),\n'
        '    VectorAssembler(outputCol="features",\n'
        '                    inputCols=encoded + ["tenure_months", "monthly_charges", "support_calls", "senior_citizen"]),\n'
        '    LogisticRegression(labelCol="churn")])\n'
        'churn_encoded_model = churn_encoded_pipeline.fit(churn_train)'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix a listings pipeline that leaks",
    syllabus=("D2.leakage", "D2.indexer-encoder", "S3.04"),
    names=("price_pipeline", "price_model"), form=form_price, judge=judge_price,
    hints=("Four things are wrong: two stages learnt from every listing before the split, the label is a "
           "feature, and one encoder is given strings.",
           "A Pipeline keeps a stage on which `fit` was already called as it is; hand it the unfitted "
           "`StringIndexer(...)` and `StandardScaler(...)`. `OneHotEncoder` reads the indexer's numeric output.",
           "`Pipeline(stages=[StringIndexer(inputCol=__, outputCol=__), VectorAssembler(inputCols=[__, __, __], "
           "outputCol=__), StandardScaler(inputCol=__, outputCol=__, withMean=True), OneHotEncoder(inputCol=__, "
           "outputCol=__), VectorAssembler(...), LinearRegression(labelCol=__)])`, then `.fit(__)`"),
    solution_code=(
        'room_indexer = StringIndexer(inputCol="room_type", outputCol="room_idx")\n'
        'numbers = VectorAssembler(inputCols=["accommodates", "number_of_reviews", "minimum_nights"], outputCol="numbers")\n'
        'scaler = StandardScaler(inputCol="numbers", outputCol="scaled", withMean=True)\n'
        'room_encoder = OneHotEncoder(inputCol="room_idx", outputCol="room_vec")\n'
        'features = VectorAssembler(inputCols=["scaled", "room_vec"], outputCol="features")\n'
        'price_pipeline = Pipeline(stages=[room_indexer, numbers, scaler, room_encoder, features,\n'
        '                                  LinearRegression(labelCol="price")])\n'
        'price_model = price_pipeline.fit(train)'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: where does one-hot encoding belong?",
    syllabus=("S2.08", "S2.07", "D2.encode-in-pipeline"), names=("needs_one_hot",),
    form=form_one_hot, judge=judge_one_hot, guessable=True,
    hints=("Ask of each scenario: does the model do arithmetic on the feature's value (weights, distances), "
           "and is the feature an unordered category with few values?",
           "Linear and distance-based models read an index as a quantity; Spark's trees read the StringIndexer's "
           "metadata and split on sets of categories; an identifier or a ready number has nothing to encode; "
           "and a shared table serves models that need different encodings.",
           "Three of the eight letters: `needs_one_hot = {\"__\", \"__\", \"__\"}`"),
    solution_code='needs_one_hot = {"A", "C", "F"}',
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: how long is the vector?",
    syllabus=("D2.indexer-encoder", "S2.07"), names=("n_features",),
    form=form_slots, judge=judge_slots, guessable=True,
    hints=("Each encoded column gives one slot per index the StringIndexer can output, minus the one "
           "`dropLast` removes; each number gives one slot.",
           "Count the distinct non-null values of `island`, `sex` and `year` in `peng_train` "
           "(`select(...).dropna().distinct().count()`); `handleInvalid='keep'` adds one index per column.",
           "`n_features = (__ + 1 - 1) + (__ + 1 - 1) + (__ + 1 - 1) + __`, or measure "
           "`len(...first()[\"features\"])` of the fitted pipeline's output"),
    solution_code=('fitted = penguin_features.fit(peng_train)\n'
                   'n_features = len(fitted.transform(peng_train).first()["features"])'),
)
