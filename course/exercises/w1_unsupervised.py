"""Exercises of week 1, lesson 4: unsupervised learning, clustering and PCA.

The lesson's demos cluster and reduce the penguins' four measurements. Exercise 1 fixes a broken
clustering of another data set (the breast-cancer tumours, whose diagnosis must stay out);
exercise 2 chooses k for the penguins' bill shape alone, a question the demo never answers;
exercise 3 counts the principal components that reach 90% of the tumours' variance (a small
integer: guessable, so only its form is checked in a classroom). The judges recompute the truth
from ``course.datasets`` and compare clusterings as partitions, whatever number each cluster got.
"""
from __future__ import annotations

from course.checks import (CheckFailed, Exercise, assembled_columns, describe, expect, expect_type,
                           fitted_stages)

LESSON = "04-unsupervised-learning"
CLOSE = 1e-6
PENGUIN_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
BILL = ("bill_length_mm", "bill_depth_mm")
BILL_SEED = 1
BILL_KS = (2, 3, 4, 5, 6)
TUMOUR_K, TUMOUR_SEED = 2, 5
SHARE = 0.9

_CACHE: dict = {}


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.active()


def _as_float(value, name: str, what: str = "what `.evaluate()` returns") -> None:
    expect(isinstance(value, float) and not isinstance(value, bool),
           f"expected `{name}` to be a Python float ({what}); got {describe(value)}")


def _same_partition(mine: list, theirs: list) -> bool:
    """The same groups of rows, whatever number each cluster got."""
    return len(mine) == len(theirs) and len(set(zip(mine, theirs))) == len(set(mine)) == len(set(theirs))


# --- exercise 1: fix the tumour clustering ----------------------------------------------------

def tumours():
    from course import datasets

    return datasets.load_spark("breast_cancer", _spark())


def tumour_features() -> list[str]:
    return [c for c in tumours().columns if c != "target"]


def tumour_clusters(model) -> list[int]:
    """Each tumour's cluster, in the order of the tumours' own measurements."""
    columns = tumour_features()
    prediction = fitted_stages(model)[-1].getPredictionCol()
    rows = model.transform(tumours()).select(*columns, prediction).collect()
    return [r[-1] for r in sorted(rows, key=lambda r: tuple(r[:-1]))]


def _tumour_pipeline():
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    return Pipeline(stages=[VectorAssembler(inputCols=tumour_features(), outputCol="features"),
                            StandardScaler(inputCol="features", outputCol="scaled"),
                            KMeans(k=TUMOUR_K, seed=TUMOUR_SEED, featuresCol="scaled")])


def tumour_truth() -> dict:
    """The reference clustering and its silhouettes (computed once)."""
    if "tumour" not in _CACHE:
        from pyspark.ml.evaluation import ClusteringEvaluator

        model = _tumour_pipeline().fit(tumours())
        clustered = model.transform(tumours())
        _CACHE["tumour"] = {
            "clusters": tumour_clusters(model),
            "silhouette": ClusteringEvaluator(featuresCol="scaled").evaluate(clustered),
            "silhouette_unscaled": ClusteringEvaluator(featuresCol="features").evaluate(clustered),
        }
    return _CACHE["tumour"]


def form_tumour(tumour_model, tumour_silhouette) -> None:
    from pyspark.ml import PipelineModel
    from pyspark.ml.clustering import KMeansModel

    expect_type(tumour_model, PipelineModel, "`tumour_model` (what `Pipeline(...).fit(...)` returns)")
    expect(isinstance(fitted_stages(tumour_model)[-1], KMeansModel), "the pipeline's last stage should be the fitted k-means")
    _as_float(tumour_silhouette, "tumour_silhouette")
    expect(-1.0 <= tumour_silhouette <= 1.0, "a silhouette lies between -1 and 1")


