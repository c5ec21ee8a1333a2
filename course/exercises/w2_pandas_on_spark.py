"""Exercises of week 2, lesson 6: pandas on Spark, pandas UDFs and one model per group.

The lesson's demos work on `listings` (pandas API on Spark, a price-per-guest pandas UDF, one
price model per neighbourhood) and on penguin flippers (an iterator UDF and mapInPandas scoring
body mass). The exercises move the ideas to `churn` (a broken row-at-a-time UDF to rewrite, batch
scoring of a scikit-learn model with mapInPandas), to a pandas snippet on penguins to port, to one
regression per penguin species, and to scenarios that call for one tool or another. Every judge
recomputes the truth from ``course.datasets`` with plain pandas and scikit-learn, never from the
lesson's variables, and names the mistake in one sentence; the answers each judge was written
against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

from course.checks import CheckFailed, Exercise, describe, expect, expect_spark_dataframe, expect_type

LESSON = "06-pandas-on-spark"
CHURN_FEATURES = ["tenure_months", "monthly_charges", "support_calls"]
CALL_THRESHOLD = 0.2          # exercise 4: customers whose churn probability is at least this
PANDAS_SCALAR, PANDAS_SCALAR_ITER = 200, 204   # pyspark.util.PythonEvalType of Series and Iterator pandas UDFs
TOOLS = ("pandas_udf", "iterator_udf", "mapInPandas", "applyInPandas", "pandas_api", "to_pandas")
SCENARIOS = {  # letter -> (the tool, why another pick does not fit)
    "A": ("iterator_udf", "the model takes long to load and the output is one column: load it once per task, "
                          "before the loop over the Arrow batches"),
    "B": ("applyInPandas", "each store needs its own model, trained on all of that store's rows at once: "
                           "a function per group"),
    "C": ("mapInPandas", "the output has other columns than the input and fewer rows: only a function that "
                         "yields whole DataFrames with a declared schema can do that"),
    "D": ("pandas_api", "the existing pandas code should run distributed with as few changes as possible"),
    "E": ("pandas_udf", "a vectorised column-to-column function with no state to load: one pandas Series in, "
                        "one of the same length out"),
    "F": ("to_pandas", "a small aggregated result is needed by a single-machine library in the driver"),
}
_CACHE: dict = {}


def _spark():
    from course.spark import get_spark

    return get_spark()   # the notebook's session (Spark Connect or classic)


def _memo(key, compute):
    """Computed once per Spark session: a second check recomputes nothing."""
    key = (id(_spark()), key)
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _pandas(name: str):
    from course import datasets

    return _memo(("pandas", name), lambda: datasets.load(name))


def _close(a, b, tolerance: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= tolerance * max(1.0, abs(b))


def _same(got: dict, want: dict, tolerance: float = 1e-6) -> bool:
    return set(got) == set(want) and all(_close(got[k], want[k], tolerance) for k in want)


def _null(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _column_map(df, key: str, value: str, what: str) -> dict:
    expect(key in df.columns and value in df.columns,
           f"{what} should have the columns `{key}` and `{value}`; it has {', '.join(df.columns)}")
    return {r[key]: _null(r[value]) for r in df.select(key, value).collect()}


# --- Exercise 1: rewrite a row-at-a-time UDF ------------------------------------------------

def form_per_month(per_month, monthly) -> None:
    expect(callable(per_month) and hasattr(per_month, "evalType"),
           f"expected `per_month` to be a Spark UDF (what `@pandas_udf(...)` makes of a function); got {describe(per_month)}")
    expect_spark_dataframe(monthly, "`monthly`")


def _monthly_truth() -> dict:
    churn = _pandas("churn")
    values = churn["total_charges"] / churn["tenure_months"]
    return {k: _null(v) for k, v in zip(churn["customer_id"], values)}


def judge_per_month(per_month, monthly) -> None:
    expect(per_month.evalType in (PANDAS_SCALAR, PANDAS_SCALAR_ITER),
           "`per_month` is still a row-at-a-time Python UDF (`@udf`): make it a pandas UDF, which receives "
           "whole pandas Series (`@pandas_udf` with Series type hints)")
    kinds = dict(monthly.dtypes)
    expect("charge_per_month" in kinds, "`monthly` has no column `charge_per_month`")
    expect(kinds["charge_per_month"] in ("double", "float"),
           f"`charge_per_month` is declared `{kinds['charge_per_month']}`: a charge per month has decimals, so "
           "the UDF's declared return type must be a floating-point type")
    got = _column_map(monthly, "customer_id", "charge_per_month", "`monthly`")
    truth = _memo("monthly", _monthly_truth)
    expect(set(got) == set(truth), "`monthly` should have one row per customer of `churn`, keyed by `customer_id`")
    if _same(got, truth):
        return
    churn = _pandas("churn")
    swapped = {k: _null(v) for k, v in zip(churn["customer_id"], churn["tenure_months"] / churn["total_charges"])}
    expect(not _same(got, swapped), "the division is the wrong way round: the total charges divided by the months")
    zeros = {k: (0.0 if v is None else v) for k, v in truth.items()}
    expect(not _same(got, zeros), "customers with no recorded `total_charges` got 0: a missing total should "
                                  "give a missing (null) charge per month")
    expect(not all(v is None or float(v).is_integer() for v in got.values()),
           "the charges per month are whole numbers: something still truncates them")
    raise CheckFailed("`charge_per_month` is not `total_charges / tenure_months` for every customer")


# --- Exercise 2: a pandas snippet on pandas API on Spark -------------------------------------

def form_by_island(by_island) -> None:
    import pandas as pd
    import pyspark.pandas as ps
    from pyspark.sql import DataFrame

    if isinstance(by_island, pd.DataFrame):
        raise CheckFailed("`by_island` is a plain pandas DataFrame: the rows were collected to the driver "
                          "(`to_pandas()`/`toPandas()`) before the aggregation; keep it a pandas-on-Spark DataFrame")
    if isinstance(by_island, DataFrame):
        raise CheckFailed("`by_island` is a Spark DataFrame: the task is to keep the pandas code and change "
                          "the import, so the result is a pandas-on-Spark DataFrame")
    expect_type(by_island, ps.DataFrame, "`by_island` (what `groupby(...).agg(...)` of pandas API on Spark returns)")


def _island_truth(with_sex_filter: bool = True, scale: float = 1000.0):
    birds = _pandas("penguins")
    if with_sex_filter:
        birds = birds[birds["sex"].notna()]
    mass = birds["body_mass_g"] / scale
    table = mass.groupby(birds["island"]).agg(["mean", "count"])
    return {i: (float(r["mean"]), int(r["count"])) for i, r in table.iterrows()}


def judge_by_island(by_island) -> None:
    table = by_island.to_pandas()
    if "island" in table.columns:
        table = table.set_index("island")
    table.columns = [c[-1] if isinstance(c, tuple) else c for c in table.columns]   # ("mass_kg", "mean") -> "mean"
    missing = [c for c in ("mean", "count") if c not in table.columns]
    expect(not missing, f"`by_island` has no column `{missing[0] if missing else ''}`: name the two "
                        "aggregates `mean` and `count`, as the snippet's result does")
    got = {str(i): (float(r["mean"]), int(r["count"])) for i, r in table.iterrows()}
    truth = _memo("islands", _island_truth)
    expect(set(got) == set(truth), "`by_island` should have one row per island (the index of the grouped result)")

    def matches(want):
        return all(_close(got[k][0], want[k][0]) and got[k][1] == want[k][1] for k in want)

    if matches(truth):
        return
    expect(not matches(_memo("islands-all", lambda: _island_truth(with_sex_filter=False))),
           "the penguins whose `sex` is missing are still counted: the snippet keeps only rows with a known sex")
    expect(not all(_close(got[k][0], truth[k][0] * 1000) for k in truth),
           "the means are in grams: the snippet converts `body_mass_g` to kilograms first")
    expect(all(got[k][1] == truth[k][1] for k in truth), "the counts per island differ from the snippet's")
    raise CheckFailed("the mean mass in kilograms per island differs from the snippet's")


# --- Exercise 3: one regression per species with applyInPandas -------------------------------

def form_slopes(slopes) -> None:
    expect_spark_dataframe(slopes, "`slopes`")


def _slope_truth(by: str = "species", swap: bool = False) -> dict:
    import numpy as np

    birds = _pandas("penguins").dropna(subset=["flipper_length_mm", "body_mass_g"])
    out = {}
    for key, group in birds.groupby(by):
        x, y = group["flipper_length_mm"], group["body_mass_g"]
        if swap:
            x, y = y, x
        slope, intercept = np.polyfit(x, y, 1)
        out[key] = (len(group), float(slope), float(intercept))
    return out


def judge_slopes(slopes) -> None:
    for column in ("species", "n_birds", "grams_per_mm"):
        expect(column in slopes.columns, f"`slopes` has no column `{column}`")
    rows = slopes.select("species", "n_birds", "grams_per_mm").collect()
    truth = _memo("slopes", _slope_truth)
    got = {r["species"]: (r["n_birds"], _null(r["grams_per_mm"])) for r in rows}
    expect(len(rows) == len(got), "`slopes` has several rows for one species: one row per species")
    expect(set(got) == set(truth), "`slopes` should have one row per penguin species, keyed by `species` "
                                   "(was the data grouped by another column?)")
    if all(got[k][0] == truth[k][0] and _close(got[k][1], truth[k][1]) for k in truth):
        return
    expect(len({round(v[1] or 0.0, 6) for v in got.values()}) > 1,
           "every species got the same slope: one model was fitted on all the birds, not one per group")
    everyone = _pandas("penguins")["species"].value_counts().to_dict()
    expect(not all(got[k][0] == everyone[k] for k in truth),
           "`n_birds` counts every bird of the species, also those with a missing measurement the model "
           "could not use: count the rows the model was fitted on")
    expect(all(got[k][0] == truth[k][0] for k in truth), "`n_birds` is not the number of birds each model was fitted on")
    swapped = _memo("slopes-swapped", lambda: _slope_truth(swap=True))
    expect(not all(_close(got[k][1], swapped[k][1]) for k in truth),
           "that slope is millimetres of flipper per gram: the model should predict `body_mass_g` from "
           "`flipper_length_mm`")
    expect(not all(_close(got[k][1], truth[k][2]) for k in truth),
           "that is the intercept of each model (`intercept_`), not its slope (`coef_`)")
    raise CheckFailed("`grams_per_mm` is not the slope of a linear regression of body mass on flipper length per species")


# --- Exercise 4: batch scoring with mapInPandas ---------------------------------------------

def form_calls(retention_calls) -> None:
    expect_spark_dataframe(retention_calls, "`retention_calls`")
    for column in ("customer_id", "churn_probability"):
        expect(column in retention_calls.columns, f"`retention_calls` has no column `{column}`")


def _probabilities():
    from sklearn.linear_model import LogisticRegression

    churn = _pandas("churn")
    model = LogisticRegression(max_iter=1000).fit(churn[CHURN_FEATURES], churn["churn"])
    probability = model.predict_proba(churn[CHURN_FEATURES])
    return {k: (float(p0), float(p1)) for k, p0, p1 in zip(churn["customer_id"], probability[:, 0], probability[:, 1])}


def judge_calls(retention_calls) -> None:
    got = _column_map(retention_calls, "customer_id", "churn_probability", "`retention_calls`")
    expect(retention_calls.count() == len(got), "a customer appears more than once in `retention_calls`")
    every = _memo("probabilities", _probabilities)
    truth = {k: p1 for k, (_, p1) in every.items() if p1 >= CALL_THRESHOLD}
    if _same(got, truth):
        return
    expect(set(got) <= set(every), "`retention_calls` holds customer ids that are not in `churn`")
    expect(not all(v in (0.0, 1.0) for v in got.values()),
           "`churn_probability` holds 0/1 labels (`predict`): the team needs the probability (`predict_proba`)")
    expect(not all(_close(v, every[k][0]) for k, v in got.items()),
           "that is the probability of staying (column 0 of `predict_proba`); churn is class 1")
    expect(len(got) != len(every), "every customer is kept: only those with a churn probability of at least "
                                   f"{CALL_THRESHOLD} should get a call")
    expect(not (got and all(every[k][1] < CALL_THRESHOLD for k in got)),
           "the filter keeps the customers below the threshold: keep those at or above it")
    expect(all(_close(v, every[k][1]) for k, v in got.items()),
           "some probabilities differ from `churn_model`'s: score the three features of each batch, in order")
    raise CheckFailed(f"`retention_calls` should hold exactly the customers whose churn probability is at least "
                      f"{CALL_THRESHOLD}")


# --- Exercise 5: which tool? ----------------------------------------------------------------

def _normal(value) -> str:
    return str(value).strip().lower()


def form_tools(tool_choice) -> None:
    expect_type(tool_choice, dict, "`tool_choice`")
    keys = {str(k).strip().upper() for k in tool_choice}
    missing = sorted(set(SCENARIOS) - keys)
    expect(not missing, f"`tool_choice` has no tool for scenario {', '.join(missing)}")
    extra = sorted(keys - set(SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to F)")
    known = {_normal(t) for t in TOOLS}
    for key, value in tool_choice.items():
        expect(_normal(value) in known, f"`{value}` (scenario {key}) is not one of the tool names of the list "
                                        "(spelling counts, capitals do not)")


def judge_tools(tool_choice) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in tool_choice.items()}
    wrong = [k for k in sorted(SCENARIOS) if given[k] != _normal(SCENARIOS[k][0])]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"scenario {wrong[0]}: `{given[wrong[0]]}` does not fit; {SCENARIOS[wrong[0]][1]}{more}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: rewrite a row-at-a-time UDF",
    syllabus=("D2.pandas-udf", "S4.03"), names=("per_month", "monthly"),
    form=form_per_month, judge=judge_per_month,
    hints=("Two things to change: the kind of UDF (one Python call per batch of rows, not per row) and the "
           "declared return type (a charge per month has decimals).",
           "`@pandas_udf(\"<a floating-point type>\")` on a function whose parameters and result are typed "
           "`pd.Series`; dividing two Series divides them element by element and keeps missing values missing.",
           "`@pandas_udf(__)` / `def per_month(total: __, months: __) -> __: return __`, then "
           "`monthly = churn.select(__, per_month(__, __).alias(__))`"),
    solution_code=('@pandas_udf("double")\n'
                   'def per_month(total: pd.Series, months: pd.Series) -> pd.Series:\n'
                   '    return total / months\n'
                   '\n'
                   'monthly = churn.select("customer_id",\n'
                   '                       per_month("total_charges", "tenure_months").alias("charge_per_month"))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: from pandas to pandas API on Spark",
    syllabus=("D2.pandas-on-spark",), names=("by_island",),
    form=form_by_island, judge=judge_by_island,
    hints=("Most of the pandas code can stay; what changes is where the DataFrame comes from, and the one step "
           "that raises `PandasNotImplementedError`. Nothing should come back to the driver before the aggregation.",
           "`ps.read_parquet(path)` reads the file as a pandas-on-Spark DataFrame (or `penguins.pandas_api()`). "
           "Aggregating a grouped *Series* with a list of functions is the missing step; a grouped *DataFrame*'s "
           "`agg` accepts named aggregations, `new_name=(column, function)`, or a dict.",
           "`birds = ps.read_parquet(__)`, the snippet's filter and new column, then "
           "`birds.groupby(__).agg(mean=(__, __), count=(__, __))`, with no `to_pandas()` in between"),
    solution_code=('birds = ps.read_parquet(penguins_path)\n'
                   'birds = birds[birds["sex"].notna()]\n'
                   'birds["mass_kg"] = birds["body_mass_g"] / 1000\n'
                   'by_island = birds.groupby("island").agg(mean=("mass_kg", "mean"), count=("mass_kg", "count"))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: one regression per species",
    syllabus=("D2.pandas-udf", "S4.03"), names=("slopes",),
    form=form_slopes, judge=judge_slopes,
    hints=("One model per group: Spark hands the function all the rows of one species as a pandas DataFrame; "
           "the function fits a model on them and returns a one-row DataFrame.",
           "`penguins.groupBy(...).applyInPandas(func, schema=\"species string, n_birds long, grams_per_mm double\")`; "
           "inside, drop the rows with a missing flipper length or mass and fit scikit-learn's `LinearRegression` "
           "(its `coef_[0]` is the slope).",
           "`def fit_species(pdf): rows = pdf.dropna(subset=[__, __]); model = LinearRegression().fit(rows[[__]], rows[__]); "
           "return pd.DataFrame({\"species\": [__], \"n_birds\": [__], \"grams_per_mm\": [__]})`"),
    solution_code=('def fit_species(pdf: pd.DataFrame) -> pd.DataFrame:\n'
                   '    from sklearn.linear_model import LinearRegression\n'
                   '    rows = pdf.dropna(subset=["flipper_length_mm", "body_mass_g"])\n'
                   '    model = LinearRegression().fit(rows[["flipper_length_mm"]], rows["body_mass_g"])\n'
                   '    return pd.DataFrame({"species": [pdf["species"].iloc[0]], "n_birds": [len(rows)],\n'
                   '                         "grams_per_mm": [float(model.coef_[0])]})\n'
                   '\n'
                   'slopes = penguins.groupBy("species").applyInPandas(\n'
                   '    fit_species, schema="species string, n_birds long, grams_per_mm double")'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: batch scoring with mapInPandas",
    syllabus=("D4.map-in-pandas", "S4.03"), names=("retention_calls",),
    form=form_calls, judge=judge_calls,
    hints=("The function receives an iterator of pandas DataFrames (one per Arrow batch) and yields DataFrames with "
           "exactly the declared columns; it may yield fewer rows than it received.",
           "`churn.mapInPandas(func, schema=\"customer_id string, churn_probability double\")`; in `func`, "
           "`churn_model.predict_proba(pdf[churn_features])[:, 1]` is the probability of class 1 (churn).",
           "`def score(batches): for pdf in batches: p = __; keep = __; yield pd.DataFrame({\"customer_id\": __, "
           "\"churn_probability\": __})`, then `churn.mapInPandas(score, schema=__)`"),
    solution_code=('def score(batches):\n'
                   '    for pdf in batches:\n'
                   '        probability = churn_model.predict_proba(pdf[churn_features])[:, 1]\n'
                   '        keep = probability >= 0.2\n'
                   '        yield pd.DataFrame({"customer_id": pdf["customer_id"][keep],\n'
                   '                            "churn_probability": probability[keep]})\n'
                   '\n'
                   'retention_calls = churn.mapInPandas(score, schema="customer_id string, churn_probability double")'),
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: which tool fits?",
    syllabus=("D4.iterator-udf", "D4.map-in-pandas", "D2.pandas-udf", "D2.pandas-on-spark", "S4.03"),
    names=("tool_choice",), form=form_tools, judge=judge_tools, guessable=True,
    hints=("For each scenario ask: is the output one column per input row, a table with its own columns and row "
           "count, or one result per group? Is there state to load once? Must the code stay pandas code?",
           "Series in, Series out: `pandas_udf`. Expensive set-up before the loop over batches: `iterator_udf`. "
           "Whole DataFrames in and out, schema declared: `mapInPandas`. One call per group: `applyInPandas`. "
           "pandas code, distributed: `pandas_api`. A small result into the driver: `to_pandas`.",
           "`tool_choice = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\", \"F\": \"__\"}`"),
    solution_code=('tool_choice = {"A": "iterator_udf", "B": "applyInPandas", "C": "mapInPandas",\n'
                   '               "D": "pandas_api", "E": "pandas_udf", "F": "to_pandas"}'),
)
