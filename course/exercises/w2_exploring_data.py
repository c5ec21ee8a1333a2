"""Exercises of week 2, lesson 1: exploring and cleaning data at scale.

The lesson's demos explore `listings`; every exercise moves the idea to another table: IQR fences
on tumour areas (breast_cancer), a churn-rate bar chart, the right comparison for two pairs of
churn columns, a broken penguin imputer to fix, and which churn columns a log transform suits.
Every judge recomputes the truth from ``course.datasets``, never from the lesson's variables, and
names the mistake in one sentence; the answers each judge was written against are in
``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import (CheckFailed, Exercise, describe, expect, expect_choice, expect_columns,
                           expect_spark_dataframe, expect_type)

LESSON = "01-exploring-cleaning-data"
SPLIT = ([0.8, 0.2], 42)          # weights and seed of the lesson's penguins_train / penguins_test
AREA = "mean_area"
MEASURED = ("bill_length_mm", "body_mass_g")
SKEW_COLUMNS = ("tenure_months", "monthly_charges", "total_charges", "support_calls")
SKEW_LIMIT = 1.0


def _table(name: str, session=None):
    from course import datasets

    if session is None:
        from course.spark import get_spark

        session = get_spark()
    return datasets.load_spark(name, session)


def _number(value, what: str) -> float:
    expect(isinstance(value, (int, float)) and not isinstance(value, bool),
           f"expected {what} to be a number; got {describe(value)}")
    return float(value)


def _near(got: float, want: float, rel: float = 1e-6) -> bool:
    return abs(got - want) <= rel * max(1.0, abs(want))


# --- Exercise 1: IQR fences on tumour area -----------------------------------------------------

def _kept_between(tumours, low: float, high: float):
    from pyspark.sql import functions as F

    return tumours.filter(F.col(AREA).between(low, high))


def _rows(df, columns) -> list[tuple]:
    return sorted(tuple(r) for r in df.select(*columns).collect())


def form_tumours(tumours_kept) -> None:
    df = expect_spark_dataframe(tumours_kept, "`tumours_kept`")
    expect_columns(df, [AREA, "target"], "`tumours_kept` (filter the rows, keep every column)")


def judge_tumours(tumours_kept) -> None:
    from pyspark.sql import functions as F

    tumours = _table("breast_cancer", tumours_kept.sparkSession)
    columns = tumours.columns
    for column in columns:
        expect(column in tumours_kept.columns, f"`tumours_kept` lost the column `{column}`: filter rows, keep every column")
    got = _rows(tumours_kept, columns)

    def fences(error: float, k: float = 1.5):
        q1, q3 = tumours.approxQuantile(AREA, [0.25, 0.75], error)
        return q1 - k * (q3 - q1), q3 + k * (q3 - q1)

    truth = _rows(_kept_between(tumours, *fences(0.0)), columns)
    if got == truth:
        return
    mean, std = tumours.select(F.mean(AREA), F.stddev(AREA)).first()
    for k in (2.0, 2.5, 3.0):
        if got == _rows(_kept_between(tumours, mean - k * std, mean + k * std), columns):
            raise CheckFailed("that is the standard-deviation rule (mean ± k·σ); the exercise asks for the "
                              "IQR fences, which the few huge tumours cannot stretch")
    if got == _rows(_kept_between(tumours, *fences(0.0, 3.0)), columns):
        raise CheckFailed("those fences are 3 IQR from the quartiles; the exercise asks for 1.5 IQR")
    q1, median, q3 = tumours.approxQuantile(AREA, [0.25, 0.5, 0.75], 0.0)
    from_median = got == _rows(_kept_between(tumours, median - 1.5 * (q3 - q1), median + 1.5 * (q3 - q1)), columns)
    approximate = any(got == _rows(_kept_between(tumours, *fences(error)), columns)
                      for error in (0.001, 0.01, 0.05, 0.1, 0.25))
    if from_median and approximate:
        raise CheckFailed("these are not the 1.5 IQR fences of the exact quartiles: they start at Q1 and Q3 "
                          "(not at the median), and the quartiles need relativeError 0.0")
    expect(not from_median, "the fences are measured from the median; they start at the quartiles "
                            "(Q1 − 1.5·IQR and Q3 + 1.5·IQR)")
    expect(not approximate, "your quartiles are approximate: with relativeError > 0 `approxQuantile` may "
                            "return a value some rows away from the quartile; pass 0.0 for exact ones")
    got_set, truth_set = set(got), set(truth)
    expect(len(got) == len(got_set) or len(truth) != len(truth_set),
           "some tumours appear twice in `tumours_kept`")
    expect(got_set <= set(_rows(tumours, columns)), "some rows of `tumours_kept` are not tumours of the table")
    expect(truth_set <= got_set, "tumours inside the fences are missing: only rows beyond them should go")
    raise CheckFailed("some tumours beyond the 1.5 IQR fences are still in `tumours_kept`")


# --- Exercise 2: churn rate per payment method, for a bar chart -------------------------------

def _rate_truth(session) -> dict[str, tuple[float, int, float]]:
    """payment method -> (churn rate, churners, share of all churners)."""
    from pyspark.sql import functions as F

    churn = _table("churn", session)
    rows = churn.groupBy("payment_method").agg(F.avg("churn").alias("rate"), F.sum("churn").alias("n")).collect()
    total = sum(r.n for r in rows)
    return {r.payment_method: (r.rate, r.n, r.n / total) for r in rows}


def form_rates(rate_by_payment) -> None:
    import pandas as pd

    if describe(rate_by_payment) == "a Spark DataFrame":
        raise CheckFailed("`rate_by_payment` is still a Spark DataFrame: matplotlib draws pandas data, so "
                          "bring the small aggregated result to the driver with `toPandas()`")
    expect_type(rate_by_payment, pd.DataFrame, "`rate_by_payment`")
    for column in ("payment_method", "churn_rate"):
        expect(column in rate_by_payment.columns, f"`rate_by_payment` has no column `{column}`")


def judge_rates(rate_by_payment) -> None:
    truth = _rate_truth(None)
    frame = rate_by_payment
    expect(len(frame) == frame["payment_method"].nunique(),
           "a payment method appears on more than one row: one bar per method, so one row per method")
    expect(set(frame["payment_method"]) == set(truth),
           "`rate_by_payment` should have one row for each payment method of `churn`, and only those")
    got = {m: float(r) for m, r in zip(frame["payment_method"], frame["churn_rate"])}
    if all(_near(got[m], truth[m][1]) for m in truth):
        raise CheckFailed("those are numbers of churners; a churn rate is the share of a method's "
                          "customers who left")
    if all(_near(got[m], truth[m][2]) for m in truth):
        raise CheckFailed("those are each method's share of all churners (they sum to 1); the churn rate "
                          "is the share of the method's own customers who left")
    if all(_near(got[m], 100 * truth[m][0], 1e-4) for m in truth):
        raise CheckFailed("those are percentages; give the rate as a share between 0 and 1")
    expect(all(abs(got[m] - truth[m][0]) <= 0.0005 + 1e-9 for m in truth),
           "`churn_rate` is not the share of each payment method's customers who churned (to 3 decimals or more)")


# --- Exercise 3: compare two pairs of churn columns -------------------------------------------

def _comparison_truth(session) -> dict[str, float]:
    from pyspark.ml.feature import StringIndexer, VectorAssembler
    from pyspark.ml.stat import ChiSquareTest, Correlation
    from pyspark.sql import functions as F

    churn = _table("churn", session)
    both = churn.dropna(subset=["tenure_months", "total_charges"])
    pair = VectorAssembler(inputCols=["tenure_months", "total_charges"], outputCol="v").transform(both)
    indexed = StringIndexer(inputCols=["payment_method", "contract"], outputCols=["pm", "ct"]).fit(churn).transform(churn)
    tested = ChiSquareTest.test(VectorAssembler(inputCols=["pm", "ct"], outputCol="f").transform(indexed),
                                "f", "churn").first()
    return {
        "pearson": both.select(F.corr("tenure_months", "total_charges")).first()[0],
        "nulls_as_zero": churn.fillna(0, subset=["total_charges"]).stat.corr("tenure_months", "total_charges"),
        "spearman": float(Correlation.corr(pair, "v", "spearman").first()[0][0, 1]),
        "p": float(tested.pValues[0]), "statistic": float(tested.statistics[0]),
        "p_contract": float(tested.pValues[1]),
    }


def form_comparison(tenure_charges_r, payment_churn_p) -> None:
    r = _number(tenure_charges_r, "`tenure_charges_r`")
    expect(-1.0 <= r <= 1.0 or r != r, "`tenure_charges_r` should be a correlation, between -1 and 1")
    _number(payment_churn_p, "`payment_churn_p`")


def judge_comparison(tenure_charges_r, payment_churn_p) -> None:
    truth = _comparison_truth(None)
    r, p = float(tenure_charges_r), float(payment_churn_p)
    expect(r == r, "`tenure_charges_r` is NaN: a customer without `total_charges` reached the correlation")
    if not _near(r, truth["pearson"]):
        expect(not _near(r, truth["nulls_as_zero"]),
               "the customers without `total_charges` were counted with a charge of 0 (that is what "
               "`stat.corr` does with nulls): correlate only the customers that have both values")
        expect(not _near(r, truth["spearman"]),
               "that is Spearman's rank correlation; a straight-line relation is measured by Pearson's")
        raise CheckFailed("`tenure_charges_r` is not the Pearson correlation of tenure and total charges "
                          "over the customers that have both")
    if _near(p, truth["p"], 1e-4):
        return
    expect(not _near(p, truth["statistic"], 1e-4),
           "that is the chi-square statistic; the question asks for its p-value")
    expect(not _near(p, truth["p_contract"], 1e-4) or _near(truth["p"], truth["p_contract"], 1e-4),
           "that p-value tests `contract` against churn, not `payment_method`")
    raise CheckFailed("`payment_churn_p` is not the p-value of the chi-square test of independence between "
                      "`payment_method` and `churn`")


# --- Exercise 4: fix a penguin imputer --------------------------------------------------------

def _surrogates(model) -> dict[str, float]:
    return {k: float(v) for k, v in model.surrogateDF.first().asDict().items()}


def _reference_surrogates(rows, strategy: str) -> dict[str, float]:
    from pyspark.ml.feature import Imputer

    model = Imputer(strategy=strategy, inputCols=list(MEASURED), outputCols=[f"{c}_ref" for c in MEASURED]).fit(rows)
    return _surrogates(model)


def form_imputer(penguin_imputer, sex_mode) -> None:
    from pyspark.ml.feature import Imputer, ImputerModel

    if isinstance(penguin_imputer, Imputer):
        raise CheckFailed("`penguin_imputer` is an Imputer that was never fitted: `fit()` returns the "
                          "ImputerModel that holds the fill values")
    expect_type(penguin_imputer, ImputerModel, "`penguin_imputer` (what `Imputer.fit(...)` returns)")
    expect_type(sex_mode, str, "`sex_mode` (a value of the `sex` column)")


def judge_imputer(penguin_imputer, sex_mode) -> None:
    from pyspark.sql import functions as F

    columns = set(penguin_imputer.getInputCols() if penguin_imputer.isSet("inputCols")
                  else [penguin_imputer.getInputCol()])
    extra = sorted(columns - set(MEASURED))
    if extra:
        raise CheckFailed(f"`{extra[0]}` is not one of the two measurements the team wants filled")
    expect(columns == set(MEASURED), "one of the two measurements is not among the Imputer's input columns")
    strategy = penguin_imputer.getStrategy()
    expect(strategy != "mean", "the Imputer fills with the mean, its default: the team agreed on the median")
    expect(strategy == "median", f"the Imputer fills with the {strategy}: the team agreed on the median")
    penguins = _table("penguins", penguin_imputer.surrogateDF.sparkSession)
    train, _ = penguins.randomSplit(*SPLIT)
    got = _surrogates(penguin_imputer)
    want = _reference_surrogates(train, "median")
    if not all(_near(got[c], want[c]) for c in MEASURED):
        everyone = _reference_surrogates(penguins, "median")
        expect(not all(_near(got[c], everyone[c]) for c in MEASURED),
               "the medians come from every penguin, test birds included: fit the Imputer on "
               "`penguins_train` alone")
        raise CheckFailed("the fill values are not the medians of `penguins_train`: was it fitted on other rows?")
    counts = (train.filter(F.col("sex").isNotNull()).groupBy("sex").count()
              .orderBy(F.desc("count"), "sex").collect())
    answer = sex_mode.strip().lower()
    expect(answer in {r.sex.lower() for r in counts},
           "`sex_mode` is not a value of the `sex` column (is it a number, or the null?)")
    expect(answer == counts[0].sex.lower(),
           "`sex_mode` is not the most frequent sex among the training penguins")


# --- Exercise 5: which churn columns need a log? ----------------------------------------------

def form_skew(skewed, typical_charges) -> None:
    expect_type(skewed, (set, frozenset), "`skewed`")
    unknown = sorted(set(skewed) - set(SKEW_COLUMNS))
    if unknown:
        raise CheckFailed(f"`{unknown[0]}` is not one of the four columns listed (spelling counts)")
    _number(typical_charges, "`typical_charges`")


def _skew_truth(session) -> tuple[dict[str, float], dict[str, float]]:
    from pyspark.sql import functions as F

    churn = _table("churn", session)
    skews = churn.select(*[F.skewness(c).alias(c) for c in SKEW_COLUMNS]).first().asDict()
    charges = F.col("total_charges")
    row = churn.select(F.avg(F.log1p(charges)).alias("log_mean"), F.avg(charges).alias("mean"),
                       F.median(charges).alias("median")).first()
    return skews, {"typical": math.expm1(row.log_mean), "log_mean": row.log_mean,
                   "exp": math.exp(row.log_mean), "mean": row.mean, "median": float(row.median)}


def judge_skew(skewed, typical_charges) -> None:
    skews, charges = _skew_truth(None)
    key = {c for c, s in skews.items() if s > SKEW_LIMIT}
    reasons = {c: (f"its skewness is {'below' if skews[c] < SKEW_LIMIT else 'above'} {SKEW_LIMIT:g}"
                   + (": it leans left, and a log would stretch that tail further" if skews[c] < 0 else ""))
               for c in SKEW_COLUMNS}
    missing = {c: "a column whose long right tail (skewness above 1) a log would pull in is missing"
               for c in SKEW_COLUMNS}
    expect_choice(skewed, key, why_wrong=reasons, why_missing=missing, what="`skewed`")
    value = float(typical_charges)
    if _near(value, charges["typical"]):
        return
    expect(not _near(value, charges["log_mean"]),
           "that number is still on the log scale: transform it back to dollars")
    expect(not _near(value, charges["exp"]),
           "`exp` undoes `log`, but the values went through `log1p`: its inverse is `expm1`")
    expect(not _near(value, charges["mean"]),
           "that is the plain mean of the charges, which the long tail pulls up")
    expect(not _near(value, charges["median"]), "that is the median of the charges, not the back-transformed mean")
    raise CheckFailed("`typical_charges` is not the mean of `log1p(total_charges)` transformed back to dollars")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: IQR fences on tumour area",
    syllabus=("S2.01", "S2.02"), names=("tumours_kept",), form=form_tumours, judge=judge_tumours,
    hints=("Quartiles first, then the interquartile range IQR = Q3 − Q1; keep the rows between "
           "Q1 − 1.5·IQR and Q3 + 1.5·IQR.",
           "`DataFrame.approxQuantile(column, [0.25, 0.75], relativeError)` returns the two quartiles "
           "(exact with relativeError 0.0); `summary('25%', '75%')` shows them as strings. "
           "`F.col(...).between(low, high)` keeps both ends.",
           "`q1, q3 = tumours.approxQuantile(__, [__, __], __)`, then `tumours.filter(F.col(__).between(__, __))`"),
    solution_code=('q1_area, q3_area = tumours.approxQuantile("mean_area", [0.25, 0.75], 0.0)\n'
                   'iqr = q3_area - q1_area\n'
                   'tumours_kept = tumours.filter(F.col("mean_area").between(q1_area - 1.5 * iqr, q3_area + 1.5 * iqr))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: churn rate per payment method, as a bar chart",
    syllabus=("S2.03",), names=("rate_by_payment",), form=form_rates, judge=judge_rates,
    hints=("Aggregate in Spark (one row per payment method), then bring only that small table to the "
           "driver for matplotlib. With `churn` coded 0/1, its mean is the share who left.",
           "`groupBy(...).agg(F.avg(...).alias(...))` then `.toPandas()`; `ax.bar(x, height)` draws it.",
           "`rate_by_payment = churn.groupBy(__).agg(F.avg(__).alias(__)).toPandas()`"),
    solution_code=('rate_by_payment = (churn.groupBy("payment_method")\n'
                   '                   .agg(F.avg("churn").alias("churn_rate")).toPandas())\n'
                   'fig, ax = plt.subplots(figsize=(6, 3))\n'
                   'ax.bar(rate_by_payment["payment_method"], rate_by_payment["churn_rate"])\n'
                   'ax.set(ylabel="churn rate", title="Churn rate by payment method")\n'
                   'plt.show()'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: compare two pairs of churn columns",
    syllabus=("S2.04",), names=("tenure_charges_r", "payment_churn_p"),
    form=form_comparison, judge=judge_comparison,
    hints=("Two continuous columns: a correlation coefficient. Two categorical columns: a contingency "
           "table and a chi-square test of independence. Watch the customers without `total_charges`.",
           "`F.corr(a, b)` skips rows with a null, `df.stat.corr(a, b)` does not; `ChiSquareTest.test(df, "
           "featuresCol, labelCol)` wants numeric categories in a vector, so index the strings first.",
           "`StringIndexer(inputCol=__, outputCol=__)`, `VectorAssembler(inputCols=[__], outputCol=__)`, "
           "then `ChiSquareTest.test(__, __, __).first().pValues[__]`"),
    solution_code=('tenure_charges_r = (churn.dropna(subset=["total_charges"])\n'
                   '                    .stat.corr("tenure_months", "total_charges"))\n'
                   'indexed = StringIndexer(inputCol="payment_method", outputCol="payment_index").fit(churn).transform(churn)\n'
                   'vectors = VectorAssembler(inputCols=["payment_index"], outputCol="payment_vec").transform(indexed)\n'
                   'payment_churn_p = float(ChiSquareTest.test(vectors, "payment_vec", "churn").first().pValues[0])'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: fix a penguin imputer",
    syllabus=("S2.05", "S2.06", "D2.imputer"), names=("penguin_imputer", "sex_mode"),
    form=form_imputer, judge=judge_imputer,
    hints=("Three things are wrong: a string column, the strategy, and which penguins the statistics "
           "are learnt from. The string column needs its mode computed another way.",
           "`Imputer` takes numeric columns only; `strategy` is 'mean' (the default), 'median' or 'mode'; "
           "`fit(rows)` learns the fill values from `rows`. A string's mode: group, count, sort.",
           "`Imputer(strategy=__, inputCols=[__, __], outputCols=[__, __]).fit(__)`; "
           "`penguins_train.groupBy(__).count().dropna().orderBy(F.desc(__)).first()[__]`"),
    solution_code=('penguin_imputer = Imputer(strategy="median", inputCols=["bill_length_mm", "body_mass_g"],\n'
                   '                          outputCols=["bill_length_filled", "body_mass_filled"]).fit(penguins_train)\n'
                   'sex_mode = (penguins_train.dropna(subset=["sex"]).groupBy("sex").count()\n'
                   '            .orderBy(F.desc("count")).first()["sex"])'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: which churn columns need a log?",
    syllabus=("S2.09", "D3.log-target"), names=("skewed", "typical_charges"),
    form=form_skew, judge=judge_skew, guessable=True,
    hints=("Measure, do not eyeball: a long right tail has a large positive skewness. After averaging on "
           "the log scale, the number must go back to dollars.",
           "`F.skewness(column)` in a `select`; `F.log1p` and its inverse `F.expm1` (or `math.expm1`).",
           "`churn.select(*[F.skewness(c).alias(c) for c in __])`, then "
           "`churn.select(F.expm1(F.avg(F.log1p(__))))`"),
    solution_code=('skews = churn.select(*[F.skewness(c).alias(c) for c in\n'
                   '    ["tenure_months", "monthly_charges", "total_charges", "support_calls"]]).first().asDict()\n'
                   'skewed = {column for column, value in skews.items() if value > 1}\n'
                   'typical_charges = churn.select(F.expm1(F.avg(F.log1p("total_charges")))).first()[0]'),
)
