"""Exercises of week 1, lesson 2: supervised vs unsupervised learning on real data."""
from __future__ import annotations

from course.checks import Exercise, describe, expect, expect_type

LESSON = "02-supervised-unsupervised"

TASK_TYPES = ("classification", "regression", "clustering", "dimensionality reduction")
SCENARIOS = {
    "house_price": "estimate the sale price in dollars of newly listed homes from past sales",
    "spam": "flag incoming e-mails as spam or not spam, using e-mails users have already flagged",
    "customer_segments": "group customers by purchasing behaviour; nobody has ever defined the groups",
    "sensor_compression": "replace 300 correlated sensor readings by a handful of new columns",
    "bike_demand": "forecast how many bikes will be rented tomorrow from past daily rentals",
    "default_probability": "give each loan applicant a probability of defaulting, from past loans that did or did not default",
}


def check_task_types(task_types) -> None:
    expect_type(task_types, dict, "`task_types`")
    missing = sorted(set(SCENARIOS) - set(task_types))
    extra = sorted(set(task_types) - set(SCENARIOS))
    expect(not missing, f"no answer yet for {missing}: give one task type per scenario key")
    expect(not extra, f"{extra} are not scenario keys of this exercise (spelling counts)")
    unknown = sorted(k for k, v in task_types.items() if v not in TASK_TYPES)
    expect(not unknown, f"the answers for {unknown} are not one of the four task types, spelled exactly "
                        f"as listed (lower case): {', '.join(repr(t) for t in TASK_TYPES)}")


def check_classifier(clf_pipeline, clf_model, test_accuracy) -> None:
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import DecisionTreeClassificationModel, DecisionTreeClassifier
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    expect_type(clf_pipeline, Pipeline, "`clf_pipeline`")
    expect_type(clf_model, PipelineModel, "`clf_model` (what `clf_pipeline.fit(...)` returns)")
    stages = clf_pipeline.getStages()
    kinds = [type(s) for s in stages]
    expect(kinds[:1] == [StringIndexer], "the first stage should turn the string label into numbers")
    expect(VectorAssembler in kinds, "the pipeline needs a stage that builds the feature vector")
    expect(kinds[-1:] == [DecisionTreeClassifier], "the last stage should be the classifier the exercise names, unfitted")
    tree, indexer = stages[-1], stages[0]
    expect(tree.getLabelCol() == indexer.getOutputCol(),
           "the classifier's `labelCol` is not the column the StringIndexer writes")
    assembler = next(s for s in stages if isinstance(s, VectorAssembler))
    expect(tree.getFeaturesCol() == assembler.getOutputCol(),
           "the classifier's `featuresCol` is not the column the VectorAssembler writes")
    expect(isinstance(clf_model.stages[-1], DecisionTreeClassificationModel),
           "the fitted pipeline's last stage should be a fitted decision tree")
    expect(clf_model.stages[-1].numClasses == 3, "the fitted tree should tell three classes apart")
    expect(isinstance(test_accuracy, float) and not isinstance(test_accuracy, bool),
           f"expected `test_accuracy` to be a float (what .evaluate() returns); got {describe(test_accuracy)}")
    expect(0.0 <= test_accuracy <= 1.0, "an accuracy lies between 0 and 1")
    expect(test_accuracy > 0.5, "that score is too low for these measurements: are the predictions and labels "
                                "from the same pipeline?")


def check_kmeans(kmeans_model, silhouette) -> None:
    from pyspark.ml.clustering import KMeansModel

    expect_type(kmeans_model, KMeansModel, "`kmeans_model` (what `KMeans(...).fit(...)` returns)")
    expect(len(kmeans_model.clusterCenters()) == 3,
           "the model does not have the number of clusters the exercise asks for")
    expect(isinstance(silhouette, float) and not isinstance(silhouette, bool),
           f"expected `silhouette` to be a float (what .evaluate() returns); got {describe(silhouette)}")
    expect(-1.0 <= silhouette <= 1.0, "a silhouette score lies between -1 and 1")


def check_pca(pca_model, variance_2) -> None:
    from pyspark.ml.feature import PCAModel

    expect_type(pca_model, PCAModel, "`pca_model` (what `PCA(...).fit(...)` returns)")
    expect(pca_model.pc.numCols == 2,
           "the model does not keep the number of components the exercise asks for")
    expect(isinstance(variance_2, float) and not isinstance(variance_2, bool),
           f"expected `variance_2` to be a plain float; got {describe(variance_2)}")
    expect(0.0 < variance_2 <= 1.0 + 1e-9, "a share of the variance lies between 0 and 1")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: name the task",
    syllabus=("D1.supervised", "D1.unsupervised", "S3.01"), names=("task_types",), checker=check_task_types,
    hints=("First ask: is there a known answer (a label) in the past data? No label means unsupervised.",
           "With a label, look at what is predicted: a category is classification, a quantity is regression.",
           "A probability of a yes/no outcome comes from a classifier; a count of things is a quantity."),
    solution_code=('task_types = {\n'
                   '    "house_price": "regression",\n'
                   '    "spam": "classification",\n'
                   '    "customer_segments": "clustering",\n'
                   '    "sensor_compression": "dimensionality reduction",\n'
                   '    "bike_demand": "regression",\n'
                   '    "default_probability": "classification",\n'
                   '}'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: a species classifier",
    syllabus=("D1.supervised", "S3.01", "S3.04"), names=("clf_pipeline", "clf_model", "test_accuracy"),
    checker=check_classifier,
    hints=("Three stages: StringIndexer (species -> label), VectorAssembler (the four measurements), "
           "DecisionTreeClassifier(maxDepth=3).",
           "Fit the pipeline on `penguins_train` only, then transform `penguins_test`.",
           "MulticlassClassificationEvaluator does not compute accuracy unless you ask: set `metricName`."),
    solution_code=('clf_pipeline = Pipeline(stages=[\n'
                   '    StringIndexer(inputCol="species", outputCol="label"),\n'
                   '    VectorAssembler(inputCols=FEATURES, outputCol="features"),\n'
                   '    DecisionTreeClassifier(maxDepth=3, labelCol="label", featuresCol="features")])\n'
                   'clf_model = clf_pipeline.fit(penguins_train)\n'
                   'test_accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(\n'
                   '    clf_model.transform(penguins_test))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: cluster the penguins",
    syllabus=("D1.unsupervised", "S3.01"), names=("kmeans_model", "silhouette"), checker=check_kmeans,
    hints=("`KMeans(k=..., seed=..., featuresCol=...)` then `.fit(penguins_scaled)`.",
           "The scaled vectors are in the column `scaled`, not in `features`.",
           "The evaluator must measure distances in the same column the model clustered: set its `featuresCol` too."),
    solution_code=('kmeans_model = KMeans(k=3, seed=7, featuresCol="scaled").fit(penguins_scaled)\n'
                   'silhouette = ClusteringEvaluator(featuresCol="scaled").evaluate(\n'
                   '    kmeans_model.transform(penguins_scaled))'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: two principal components",
    syllabus=("D1.unsupervised", "S3.01"), names=("pca_model", "variance_2"), checker=check_pca,
    hints=("`PCA(k=..., inputCol=..., outputCol=...)` is an Estimator: fit it on `penguins_scaled`.",
           "Use the standardised column `scaled`: on raw grams and millimetres one column swamps the rest.",
           "`explainedVariance` holds one share per component; the exercise wants both together, as a float."),
    solution_code=('pca_model = PCA(k=2, inputCol="scaled", outputCol="pca_2").fit(penguins_scaled)\n'
                   'variance_2 = float(sum(pca_model.explainedVariance))'),
)