def judge_tumour(tumour_model, tumour_silhouette) -> None:
    from pyspark.ml.feature import StandardScalerModel

    columns = assembled_columns(tumour_model)
    expect("target" not in columns, "the diagnosis `target` is among the clustered columns: a clustering is "
                                    "given no label, or it is no longer unsupervised")
    expect(columns == set(tumour_features()), "cluster the 30 measurements, all of them and nothing else")
    kmeans = fitted_stages(tumour_model)[-1]
    expect(kmeans.getK() == TUMOUR_K, "the k-means does not have the number of clusters the exercise asks for")
    expect(kmeans.getSeed() == TUMOUR_SEED, "the k-means does not use the seed the exercise names: without it "
                                            "the clusters can change from one session to the next")
    scalers = [s for s in fitted_stages(tumour_model)
               if isinstance(s, StandardScalerModel) and s.getOutputCol() == kmeans.getFeaturesCol()]
    expect(bool(scalers) and scalers[0].getWithStd(),
           "the k-means clusters vectors that were not standardised: columns measured in hundreds (the areas) "
           "outweigh all the others in every distance")
    truth = tumour_truth()
    expect(_same_partition(tumour_clusters(tumour_model), truth["clusters"]),
           "the clusters differ from a k-means with the exercise's k and seed on the standardised measurements")
    if abs(tumour_silhouette - truth["silhouette"]) > CLOSE:
        expect(abs(tumour_silhouette - truth["silhouette_unscaled"]) > CLOSE,
               "the evaluator measured distances in the unstandardised vectors: give it the column the k-means clustered")
        raise CheckFailed("`tumour_silhouette` is not the silhouette of these clusters on the standardised vectors")


# --- exercise 2: choose k for the bill shape --------------------------------------------------

def _penguins():
    from course import datasets

    return datasets.load_spark("penguins", _spark()).dropna(subset=list(PENGUIN_FEATURES))


def _sweep(columns, scale: bool = True, measure_scaled: bool = True) -> dict[int, float]:
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    stages = [VectorAssembler(inputCols=list(columns), outputCol="raw")]
    stages += [StandardScaler(inputCol="raw", outputCol="scaled")] if scale else []
    vectors = Pipeline(stages=stages).fit(_penguins()).transform(_penguins())
    clustered_column = "scaled" if scale else "raw"
    evaluator = ClusteringEvaluator(featuresCol=clustered_column if measure_scaled else "raw")
    return {k: evaluator.evaluate(KMeans(k=k, seed=BILL_SEED, featuresCol=clustered_column).fit(vectors)
                                  .transform(vectors))
            for k in BILL_KS}


def bill_truth() -> dict[int, float]:
    """Silhouette per k of k-means (seed 1) on the standardised bill measurements (computed once)."""
    if "bill" not in _CACHE:
        _CACHE["bill"] = _sweep(BILL)
    return _CACHE["bill"]


_BILL_MISTAKES = (  # (cache key, sweep arguments, what went wrong), tried in turn on a wrong answer
    ("bill_unscaled", (BILL, False), "the silhouettes match k-means on the unstandardised bill measurements: "
                                     "standardise them first"),
    ("bill_four", (PENGUIN_FEATURES, True), "the silhouettes match k-means on all four measurements; the question "
                                            "is about the bill alone"),
    ("bill_measured_raw", (BILL, True, False), "the k-means clustered the standardised vectors but the evaluator "
                                               "measured distances in the unstandardised ones"),
)


def form_bill(bill_silhouettes, best_k) -> None:
    expect_type(bill_silhouettes, dict, "`bill_silhouettes`")
    expect(set(bill_silhouettes) == set(BILL_KS),
           "`bill_silhouettes` should have one entry per k from 2 to 6, keyed by the integer k")
    for k, value in bill_silhouettes.items():
        _as_float(value, f"bill_silhouettes[{k}]")
        expect(-1.0 <= value <= 1.0, f"`bill_silhouettes[{k}]` is not a silhouette: those lie between -1 and 1")
    expect(isinstance(best_k, int) and not isinstance(best_k, bool),
           f"expected `best_k` to be an int; got {describe(best_k)}")
    expect(best_k in BILL_KS, "`best_k` should be one of the k you tried")


