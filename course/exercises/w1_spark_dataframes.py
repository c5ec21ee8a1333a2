"""Exercises of week 1, lesson 2: Spark DataFrames, lazy transformations and actions.

Groundwork for every later lesson (no exam id of its own): an aggregation on a table with gaps,
where counting a column and counting rows differ; a broken chain to fix; which calls start a job.
"""
from __future__ import annotations

from course.checks import (CheckFailed, Exercise, expect, expect_choice, expect_columns,
                           expect_spark_dataframe, expect_type)

LESSON = "02-spark-dataframes"
TWO_DECIMALS = 0.005 + 1e-9   # what rounding to 2 decimals may move a value, and float noise


def _close(got, want) -> bool:
    return got is not None and abs(got - want) <= TWO_DECIMALS


def _only_columns(df, columns: tuple[str, ...], what: str) -> None:
    expect_columns(df, columns, what)
    extra = [c for c in df.columns if c not in columns]
    expect(not extra, f"{what} should hold only the columns {', '.join(columns)}; it also has {extra}")


# --- Exercise 1: listings per room type ---------------------------------------------------------

ROOM_COLUMNS = ("room_type", "n_listings", "mean_score")


def _room_truth(session) -> dict:
    from pyspark.sql import functions as F

    from course import datasets

    listings = datasets.load_spark("listings", session)
    rows = (listings.groupBy("room_type")
            .agg(F.count("*").alias("rows"), F.count("review_score").alias("scored"),
                 F.avg("review_score").alias("mean"),
                 F.avg(F.coalesce(F.col("review_score"), F.lit(0.0))).alias("mean_with_zeros"))
            .collect())
    return {r.room_type: r for r in rows}


def form_by_room(by_room) -> None:
    df = expect_spark_dataframe(by_room, "`by_room`")
    _only_columns(df, ROOM_COLUMNS, "`by_room`")


def judge_by_room(by_room) -> None:
    truth = _room_truth(by_room.sparkSession)
    rows = by_room.collect()
    got = {r["room_type"]: (r["n_listings"], r["mean_score"]) for r in rows}
    expect(len(got) == len(rows), "a room type appears on more than one row: group by `room_type` alone")
    expect(set(got) == set(truth), "`by_room` should have one row for each room type of `listings`, "
                                   "every room type: was a filter added?")
    counts = {k: n for k, (n, _) in got.items()}
    if counts == {k: r.scored for k, r in truth.items()}:
        raise CheckFailed("you counted only the listings that have a review score (`F.count(column)` skips "
                          "nulls, and so does filtering them out); `F.count('*')` counts rows")
    expect(counts == {k: r.rows for k, r in truth.items()},
           "`n_listings` is not the number of listings (rows) of each room type")
    means = {k: m for k, (_, m) in got.items()}
    expect(all(m is not None for m in means.values()), "`mean_score` is null for a room type")
    if all(_close(means[k], r.mean_with_zeros) for k, r in truth.items()):
        raise CheckFailed("`mean_score` counts the listings without a score as zeros: `F.avg` skips nulls "
                          "by itself, so the mean is over the listings that have a score")
    expect(all(_close(means[k], r.mean) for k, r in truth.items()),
           "`mean_score` is further from each room type's mean review score than rounding to 2 decimals allows")


# --- Exercise 2: fix the broken chain -----------------------------------------------------------

RISK_COLUMNS = ("internet_service", "n_customers", "churn_rate")


def _risk_counts(session) -> dict[str, dict]:
    """Customers per internet service for the right filter and for the usual slips."""
    from pyspark.sql import functions as F

    from course import datasets

    churn = datasets.load_spark("churn", session)
    month = F.col("contract") == "Month-to-month"
    filters = {"right": month & (F.col("support_calls") >= 2), "no_calls": month,
               "no_contract": F.col("support_calls") >= 2, "more_than_two": month & (F.col("support_calls") > 2),
               "either": month | (F.col("support_calls") >= 2)}
    found = {name: {r.internet_service: (r.n, r.rate) for r in churn.filter(condition)
                    .groupBy("internet_service").agg(F.count("*").alias("n"), F.avg("churn").alias("rate"))
                    .collect()}
             for name, condition in filters.items()}
    found["none"] = {r.internet_service: (r.n, r.rate) for r in churn.groupBy("internet_service")
                     .agg(F.count("*").alias("n"), F.avg("churn").alias("rate")).collect()}
    return found


def form_at_risk(at_risk) -> None:
    df = expect_spark_dataframe(at_risk, "`at_risk`")
    if "customer_id" in df.columns:
        raise CheckFailed("`at_risk` still holds one row per customer: `groupBy().agg()` returns a new "
                          "DataFrame (DataFrames never change in place), so assign or chain its result")
    _only_columns(df, RISK_COLUMNS, "`at_risk`")


