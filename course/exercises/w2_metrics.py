"""Exercises of week 2, lesson 3: metrics that fit the goal.

The lesson's demos score a churn model and a price model on `listings`; the exercises move the
ideas to breast-cancer screening (where the class that matters is label 0), to a broken
evaluation of a price model and a penguin classifier, to class weights on a decision tree, and
to scenarios the page never scores. Every judge recomputes the truth from ``course.datasets``,
never from the lesson's variables, and names the mistake in one sentence; the answers each judge
was written against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import CheckFailed, Exercise, describe, expect, expect_type

LESSON = "03-metrics"
SPLIT = ([0.8, 0.2], 42)              # weights and seed of churn_*, cancer_* and listings_* splits
PENGUIN_SPLIT = ([0.75, 0.25], 42)    # weights and seed of penguin_train / penguin_test
CANCER_FEATURES = ["mean_radius", "mean_texture"]
PENGUIN_FEATURES = ["flipper_length_mm", "body_mass_g"]
CHURN_NUMBERS = ["tenure_months", "monthly_charges", "support_calls", "senior_citizen"]
SCENARIOS = {  # letter -> (the metric, why another pick is wrong for it)
    "A": ("recallByLabel", "a missed fraud costs far more than a false alarm, and every alarm is "
                           "reviewed anyway: what matters is the share of frauds caught"),
    "B": ("precisionByLabel", "a real e-mail lost in the spam folder is the costly mistake: what "
                              "matters is how many of the flagged e-mails really are spam"),
    "C": ("areaUnderPR", "the team ranks customers and has not chosen a cut-off, and the positive "
                         "class is rare: a threshold-free score that focuses on that rare class"),
    "D": ("mae", "the typical miss in minutes, which a few storm days must not dominate"),
    "E": ("logLoss", "the probabilities themselves are used as prices, so a confident wrong "
                     "probability must cost the most"),
    "F": ("accuracy", "three balanced classes and every mistake costs the same: the share right"),
}
METRICS = ("accuracy", "f1", "precisionByLabel", "recallByLabel", "logLoss", "areaUnderROC",
           "areaUnderPR", "rmse", "mae", "r2")
_CACHE: dict[str, object] = {}


def _spark():
    from course.spark import get_spark

    return get_spark()   # the notebook's session (Spark Connect or classic)


def _table(name: str):
    from course import datasets

    return datasets.load_spark(name, _spark())


def _number(value, what: str) -> None:
    expect(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
           f"expected {what} to be a number (what `evaluate()` returns); got {describe(value)}")


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _classification(predictions, label: str, metric: str, metric_label: float = 0.0) -> float:
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator

    return MulticlassClassificationEvaluator(labelCol=label, metricName=metric,
                                             metricLabel=metric_label).evaluate(predictions)


# --- Exercise 1: how many malignant tumours does the model catch? --------------------------

def form_malignant(malignant_recall) -> None:
    _number(malignant_recall, "`malignant_recall`")
    expect(0 <= malignant_recall <= 1, "a recall is a share of tumours, between 0 and 1: "
                                       "give it as a fraction (0.5 for half), not a percentage")


def _memo(key, compute):
    """Computed once per Spark session: the judges refit nothing on a second check."""
    key = (id(_spark()), *key) if isinstance(key, tuple) else (id(_spark()), key)
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _cancer_model():
    def fit():
        from pyspark.ml import Pipeline
        from pyspark.ml.classification import LogisticRegression
        from pyspark.ml.feature import VectorAssembler

        train, test = _table("breast_cancer").randomSplit(*SPLIT)
        model = Pipeline(stages=[VectorAssembler(inputCols=CANCER_FEATURES, outputCol="features"),
                                 LogisticRegression(labelCol="target")]).fit(train)
        return model, {"train": train, "test": test}
    return _memo("cancer", fit)


def _cancer_metric(split: str, metric: str, label: float = 0.0) -> float:
    model, rows = _cancer_model()
    return _memo(("cancer", split, metric, label),
                 lambda: _classification(model.transform(rows[split]), "target", metric, label))


def judge_malignant(malignant_recall) -> None:
    def is_(metric, label=0.0, split="test"):
        return _near(malignant_recall, _cancer_metric(split, metric, label))

    if is_("recallByLabel"):
        return
    expect(not is_("recallByLabel", 1.0), "that is the recall of the benign tumours (label 1): in this "
                                          "table the malignant ones are label 0")
    expect(not is_("accuracy"), "that is the accuracy (weightedRecall is the same number): "
                                "it mixes both classes, and the question is about the malignant tumours alone")
    expect(not is_("f1"), "that is the weighted F1 over both classes, the evaluator's default metric")
    expect(not (is_("precisionByLabel") or is_("precisionByLabel", 1.0) or is_("weightedPrecision")),
           "that is a precision (of the flagged tumours, how many are malignant); the clinic asks "
           "how many of the malignant tumours get flagged")
    expect(not is_("fMeasureByLabel") and not is_("fMeasureByLabel", 1.0),
           "that is an F-measure, a blend of precision and recall; the question asks for the recall alone")
    expect(not any(is_(m, lab, "train") for m, lab in (("recallByLabel", 0.0), ("recallByLabel", 1.0), ("accuracy", 0.0),
                                                        ("f1", 0.0), ("precisionByLabel", 0.0))),
           "that is measured on the training rows, which the model has seen: use `cancer_test`")
    raise CheckFailed("that is not a metric of `cancer_model` on `cancer_test`: was it typed from another "
                      "model's output?")


# --- Exercise 2: fix a broken evaluation --------------------------------------------------

def form_fixed(price_mae, species_accuracy) -> None:
    _number(price_mae, "`price_mae`")
    _number(species_accuracy, "`species_accuracy`")


def _fixed_models():
    def fit():
        from pyspark.ml import Pipeline
        from pyspark.ml.classification import LogisticRegression
        from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler
        from pyspark.ml.regression import LinearRegression
        from pyspark.sql import functions as F

        listings = _table("listings").withColumn("log_price", F.log("price"))
        train, test = listings.randomSplit(*SPLIT)
        price_model = Pipeline(stages=[
            StringIndexer(inputCols=["neighbourhood", "room_type"], outputCols=["hood_idx", "room_idx"]),
            OneHotEncoder(inputCols=["hood_idx", "room_idx"], outputCols=["hood_vec", "room_vec"]),
            VectorAssembler(inputCols=["hood_vec", "room_vec", "accommodates"], outputCol="features"),
            LinearRegression(labelCol="log_price")]).fit(train)
        penguins = _table("penguins").dropna(subset=PENGUIN_FEATURES)
        p_train, p_test = penguins.randomSplit(*PENGUIN_SPLIT)
        species_model = Pipeline(stages=[
            StringIndexer(inputCol="species", outputCol="species_idx"),
            VectorAssembler(inputCols=PENGUIN_FEATURES, outputCol="features"),
            LogisticRegression(labelCol="species_idx")]).fit(p_train)
        return {"price": (price_model, {"train": train, "test": test}),
                "species": (species_model, {"train": p_train, "test": p_test})}
    return _memo("fixed", fit)


def _price_metric(split: str, scale: str, metric: str) -> float:
    """`metric` of the price model on `split`, on the log scale or in dollars."""
    def compute():
        from pyspark.ml.evaluation import RegressionEvaluator
        from pyspark.sql import functions as F

        model, rows = _fixed_models()["price"]
        scored = model.transform(rows[split]).withColumn("dollars", F.exp("prediction"))
        label, prediction = ("log_price", "prediction") if scale == "log" else ("price", "dollars")
        return RegressionEvaluator(labelCol=label, predictionCol=prediction, metricName=metric).evaluate(scored)
    return _memo(("price", split, scale, metric), compute)


def _species_metric(split: str, metric: str) -> float:
    def compute():
        model, rows = _fixed_models()["species"]
        return _classification(model.transform(rows[split]), "species_idx", metric)
    return _memo(("species", split, metric), compute)


def judge_fixed(price_mae, species_accuracy) -> None:
    if not _near(price_mae, _price_metric("test", "dollar", "mae")):
        expect(not any(_near(price_mae, _price_metric(s, "log", "mae")) for s in ("test", "train")),
               "`price_mae` is still on the log scale: exponentiate the predictions and compare them "
               "with `price`")
        expect(not _near(price_mae, math.exp(_price_metric("test", "log", "mae"))),
               "`price_mae` exponentiates the metric, not the predictions: the exp of an average log "
               "error is not an error in dollars")
        expect(not _near(price_mae, _price_metric("train", "dollar", "mae")),
               "`price_mae` is measured on the training rows, which the model has seen: use `listings_test`")
        expect(not any(_near(price_mae, _price_metric(s, scale, metric)) for s in ("test", "train")
                       for scale in ("log", "dollar") for metric in ("rmse", "r2")),
               "`price_mae` is another metric than the MAE the colleague wanted")
        raise CheckFailed("`price_mae` is not the MAE in dollars of `price_model` on `listings_test`")
    if not _near(species_accuracy, _species_metric("test", "accuracy")):
        expect(not _near(species_accuracy, _species_metric("test", "f1")),
               "`species_accuracy` is the weighted F1, the evaluator's default metric: ask for accuracy by name")
        expect(not any(_near(species_accuracy, _species_metric("train", k)) for k in ("accuracy", "f1")),
               "`species_accuracy` is measured on the training penguins: use `penguin_test`")
        raise CheckFailed("`species_accuracy` is not the accuracy of `species_model` on `penguin_test`")


# --- Exercise 3: class weights for a churn tree -------------------------------------------

def form_weights(weighted_tree, recall_gain) -> None:
    from pyspark.ml import PipelineModel

    expect_type(weighted_tree, PipelineModel, "`weighted_tree` (what `churn_tree(...).fit(...)` returns)")
    _number(recall_gain, "`recall_gain`")


def _tree_stage(model):
    from pyspark.ml.classification import DecisionTreeClassificationModel

    trees = [s for s in model.stages if isinstance(s, DecisionTreeClassificationModel)]
    expect(len(trees) == 1, "`weighted_tree` should hold one decision tree stage, as `churn_tree` builds it")
    return trees[0]


def _churn_tree(**params):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    return Pipeline(stages=[
        StringIndexer(inputCol="contract", outputCol="contract_idx"),
        OneHotEncoder(inputCol="contract_idx", outputCol="contract_vec"),
        VectorAssembler(inputCols=[*CHURN_NUMBERS, "contract_vec"], outputCol="features"),
        DecisionTreeClassifier(labelCol="churn", maxDepth=4, **params)])


def _recalls(model, rows) -> tuple[float, float]:
    """(recall of the churners, recall of the stayers) of ``model`` on ``rows``."""
    predictions = model.transform(rows)
    return (_classification(predictions, "churn", "recallByLabel", 1.0),
            _classification(predictions, "churn", "recallByLabel", 0.0))


def _tree_truth(kind: str) -> tuple[float, float]:
    """Recalls on the test rows of the unweighted tree, the weighted one and one weighted the wrong way."""
    def compute():
        from pyspark.sql import functions as F

        train, test = _table("churn").randomSplit(*SPLIT)
        if kind == "plain":
            return _recalls(_churn_tree().fit(train), test)
        n, churners = train.count(), train.filter("churn = 1").count()
        heavy = 1 if kind == "weighted" else 0
        rows = train.withColumn("w", F.when(F.col("churn") == heavy, (n - churners) / churners).otherwise(1.0))
        return _recalls(_churn_tree(weightCol="w").fit(rows), test)
    return _memo(("tree", kind), compute)


def judge_weights(weighted_tree, recall_gain) -> None:
    tree = _tree_stage(weighted_tree)
    expect(tree.isSet("weightCol") and tree.getWeightCol() != "",
           "the tree was fitted without `weightCol`, so every customer still weighs 1: a weight column "
           "only counts when the classifier is told its name")
    truth = {kind: _tree_truth(kind) for kind in ("plain", "weighted")}
    got = _recalls(weighted_tree, _table("churn").randomSplit(*SPLIT)[1])
    expect(_near(got[0], truth["weighted"][0]) or not _near(got[0], _tree_truth("inverted")[0]),
           "the weights are the wrong way round: the rare churners should weigh more, not the stayers")
    expect(_near(got[0], truth["weighted"][0]),
           "`weighted_tree` finds another share of the churners than a tree weighted by the class ratio "
           "of `churn_train` and fitted on `churn_train`: check the weights and the rows it was fitted on")
    gain = truth["weighted"][0] - truth["plain"][0]
    if _near(recall_gain, gain):
        return
    expect(not _near(recall_gain, -gain), "`recall_gain` has the wrong sign: weighted minus unweighted")
    expect(not _near(recall_gain, truth["weighted"][1] - truth["plain"][1]),
           "that is the change in the recall of the stayers (label 0); the question is about the churners")
    expect(not _near(recall_gain, truth["weighted"][0]) and not _near(recall_gain, truth["plain"][0]),
           "that is one recall, not the change between the unweighted and the weighted tree")
    raise CheckFailed("`recall_gain` is not the change in the churners' recall on `churn_test` between "
                      "`plain_tree` and your weighted tree")


# --- Exercise 4: the metric for the goal --------------------------------------------------

def _normal(value) -> str:
    return str(value).strip().lower()


def form_choice(metric_choice) -> None:
    expect_type(metric_choice, dict, "`metric_choice`")
    keys = {str(k).strip().upper() for k in metric_choice}
    missing = sorted(set(SCENARIOS) - keys)
    expect(not missing, f"`metric_choice` has no metric for scenario {', '.join(missing)}")
    extra = sorted(keys - set(SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to F)")
    known = {_normal(m) for m in METRICS}
    for key, value in metric_choice.items():
        expect(_normal(value) in known, f"`{value}` (scenario {key}) is not one of the metric names of the "
                                        "list (spelling counts, capitals do not)")


def judge_choice(metric_choice) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in metric_choice.items()}
    wrong = [k for k in sorted(SCENARIOS) if given[k] != _normal(SCENARIOS[k][0])]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"scenario {wrong[0]}: `{metric_choice.get(wrong[0], given[wrong[0]])}` does not fit "
                          f"the goal; {SCENARIOS[wrong[0]][1]}{more}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: how many malignant tumours does the model catch?",
    syllabus=("D3.classification-metrics", "S3.11"), names=("malignant_recall",),
    form=form_malignant, judge=judge_malignant,
    hints=("Recall is about one class: of all the truly malignant tumours, the share the model flags. "
           "Which label do the malignant tumours have in this table?",
           "`MulticlassClassificationEvaluator` with `metricName=\"recallByLabel\"` and `metricLabel=` the "
           "class you care about; score the rows the model has not seen.",
           "`MulticlassClassificationEvaluator(labelCol=__, metricName=__, metricLabel=__).evaluate(cancer_model.transform(__))`"),
    solution_code=('malignant_recall = MulticlassClassificationEvaluator(\n'
                   '    labelCol="target", metricName="recallByLabel", metricLabel=0.0,\n'
                   ').evaluate(cancer_model.transform(cancer_test))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix a broken evaluation",
    syllabus=("D3.log-target", "S3.14", "D3.regression-metrics", "S3.12", "D3.classification-metrics"),
    names=("price_mae", "species_accuracy"), form=form_fixed, judge=judge_fixed,
    hints=("Three things are wrong: the scale of the price errors, the rows they are measured on, and the "
           "metric the penguin evaluator computes when you do not name one.",
           "`F.exp(\"prediction\")` gives dollars; a `RegressionEvaluator` takes `labelCol` and "
           "`predictionCol`; a `MulticlassClassificationEvaluator` computes `\"f1\"` unless `metricName` says otherwise.",
           "`RegressionEvaluator(labelCol=__, predictionCol=__, metricName=__).evaluate(price_model.transform(__).withColumn(__, F.exp(__)))`"),
    solution_code=('dollars = price_model.transform(listings_test).withColumn("price_pred", F.exp("prediction"))\n'
                   'price_mae = RegressionEvaluator(labelCol="price", predictionCol="price_pred",\n'
                   '                                metricName="mae").evaluate(dollars)\n'
                   'species_accuracy = MulticlassClassificationEvaluator(\n'
                   '    labelCol="species_idx", metricName="accuracy").evaluate(species_model.transform(penguin_test))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: class weights for a churn tree",
    syllabus=("D3.imbalance", "S3.02", "D3.classification-metrics"),
    names=("weighted_tree", "recall_gain"), form=form_weights, judge=judge_weights,
    hints=("Give each churner a weight of (number of stayers) / (number of churners) in `churn_train` and "
           "each stayer 1, so both classes weigh the same; then compare the churners' recall of both trees.",
           "`F.when(F.col(\"churn\") == 1, ratio).otherwise(1.0)` makes the weight column; "
           "`churn_tree(weightCol=...)` passes its name to the tree; `recallByLabel` with `metricLabel=1.0` "
           "scores the churners.",
           "`weighted_tree = churn_tree(weightCol=__).fit(churn_train.withColumn(__, __))`, then "
           "`recall_gain = <recall of weighted_tree> - <recall of plain_tree>` on `churn_test`"),
    solution_code=('n_stayers = churn_train.filter("churn = 0").count()\n'
                   'n_churners = churn_train.filter("churn = 1").count()\n'
                   'weighted_rows = churn_train.withColumn(\n'
                   '    "weight", F.when(F.col("churn") == 1, n_stayers / n_churners).otherwise(1.0))\n'
                   'weighted_tree = churn_tree(weightCol="weight").fit(weighted_rows)\n'
                   'churner_recall = MulticlassClassificationEvaluator(\n'
                   '    labelCol="churn", metricName="recallByLabel", metricLabel=1.0)\n'
                   'recall_gain = (churner_recall.evaluate(weighted_tree.transform(churn_test))\n'
                   '               - churner_recall.evaluate(plain_tree.transform(churn_test)))'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: the metric for the goal",
    syllabus=("S3.13", "S3.11", "S3.12", "D3.regression-metrics"), names=("metric_choice",),
    form=form_choice, judge=judge_choice, guessable=True,
    hints=("For each scenario ask: which mistake costs the most, is a threshold chosen yet, and is the "
           "label a class or a number?",
           "Recall: missed positives are costly. Precision: false alarms are costly. Area under PR: a ranking "
           "of a rare class. Log loss: the probabilities themselves matter. MAE: a typical miss not dominated "
           "by a few large ones.",
           "`metric_choice = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\", \"F\": \"__\"}`"),
    solution_code=('metric_choice = {"A": "recallByLabel", "B": "precisionByLabel", "C": "areaUnderPR",\n'
                   '                 "D": "mae", "E": "logLoss", "F": "accuracy"}'),
)