def judge_bill(bill_silhouettes, best_k) -> None:
    truth = bill_truth()

    def matches(sweep):
        return all(abs(bill_silhouettes[k] - sweep[k]) <= CLOSE for k in BILL_KS)

    if not matches(truth):
        for key, arguments, message in _BILL_MISTAKES:
            if key not in _CACHE:
                _CACHE[key] = _sweep(*arguments)
            expect(not matches(_CACHE[key]), message)
        raise CheckFailed("the silhouettes differ from k-means (seed=1) on the standardised bill length and depth, "
                          "measured on the vectors it clustered: check the seed and the columns")
    expect(best_k == max(truth, key=truth.get),
           "`best_k` is not the k whose silhouette is highest: read the silhouette directly, higher is better "
           "(the training cost always falls as k grows)")


# --- exercise 3: components for 90% of the variance -------------------------------------------

def pca_truth() -> dict:
    """Every component's share of the standardised tumour variance, and how many reach 90%."""
    if "pca" not in _CACHE:
        from pyspark.ml import Pipeline
        from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler

        columns = tumour_features()
        model = Pipeline(stages=[VectorAssembler(inputCols=columns, outputCol="features"),
                                 StandardScaler(inputCol="features", outputCol="scaled"),
                                 PCA(k=len(columns), inputCol="scaled", outputCol="pca")]).fit(tumours())
        shares = [float(s) for s in model.stages[-1].explainedVariance]
        total, n = 0.0, 0
        while total < SHARE:
            total, n = total + shares[n], n + 1
        _CACHE["pca"] = {"shares": shares, "n": n}
    return _CACHE["pca"]


def form_pca(tumour_pca, n_for_90) -> None:
    from pyspark.ml.feature import PCAModel

    expect_type(tumour_pca, PCAModel, "`tumour_pca` (what `PCA(...).fit(...)` returns)")
    expect(isinstance(n_for_90, int) and not isinstance(n_for_90, bool),
           f"expected `n_for_90` to be an int (a number of components); got {describe(n_for_90)}")
    expect(1 <= n_for_90 <= tumour_pca.getK(),
           "`n_for_90` should lie between 1 and the number of components your PCA keeps: keep enough "
           "components to see where the cumulative share reaches 90%")


def judge_pca(tumour_pca, n_for_90) -> None:
    inputs = tumour_pca.pc.numRows
    expect(inputs != len(tumour_features()) + 1, "the PCA's input has 31 columns: the diagnosis `target` is among "
                                                  "them, and it is not a measurement")
    expect(inputs == len(tumour_features()), f"the PCA's input has {inputs} columns; it should be the 30 measurements")
    truth = pca_truth()
    shares = [float(s) for s in tumour_pca.explainedVariance]
    if any(abs(a - b) > CLOSE for a, b in zip(shares, truth["shares"])):
        expect(shares[0] < 0.9, "the first component alone holds almost all the variance: the measurements were not "
                                "standardised, so the columns with the largest numbers dominate")
        raise CheckFailed("the components' shares differ from a PCA of the standardised 30 measurements")
    expect(n_for_90 >= truth["n"], "with that many components the cumulative share is still below 90%")
    expect(n_for_90 <= truth["n"], "fewer components already reach 90% of the variance: the smallest number is asked")


# --- the exercises ----------------------------------------------------------------------------

