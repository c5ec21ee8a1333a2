"""Exercises of week 1, lesson 3: Spark ML building blocks."""
from __future__ import annotations

from course.checks import (Exercise, describe, expect, expect_spark_dataframe,
                           expect_type, expect_vector_column)

LESSON = "03-spark-ml-building-blocks"
ESTIMATOR_CHOICES = ("VectorAssembler", "StringIndexer", "LinearRegression", "LinearRegressionModel",
                     "Imputer", "ImputerModel", "Pipeline", "PipelineModel")


def _listings():
    from course import datasets
    from course.spark import get_spark

    return datasets.load_spark("listings", get_spark())


def check_split(train_df, val_df, test_df) -> None:
    for name, df in (("train_df", train_df), ("val_df", val_df), ("test_df", test_df)):
        expect_spark_dataframe(df, name)
    ids = {}
    for name, df in (("train_df", train_df), ("val_df", val_df), ("test_df", test_df)):
        expect("listing_id" in df.columns, f"{name} lost the `listing_id` column: split the rows, keep every column")
        ids[name] = [r.listing_id for r in df.select("listing_id").collect()]
    total = sum(len(found) for found in ids.values())
    everything = {r.listing_id for r in _listings().select("listing_id").collect()}
    seen = set(ids["train_df"]) | set(ids["val_df"]) | set(ids["test_df"])
    expect(total == len(seen), "some listings appear in two of the splits: the three parts must not overlap")
    expect(seen == everything, "the three parts together must hold every listing of `listings` exactly once")
    shares = [len(ids[n]) / len(everything) for n in ("train_df", "val_df", "test_df")]
    expect(abs(shares[0] - 0.6) < 0.03 and abs(shares[1] - 0.2) < 0.03 and abs(shares[2] - 0.2) < 0.03,
           "the parts should hold about 60%, 20% and 20% of the rows; got "
           + ", ".join(f"{s:.0%}" for s in shares))


def check_assembler(assembler) -> None:
    from pyspark.ml.feature import VectorAssembler

    expect_type(assembler, VectorAssembler, "`assembler`")
    expect(assembler.getOutputCol() == "features", "the assembled vector column should be called `features`")
    expect(assembler.isSet("inputCols") and len(assembler.getInputCols()) == 4,
           "`inputCols` should list four numeric columns")
    out = assembler.transform(_listings().limit(50))
    expect_vector_column(out, "features", "the assembler's output")


def check_pipeline(pipeline, pipeline_model) -> None:
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.feature import Imputer, VectorAssembler
    from pyspark.ml.regression import LinearRegression, LinearRegressionModel

    expect_type(pipeline, Pipeline, "`pipeline`")
    expect_type(pipeline_model, PipelineModel, "`pipeline_model` (what `pipeline.fit(...)` returns)")
    kinds = [type(s) for s in pipeline.getStages()]
    expect(kinds[:1] == [Imputer], "the first stage should fill the missing values")
    expect(VectorAssembler in kinds, "the pipeline needs a stage that builds the `features` vector")
    expect(kinds[-1:] == [LinearRegression], "the last stage should be the regression estimator, unfitted")
    expect(isinstance(pipeline_model.stages[-1], LinearRegressionModel),
           "the fitted pipeline's last stage should be a LinearRegressionModel")
    expect(pipeline_model.stages[-1].getLabelCol() == "price", "the regression should predict `price`")


def check_test_mae(test_mae) -> None:
    expect(isinstance(test_mae, float), f"expected `test_mae` to be a float (what .evaluate() returns); got {describe(test_mae)}")
    expect(test_mae > 0, "a mean absolute error is positive")
    expect(test_mae < 200, "that error is far too large for nightly prices: did you evaluate predictions of `price`?")


def check_estimators(estimators) -> None:
    expect_type(estimators, (set, frozenset), "`estimators`")
    unknown = sorted(set(estimators) - set(ESTIMATOR_CHOICES))
    expect(not unknown, f"{unknown} are not among the listed names (spelling counts)")
    expect(len(estimators) > 0, "at least one of the listed names is an Estimator")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: a three-way split",
    syllabus=("D3.random-split", "S3.04"), names=("train_df", "val_df", "test_df"), checker=check_split,
    hints=("`DataFrame.randomSplit` takes a list of weights, one per part, and a `seed`.",
           "It returns a list of DataFrames, which you can unpack into three names.",
           "Weights of [0.6, 0.2, 0.2] and the seed the exercise names."),
    solution_code="train_df, val_df, test_df = listings.randomSplit([0.6, 0.2, 0.2], seed=7)",
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: assemble the features",
    syllabus=("D2.vector-assembler", "S3.04"), names=("assembler",), checker=check_assembler,
    hints=("`VectorAssembler(inputCols=[...], outputCol=...)` is a Transformer: no fit needed.",
           "Only the four numeric columns the exercise names, never the label `price`.",
           "`bedrooms` has missing values: `handleInvalid='skip'` drops those rows instead of failing."),
    solution_code=('assembler = VectorAssembler(\n'
                   '    inputCols=["accommodates", "bedrooms", "bathrooms", "number_of_reviews"],\n'
                   '    outputCol="features", handleInvalid="skip")'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: a training pipeline",
    syllabus=("D1.estimator-transformer", "D2.imputer", "S3.03", "S3.04"),
    names=("pipeline", "pipeline_model"), checker=check_pipeline,
    hints=("Three stages: Imputer, VectorAssembler, LinearRegression, in that order.",
           "`Imputer(strategy=...)` takes `inputCols` and `outputCols`; assemble the imputed columns.",
           "Fit the Pipeline on `train` only: `pipeline_model = pipeline.fit(train)`."),
    solution_code=('imputer = Imputer(strategy="median", inputCols=["bedrooms", "bathrooms"],\n'
                   '                  outputCols=["bedrooms_filled", "bathrooms_filled"])\n'
                   'assembler3 = VectorAssembler(inputCols=["accommodates", "bedrooms_filled", '
                   '"bathrooms_filled"], outputCol="features")\n'
                   'pipeline = Pipeline(stages=[imputer, assembler3, LinearRegression(labelCol="price")])\n'
                   'pipeline_model = pipeline.fit(train)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: evaluate with the right metric",
    syllabus=("D3.regression-metrics", "S3.12"), names=("test_mae",), checker=check_test_mae,
    hints=("`RegressionEvaluator` needs `labelCol`, `predictionCol` and `metricName`.",
           "Its default metric is not MAE.",
           "Evaluate `demo_model.transform(test)`: the held-out rows."),
    solution_code=('test_mae = RegressionEvaluator(labelCol="price", metricName="mae").evaluate(\n'
                   '    demo_model.transform(test))'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: which are Estimators?",
    syllabus=("D1.estimator-transformer", "S3.03"), names=("estimators",), checker=check_estimators,
    hints=("An Estimator has `fit()`; a Transformer has `transform()`.",
           "Whatever `fit()` returns is a Model, and every Model is a Transformer.",
           "A Pipeline is itself an Estimator; what its fit returns is not."),
    solution_code='estimators = {"StringIndexer", "LinearRegression", "Imputer", "Pipeline"}',
)
