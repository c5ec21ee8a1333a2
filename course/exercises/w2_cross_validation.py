"""Exercises of week 2, lesson 4: cross-validation and grid search.

The lesson tunes a churn classifier with a grid, a CrossValidator and a TrainValidationSplit; the
exercises count the fits of tuning set-ups the page never runs, mend a diabetes regression whose
scaler leaks and whose winner is read the wrong way round, cross-validate a penguin classifier by
hand, and choose between CrossValidator and TrainValidationSplit for new scenarios. Every judge
recomputes the truth from ``course.datasets`` (or from the scenario's numbers), never from the
lesson's variables, and names the mistake in one sentence; the answers each judge was written
against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import CheckFailed, Exercise, describe, expect, expect_type, fitted_stages

LESSON = "04-cross-validation"
DIABETES_SPLIT = ([0.8, 0.2], 42)         # weights and seed of diabetes_train / diabetes_test
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
DIABETES_REGS = (0.3, 3.0, 30.0)          # the colleague's grid of regParam values
PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUIN_INPUTS = ["bill_length_mm", "bill_depth_mm"]   # what penguin_pipeline() assembles
N_FOLDS = 3

# Exercise 1: scenario -> (param maps, folds or None for a TrainValidationSplit, what is counted)
FIT_SCENARIOS = {
    "A": (3 * 2, 4),     # CrossValidator, numFolds=4, parallelism=3
    "B": (3 * 2, None),  # TrainValidationSplit, trainRatio=0.8
    "C": (2 * 2 * 3, 3), # CrossValidator with the default numFolds, collectSubModels=True
    "D": (2, 5),         # the StringIndexer of a Pipeline inside a CrossValidator, numFolds=5
}
# Exercise 4: scenario -> (the right tool, why the other one is the wrong pick)
TOOL_SCENARIOS = {
    "A": ("CV", "with a few hundred rows and one-second fits, k folds cost little and one small "
                "validation split would give a noisy score"),
    "B": ("TVS", "each fit takes hours on a huge table: k fits per combination do not fit the budget, "
                 "and one large validation split is already a stable estimate"),
    "C": ("CV", "the score of one split moves a lot with the seed: averaging over k folds is what "
                "steadies it"),
    "D": ("TVS", "a quick first pass over many combinations on large data, where one fit per "
                 "combination is what the deadline allows"),
    "E": ("CV", "every patient should serve once for validation, which only k-fold cross-validation does"),
}
TOOLS = {"CV": "CV", "CROSSVALIDATOR": "CV", "TVS": "TVS", "TRAINVALIDATIONSPLIT": "TVS"}
_CACHE: dict[object, object] = {}


def _spark():
    from course.spark import get_spark

    return get_spark()   # the notebook's session (Spark Connect or classic)


def _table(name: str):
    from course import datasets

    return datasets.load_spark(name, _spark())


def _memo(key, compute):
    """Computed once per Spark session: the judges refit nothing on a second check."""
    key = (id(_spark()), key)
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _number(value, what: str) -> None:
    expect(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
           f"expected {what} to be a number; got {describe(value)}")


def _near(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# --- Exercise 1: how many fits? ------------------------------------------------------------

def _fit_truth(key: str) -> int:
    maps, folds = FIT_SCENARIOS[key]
    return maps * (folds or 1) + 1


def form_fit_counts(fit_counts) -> None:
    expect_type(fit_counts, dict, "`fit_counts`")
    keys = {str(k).strip().upper() for k in fit_counts}
    missing = sorted(set(FIT_SCENARIOS) - keys)
    expect(not missing, f"`fit_counts` has no count for scenario {', '.join(missing)}")
    extra = sorted(keys - set(FIT_SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to D)")
    for key, value in fit_counts.items():
        expect(isinstance(value, int) and not isinstance(value, bool),
               f"the count of scenario {key} should be a whole number (an int); got {describe(value)}")


def judge_fit_counts(fit_counts) -> None:
    given = {str(k).strip().upper(): v for k, v in fit_counts.items()}
    for key in sorted(FIT_SCENARIOS):
        maps, folds = FIT_SCENARIOS[key]
        value, truth = given[key], _fit_truth(key)
        if value == truth:
            continue
        where = f"scenario {key}"
        expect(value != truth - 1, f"{where}: you counted the fits that score the param maps, but not the "
                                   "final refit of the winning param map on all the rows")
        if folds is None:
            expect(value not in (maps * 5, maps * 5 + 1, maps * 4, maps * 4 + 1),
                   f"{where}: `trainRatio` is the share of rows used for training in one split, not a number "
                   "of folds: a TrainValidationSplit fits each param map once")
            expect(value not in (2 * maps, 2 * maps + 1),
                   f"{where}: the validation rows are only scored, never fitted on")
        else:
            expect(value != maps + 1 and value != maps,
                   f"{where}: each param map is fitted once per fold, not once in all")
            expect(key != "A" or value not in (maps * folds // 3, maps * folds // 3 + 1),
                   f"{where}: `parallelism` fits several models at the same time; it does not reduce how many")
            expect(key != "C" or value not in (maps * 5 + 1, maps * 5, maps * 10 + 1, maps * 10),
                   f"{where}: check the default of `numFolds`")
            expect(key != "C" or value not in (2 * maps * folds + 1, 2 * maps * folds),
                   f"{where}: `collectSubModels` keeps the fold models it trains anyway; it trains no extra ones")
            expect(key != "C" or value not in (7 * folds + 1, 7 * folds),
                   f"{where}: a grid is the product of its value lists, not their sum")
            expect(key != "D" or value not in (1, 2),
                   f"{where}: a stage of a Pipeline inside a CrossValidator is fitted every time the "
                   "Pipeline is, not once up front")
        raise CheckFailed(f"{where}: that is not the number of fits; multiply the param maps of the grid by "
                          "the folds (one split for a TrainValidationSplit), then add the refit")


# --- Exercise 2: fix a leaking tuning job -------------------------------------------------

def _diabetes_train():
    return _table("diabetes").randomSplit(*DIABETES_SPLIT)[0]


def _feature_std(which: str) -> list[float]:
    """Sample standard deviation of each diabetes feature over diabetes_train or all rows."""
    def compute():
        rows = _diabetes_train() if which == "train" else _table("diabetes")
        frame = rows.select(*DIABETES_FEATURES).toPandas()
        return [float(frame[c].std(ddof=1)) for c in DIABETES_FEATURES]
    return _memo(("diabetes-std", which), compute)


def form_tuned(diabetes_cv, best_reg) -> None:
    from pyspark.ml.tuning import CrossValidatorModel

    expect_type(diabetes_cv, CrossValidatorModel, "`diabetes_cv` (what `CrossValidator(...).fit(...)` returns)")
    _number(best_reg, "`best_reg`")


def _reg_of(param_map) -> float | None:
    for param, value in param_map.items():
        if param.name == "regParam":
            return float(value)
    return None


def judge_tuned(diabetes_cv, best_reg) -> None:
    from pyspark.ml import PipelineModel
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.feature import StandardScalerModel
    from pyspark.ml.regression import LinearRegressionModel

    best = diabetes_cv.bestModel
    expect(isinstance(best, PipelineModel),
           "the CrossValidator tunes the regression alone: the assembler and scaler were fitted before it, "
           "on rows that include every validation fold (and the test rows); make them stages of one Pipeline "
           "and pass that Pipeline as the estimator")
    stages = fitted_stages(best)
    scalers = [s for s in stages if isinstance(s, StandardScalerModel)]
    expect(len(scalers) == 1 and any(isinstance(s, LinearRegressionModel) for s in stages),
           "the Pipeline inside the CrossValidator should hold the assembler, the scaler and the regression")
    std = list(scalers[0].std)
    if not all(_near(a, b, 1e-6) for a, b in zip(std, _feature_std("train"))):
        expect(not all(_near(a, b, 1e-6) for a, b in zip(std, _feature_std("all"))),
               "the CrossValidator was fitted on all of `diabetes`, test rows included: tune on `diabetes_train`")
        raise CheckFailed("the refitted scaler did not learn from `diabetes_train`: fit the CrossValidator on "
                          "`diabetes_train`, with the raw features (no scaled columns in it)")
    evaluator = diabetes_cv.getEvaluator()
    expect(isinstance(evaluator, RegressionEvaluator) and evaluator.getMetricName() == "rmse"
           and evaluator.getLabelCol() == "target",
           "keep the colleague's evaluator: RMSE of `target`")
    maps = diabetes_cv.getEstimatorParamMaps()
    regs = sorted(r for r in (_reg_of(m) for m in maps) if r is not None)
    expect(len(maps) == len(DIABETES_REGS) and regs == sorted(DIABETES_REGS),
           "keep the colleague's grid: the three regParam values, nothing else")
    expect(diabetes_cv.getNumFolds() == N_FOLDS and diabetes_cv.getSeed() == 42
           and not diabetes_cv.getFoldCol(),
           "keep the colleague's folds: `numFolds=3` and `seed=42`")
    metrics = list(diabetes_cv.avgMetrics)
    lowest = _reg_of(maps[min(range(len(metrics)), key=metrics.__getitem__)])
    highest = _reg_of(maps[max(range(len(metrics)), key=metrics.__getitem__)])
    if _near(best_reg, lowest):
        return
    expect(not _near(best_reg, highest),
           "`best_reg` is the regParam with the largest average RMSE, the worst one: for RMSE smaller is "
           "better (`isLargerBetter()` is False), as the CrossValidator itself knows")
    raise CheckFailed("`best_reg` is not the regParam the CrossValidator chose (the one of `bestModel`)")


# --- Exercise 3: cross-validate by hand ---------------------------------------------------

def _penguins():
    from pyspark.sql import functions as F

    return (_table("penguins").dropna(subset=PENGUIN_FEATURES)
            .withColumn("fold", F.pmod(F.hash(*PENGUIN_FEATURES), N_FOLDS)))


def _penguin_pipeline():
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import DecisionTreeClassifier
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    return Pipeline(stages=[StringIndexer(inputCol="species", outputCol="label"),
                            VectorAssembler(inputCols=PENGUIN_INPUTS, outputCol="features"),
                            DecisionTreeClassifier(maxDepth=3)])


def _accuracy(predictions, metric: str = "accuracy") -> float:
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator

    return MulticlassClassificationEvaluator(metricName=metric).evaluate(predictions)


def _fold_truth(kind: str) -> list[float]:
    """Per-fold scores: "right" (fit on the other folds, score the held-out one), "train" (score the
    training folds), "leak" (one model fitted on every row, scored per fold), "f1" (the default metric)."""
    def compute():
        from pyspark.sql import functions as F

        rows = _penguins()
        if kind == "leak":
            model = _penguin_pipeline().fit(rows)
            return [_accuracy(model.transform(rows.filter(F.col("fold") == k))) for k in range(N_FOLDS)]
        models = _memo("penguin-fold-models", lambda: [
            _penguin_pipeline().fit(rows.filter(F.col("fold") != k)) for k in range(N_FOLDS)])
        scored = [(models[k], rows.filter((F.col("fold") != k) if kind == "train" else (F.col("fold") == k)))
                  for k in range(N_FOLDS)]
        return [_accuracy(m.transform(r), "f1" if kind == "f1" else "accuracy") for m, r in scored]
    return _memo(("penguin-folds", kind), compute)


def form_by_hand(fold_scores, cv_score) -> None:
    expect_type(fold_scores, (list, tuple), "`fold_scores`")
    expect(len(fold_scores) == N_FOLDS, f"`fold_scores` should hold one accuracy per fold: {N_FOLDS} numbers")
    for score in fold_scores:
        _number(score, "every fold score")
    _number(cv_score, "`cv_score`")
    expect(all(0 <= s <= 1 for s in [*fold_scores, cv_score]),
           "an accuracy is a share between 0 and 1, not a percentage")


def _same(scores, truth) -> bool:
    return all(_near(a, b) for a, b in zip(sorted(scores), sorted(truth)))


def judge_by_hand(fold_scores, cv_score) -> None:
    scores = [float(s) for s in fold_scores]
    truth = _fold_truth("right")
    if not _same(scores, truth):
        expect(not _same(scores, _fold_truth("train")),
               "those are scores on the training folds, which each model has seen: score each model on the "
               "one fold it was not fitted on")
        expect(not _same(scores, _fold_truth("leak")),
               "one model fitted on every penguin scores rows it has seen: fit a new pipeline for each fold, "
               "on the other folds only")
        expect(not _same(scores, _fold_truth("f1")),
               "those are weighted F1 scores, the evaluator's default metric: ask for accuracy by name")
        raise CheckFailed("`fold_scores` are not the accuracies of a `penguin_pipeline()` fitted on the other "
                          "folds and scored on the held-out fold")
    mean = sum(truth) / len(truth)
    if _near(cv_score, mean):
        return
    expect(not any(_near(cv_score, v) for v in (max(truth), min(truth), sorted(truth)[1])),
           "`cv_score` is one of the fold scores: the cross-validation score summarises all of them")
    expect(not _near(cv_score, math.sqrt(sum((s - mean) ** 2 for s in truth) / len(truth))),
           "`cv_score` is the spread of the fold scores, not their centre")
    raise CheckFailed("`cv_score` is not the cross-validation score of your fold scores")


# --- Exercise 4: CrossValidator or TrainValidationSplit? ----------------------------------

def _tool(value) -> str:
    return TOOLS.get(str(value).strip().upper().replace(" ", "").replace("-", ""), "")


def form_tools(tool_choice) -> None:
    expect_type(tool_choice, dict, "`tool_choice`")
    keys = {str(k).strip().upper() for k in tool_choice}
    missing = sorted(set(TOOL_SCENARIOS) - keys)
    expect(not missing, f"`tool_choice` has no answer for scenario {', '.join(missing)}")
    extra = sorted(keys - set(TOOL_SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to E)")
    for key, value in tool_choice.items():
        expect(_tool(value) != "", f"`{value}` (scenario {key}) is neither \"CV\" nor \"TVS\"")


def judge_tools(tool_choice) -> None:
    given = {str(k).strip().upper(): _tool(v) for k, v in tool_choice.items()}
    wrong = [k for k in sorted(TOOL_SCENARIOS) if given[k] != TOOL_SCENARIOS[k][0]]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"scenario {wrong[0]}: `{given[wrong[0]]}` is the wrong pick; "
                          f"{TOOL_SCENARIOS[wrong[0]][1]}{more}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: how many fits?",
    syllabus=("D3.grid-count", "S3.10"), names=("fit_counts",),
    form=form_fit_counts, judge=judge_fit_counts, guessable=True,
    hints=("Count the param maps first (the product of the lengths of the value lists; `baseOn` adds "
           "none), then how many times each one is fitted while it is scored, then what happens after the "
           "winner is known.",
           "A CrossValidator fits every param map once per fold (`numFolds`, default 3); a "
           "TrainValidationSplit once. Both then refit the winner on all the rows. `parallelism` and "
           "`collectSubModels` change how fits run and what is kept, not how many there are.",
           "`fit_counts = {\"A\": maps * folds + 1, ...}` with the numbers of each scenario"),
    solution_code='fit_counts = {"A": 25, "B": 7, "C": 37, "D": 11}',
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix a leaking tuning job",
    syllabus=("S3.09", "D2.leakage", "D3.cv-score"), names=("diabetes_cv", "best_reg"),
    form=form_tuned, judge=judge_tuned,
    hints=("Two things are wrong: where the scaler learns its statistics (which rows does it see?), and "
           "which end of the RMSE list the colleague takes as the winner.",
           "A `Pipeline` of assembler, scaler and regression can be the CrossValidator's `estimator`; fit it "
           "on the training rows. The fitted model's `bestModel` is that Pipeline refitted with the winning "
           "param map, and its last stage knows its `regParam`.",
           "`CrossValidator(estimator=Pipeline(stages=[__, __, lin]), estimatorParamMaps=grid, evaluator=__, "
           "numFolds=3, seed=42).fit(__)`; then `best_reg = diabetes_cv.bestModel.stages[__].__()`"),
    solution_code=('lin = LinearRegression(labelCol="target")\n'
                   'grid = ParamGridBuilder().addGrid(lin.regParam, [0.3, 3.0, 30.0]).build()\n'
                   'diabetes_pipeline = Pipeline(stages=[\n'
                   '    VectorAssembler(inputCols=DIABETES_FEATURES, outputCol="raw"),\n'
                   '    StandardScaler(inputCol="raw", outputCol="features"),\n'
                   '    lin])\n'
                   'cv = CrossValidator(estimator=diabetes_pipeline, estimatorParamMaps=grid,\n'
                   '                    evaluator=RegressionEvaluator(labelCol="target"), numFolds=3, seed=42)\n'
                   'diabetes_cv = cv.fit(diabetes_train)\n'
                   'best_reg = diabetes_cv.bestModel.stages[-1].getRegParam()'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: cross-validate by hand",
    syllabus=("D3.cv-score", "S3.09", "D2.leakage"), names=("fold_scores", "cv_score"),
    form=form_by_hand, judge=judge_by_hand,
    hints=("For each fold k: a fresh pipeline learns from the rows of the other folds only, and is scored "
           "on fold k, rows it has never seen. The cross-validation score then summarises the k scores the "
           "way `avgMetrics` does.",
           "`penguins.filter(F.col(\"fold\") != k)` and `== k` give the two parts; "
           "`MulticlassClassificationEvaluator(metricName=\"accuracy\")` reads `label` and `prediction`.",
           "`for k in range(3): model = penguin_pipeline().fit(__); fold_scores.append(accuracy.evaluate(model.transform(__)))`, "
           "then `cv_score = __`"),
    solution_code=('accuracy = MulticlassClassificationEvaluator(metricName="accuracy")\n'
                   'fold_scores = []\n'
                   'for k in range(3):\n'
                   '    fold_model = penguin_pipeline().fit(penguins.filter(F.col("fold") != k))\n'
                   '    fold_scores.append(accuracy.evaluate(fold_model.transform(penguins.filter(F.col("fold") == k))))\n'
                   'cv_score = sum(fold_scores) / len(fold_scores)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: CrossValidator or TrainValidationSplit?",
    syllabus=("S3.08", "D3.cv-score"), names=("tool_choice",),
    form=form_tools, judge=judge_tools, guessable=True,
    hints=("Weigh two things in each scenario: how expensive one fit is, and how noisy a single "
           "validation split would be for data of that size.",
           "k-fold CV: k fits per param map, every row validated once, a steadier score, best on small or "
           "medium data. TrainValidationSplit: one fit per param map, cheaper, fine when the data are huge.",
           "`tool_choice = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\"}` with "
           "\"CV\" or \"TVS\""),
    solution_code='tool_choice = {"A": "CV", "B": "TVS", "C": "CV", "D": "TVS", "E": "CV"}',
)