q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: fix the tumour clustering",
    syllabus=("D1.unsupervised", "S3.01"), names=("tumour_model", "tumour_silhouette"),
    form=form_tumour, judge=judge_tumour,
    hints=("Four things to check: which columns an unsupervised model may see, whether distances are fair to "
           "every column, whether the result is reproducible, and whether the evaluator measures the vectors "
           "that were clustered.",
           "`StandardScaler(inputCol=..., outputCol=...)` between the assembler and `KMeans`; `KMeans(featuresCol=..., "
           "seed=...)`; `ClusteringEvaluator(featuresCol=...)`; the 30 measurements are every column but one.",
           "Skeleton: `columns = [c for c in breast_cancer.columns if ...]`, then `Pipeline(stages=[VectorAssembler(...), "
           "StandardScaler(...), KMeans(k=..., seed=..., featuresCol=...)])`, fitted and scored with the evaluator "
           "pointed at the scaler's output."),
    solution_code=('tumour_columns = [c for c in breast_cancer.columns if c != "target"]\n'
                   'tumour_pipeline = Pipeline(stages=[\n'
                   '    VectorAssembler(inputCols=tumour_columns, outputCol="features"),\n'
                   '    StandardScaler(inputCol="features", outputCol="scaled"),\n'
                   '    KMeans(k=2, seed=5, featuresCol="scaled")])\n'
                   'tumour_model = tumour_pipeline.fit(breast_cancer)\n'
                   'tumour_silhouette = ClusteringEvaluator(featuresCol="scaled").evaluate(\n'
                   '    tumour_model.transform(breast_cancer))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: how many groups does the bill suggest?",
    syllabus=("D1.unsupervised", "S3.01"), names=("bill_silhouettes", "best_k"),
    form=form_bill, judge=judge_bill,
    hints=("Build standardised vectors of the two bill measurements once, then fit one k-means per k and score "
           "each on the vectors it clustered; the training cost is no guide, the silhouette is.",
           "`VectorAssembler` + `StandardScaler` (fit, then transform `penguins`), then in a loop "
           "`KMeans(k=k, seed=..., featuresCol=...)` and `ClusteringEvaluator(featuresCol=...).evaluate(...)`.",
           "Skeleton: `bill_silhouettes = {k: evaluator.evaluate(KMeans(...).fit(bill_vectors).transform(bill_vectors)) "
           "for k in range(..., ...)}`; `best_k` is the key with the largest value: `max(..., key=...)`."),
    solution_code=('bill_vectors = Pipeline(stages=[\n'
                   '    VectorAssembler(inputCols=["bill_length_mm", "bill_depth_mm"], outputCol="bill"),\n'
                   '    StandardScaler(inputCol="bill", outputCol="bill_scaled")]).fit(penguins).transform(penguins)\n'
                   'bill_evaluator = ClusteringEvaluator(featuresCol="bill_scaled")\n'
                   'bill_silhouettes = {}\n'
                   'for k in range(2, 7):\n'
                   '    bill_kmeans = KMeans(k=k, seed=1, featuresCol="bill_scaled").fit(bill_vectors)\n'
                   '    bill_silhouettes[k] = bill_evaluator.evaluate(bill_kmeans.transform(bill_vectors))\n'
                   'best_k = max(bill_silhouettes, key=bill_silhouettes.get)'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: components for 90% of the variance",
    syllabus=("D1.unsupervised", "S3.01"), names=("tumour_pca", "n_for_90"),
    form=form_pca, judge=judge_pca, guessable=True,
    hints=("Standardise the 30 measurements (the diagnosis is no measurement), fit a PCA that keeps enough "
           "components, and add up their shares in order until the total reaches 90%.",
           "`PCA(k=..., inputCol=..., outputCol=...)` is an Estimator; its model's `explainedVariance` holds each "
           "component's share of the *total* variance, largest first, even when k is small.",
           "Skeleton: `shares = tumour_pca.explainedVariance.toArray()`; `np.cumsum(shares)` gives the running "
           "totals; `n_for_90` is the position of the first total >= 0.9, counted from 1, as an `int`."),
    solution_code=('tumour_scaled = Pipeline(stages=[\n'
                   '    VectorAssembler(inputCols=[c for c in breast_cancer.columns if c != "target"], outputCol="features"),\n'
                   '    StandardScaler(inputCol="features", outputCol="scaled")]).fit(breast_cancer).transform(breast_cancer)\n'
                   'tumour_pca = PCA(k=30, inputCol="scaled", outputCol="pca").fit(tumour_scaled)\n'
                   'cumulative = np.cumsum(tumour_pca.explainedVariance.toArray())\n'
                   'n_for_90 = int(np.argmax(cumulative >= 0.9)) + 1'),
)