def judge_at_risk(at_risk) -> None:
    rows = at_risk.collect()
    expect(len(rows) > 0, "`at_risk` has no rows: the filter matches nobody. Compare with the values "
                          "`contract` really holds (list them with `distinct()`; case counts)")
    cases = _risk_counts(at_risk.sparkSession)
    truth = cases["right"]
    got = {r["internet_service"]: (r["n_customers"], r["churn_rate"]) for r in rows}
    expect(len(got) == len(rows), "an internet service appears on more than one row: group by it alone")
    expect(set(got) == set(truth), "`at_risk` should have one row for each internet service")
    counts = {k: n for k, (n, _) in got.items()}
    slips = {
        "none": "no filter was applied: keep only the month-to-month customers with at least two support calls",
        "no_calls": "you kept every month-to-month customer: the condition on `support_calls` is missing",
        "no_contract": "you kept every contract: the condition on `contract` is missing",
        "more_than_two": "\"at least two\" calls includes customers with exactly two: `>` leaves them out",
        "either": "you kept customers who meet either condition: both must hold, so combine them with `&`",
    }
    for name, message in slips.items():
        if counts == {k: n for k, (n, _) in cases[name].items()}:
            raise CheckFailed(message)
    expect(counts == {k: n for k, (n, _) in truth.items()},
           "`n_customers` is not the number of customers of each internet service who meet both conditions")
    expect(all(_close(got[k][1], rate) for k, (_, rate) in truth.items()),
           "`churn_rate` is not the share of those customers who churned (the mean of `churn`), "
           "to 2 decimals or more")
    order = [r["internet_service"] for r in rows]
    expect(order == sorted(truth, key=lambda k: truth[k][1], reverse=True),
           "the rows are not sorted highest churn rate first: `orderBy` sorts ascending unless told otherwise")


# --- Exercise 3: which calls start a job? -------------------------------------------------------

CALLS = ("approxQuantile", "cache", "corr", "describe", "dropDuplicates", "dropna", "head", "isEmpty",
         "printSchema", "sample", "tail", "unpersist")
JOB_KEY = {"approxQuantile", "corr", "head", "isEmpty", "tail"}
JOB_WHY_WRONG = {
    "cache": "`cache()` only marks the DataFrame to be kept; the first action afterwards fills the cache",
    "describe": "`describe()` returns a DataFrame of statistics: nothing runs until you show or collect it",
    "dropDuplicates": "`dropDuplicates()` returns a new DataFrame: a transformation",
    "dropna": "`dropna()` returns a new DataFrame: a transformation",
    "printSchema": "the schema is known without reading any row: `printSchema()` runs no job",
    "sample": "`sample()` returns a new DataFrame: a transformation",
    "unpersist": "`unpersist()` only drops what a cache holds: there is nothing to compute",
}
JOB_WHY_MISSING = {
    "approxQuantile": "a call that returns a list of Python floats is missing",
    "corr": "a call that returns one Python float is missing",
    "head": "a call that returns a list of Rows is missing",
    "isEmpty": "a call that returns a Python bool is missing",
    "tail": "a call that returns a list of Rows is missing",
}


def _calls(starts_job) -> set[str]:
    return {str(name).strip().removesuffix("()") for name in starts_job}


def form_starts_job(starts_job) -> None:
    expect_type(starts_job, (set, frozenset), "`starts_job`")
    unknown = sorted(_calls(starts_job) - set(CALLS))
    expect(not unknown, f"{unknown} are not among the listed calls (spelling and case count)")
    expect(len(starts_job) > 0, "at least one of the listed calls starts a job")


def judge_starts_job(starts_job) -> None:
    expect_choice(_calls(starts_job), JOB_KEY, JOB_WHY_WRONG, JOB_WHY_MISSING, "`starts_job`")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: listings per room type",
    syllabus=(), names=("by_room",), form=form_by_room, judge=judge_by_room,
    hints=("One row per group: group, then aggregate. Two aggregates here: one counts rows, the other "
           "averages a column that has gaps.",
           "`groupBy(column).agg(...)` with `F.count(...)` and `F.avg(...)`, each named with `.alias(...)`; "
           "`F.round(column, 2)` rounds. Which argument of `F.count` counts every row, even where "
           "`review_score` is null?",
           "`listings.groupBy(...).agg(F.count(...).alias(\"n_listings\"), F.round(F.avg(...), 2).alias(...))`"),
    solution_code=('by_room = (listings.groupBy("room_type")\n'
                   '           .agg(F.count("*").alias("n_listings"),\n'
                   '                F.round(F.avg("review_score"), 2).alias("mean_score")))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: fix the broken chain",
    syllabus=(), names=("at_risk",), form=form_at_risk, judge=judge_at_risk,
    hints=("Four things are broken: how the two conditions are combined, a value that matches nothing, "
           "a result that is thrown away, and the direction of the sort.",
           "Conditions combine with `&`, each in its own parentheses; `churn.select(\"contract\").distinct()` "
           "lists the values; DataFrame methods return a new DataFrame, so chain them or assign the result; "
           "`F.desc(column)` sorts highest first.",
           "`at_risk = (churn.filter((...) & (...)).groupBy(...).agg(..., ...).orderBy(F.desc(...)))`"),
    solution_code=('at_risk = (churn\n'
                   '           .filter((F.col("contract") == "Month-to-month") & (F.col("support_calls") >= 2))\n'
                   '           .groupBy("internet_service")\n'
                   '           .agg(F.count("*").alias("n_customers"),\n'
                   '                F.round(F.avg("churn"), 2).alias("churn_rate"))\n'
                   '           .orderBy(F.desc("churn_rate")))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: which calls start a Spark job?",
    syllabus=(), names=("starts_job",), form=form_starts_job, judge=judge_starts_job, guessable=True,
    hints=("An action hands a result back to Python (or writes it out), so Spark must run a job. A call "
           "that returns a DataFrame, or only prints what Spark already knows, runs none.",
           "Ask what each call returns: a DataFrame, nothing (it prints or marks), or a Python value "
           "(a Row, a list, a bool, a number).",
           "Five of the twelve calls start a job. `cache()` is lazy: the first action after it fills the cache."),
    solution_code='starts_job = {"approxQuantile", "corr", "head", "isEmpty", "tail"}',
)
