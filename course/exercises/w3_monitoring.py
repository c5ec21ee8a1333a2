"""Exercises of week 3, lesson 8: monitoring models, drift and retraining.

The lesson's demos monitor a churn model whose requests drift on a known day and compute the
PSI of `monthly_charges` against the training rows. The exercises move the ideas to another
column and another reference (the first week of requests), to a second stream whose drift grows
day by day, to scenarios the page never discusses, and to a broken retraining rule. Every judge
recomputes the truth from ``course.datasets`` and the deterministic generator of
``course.standins.monitoring``, never from the lesson's variables, and names the mistake in one
sentence; the answers each judge was written against are in ``tests/wrong_answers`` and
``tests/right_answers``.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from course.checks import CheckFailed, Exercise, describe, expect, expect_type

LESSON = "08-monitoring-drift"
NUMBERS = ["tenure_months", "monthly_charges", "total_charges", "support_calls", "senior_citizen"]
CATEGORIES = ["contract", "internet_service"]
FEATURES = NUMBERS + CATEGORIES
SPLIT = {"test_size": 0.5, "random_state": 42}          # stratified on churn: training rows vs request pool
DEMO = {"seed": 1}                                       # simulate_requests: the demo's stream
GRADUAL = {"drift_day": 5, "concept_day": None, "gradual": True, "seed": 3}
START = pd.Timestamp("2026-01-05")
Q1_DAY = pd.Timestamp("2026-01-24")
Q2_THRESHOLD = 0.3
SCENARIOS = {  # letter -> (kind, why another pick is wrong)
    "A": ("data", "the applicants changed (younger), but at each age they default as before: P(label | features) "
                  "is unchanged"),
    "B": ("concept", "the features look as before, but the same kind of transaction now means something else: "
                     "the relation between features and label changed"),
    "C": ("label", "the share of spam (the label) changed, while each kind of message still looks as it did"),
    "D": ("data", "a feature's values changed (new units) upstream; what a real temperature means for the "
                  "label did not"),
    "E": ("concept", "the same houses now sell for less: the mapping from features to the label moved"),
    "F": ("label", "the disease (the label) became more common; sick and healthy patients present as before"),
}
KINDS = ("data", "concept", "label")
_CACHE: dict = {}


def _memo(key, compute):
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def churn_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, request pool) of the lesson, from ``course.datasets``."""
    def compute():
        from sklearn.model_selection import train_test_split

        from course import datasets

        churn = datasets.load("churn")[FEATURES + ["churn"]]
        return train_test_split(churn, stratify=churn["churn"], **SPLIT)
    return _memo("split", compute)


def requests(kind: str = "demo") -> pd.DataFrame:
    from course.standins.monitoring import simulate_requests

    return _memo(("requests", kind), lambda: simulate_requests(
        churn_split()[1], **(DEMO if kind == "demo" else GRADUAL)))


def _number(value, what: str) -> None:
    expect(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool),
           f"expected {what} to be a number; got {describe(value)}")


def _near(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= 1e-6 * max(1.0, abs(b))


# --- Exercise 1: the PSI of another column, against the first week ------------------------

def _q1_samples():
    rows = requests("demo")
    reference = rows.loc[rows["request_time"] < START + pd.Timedelta(days=7), "total_charges"]
    current = rows.loc[rows["request_time"].dt.normalize() == Q1_DAY, "total_charges"]
    return reference.dropna(), current.dropna()


def _psi(reference, current, edges, epsilon=1e-4):
    from course.standins.monitoring import bin_shares

    b = np.clip(bin_shares(reference, edges), epsilon, None)
    c = np.clip(bin_shares(current, edges), epsilon, None)
    return float(np.sum((c - b) * np.log(c / b)))


def form_psi(psi_total) -> None:
    _number(psi_total, "`psi_total`")


def judge_psi(psi_total) -> None:
    from course.standins.monitoring import psi_edges

    value = float(psi_total)
    expect(not math.isnan(value), "`psi_total` is NaN: a bin that is empty in both samples gives 0 · log(0/0); "
                                  "raise every share of 0 to 0.0001 before the logarithm")
    expect(not math.isinf(value), "`psi_total` is infinite: a bin is empty in the current day, and log(0) is "
                                  "-infinity; raise every share of 0 to 0.0001 before the logarithm")
    reference, current = _q1_samples()
    truth = _psi(reference, current, psi_edges(reference))
    if _near(value, truth):
        return
    expect(value >= 0, "a PSI is never negative: each term (current - baseline) · ln(current / baseline) is "
                       "positive or zero; check the subtraction and the ratio go the same way")
    expect(not _near(value, _psi(current, reference, psi_edges(current))),
           "the bins are the deciles of the current day: baseline and current are swapped (the bins come "
           "from the reference week)")
    expect(not _near(value, 100 * truth), "that PSI is computed on percentages: use shares (fractions that sum to 1)")
    train = churn_split()[0]["total_charges"].dropna()
    expect(not _near(value, _psi(train, current, psi_edges(train))),
           "that PSI compares the day with the model's training rows; the reference here is the first week "
           "of requests")
    rows = requests("demo")
    week4 = rows.loc[rows["request_time"] >= START + pd.Timedelta(days=21), "total_charges"].dropna()
    expect(not _near(value, _psi(reference, week4, psi_edges(reference))),
           "that PSI uses the whole last week; the current sample is the one day 2026-01-24")
    raise CheckFailed("`psi_total` is not the PSI of `total_charges` between the first week and 2026-01-24 with "
                      "the reference week's deciles as bins (open outer bins): check the bins and the rows")


# --- Exercise 2: the first alert of a gradual drift -----------------------------------------

def _as_day(value):
    if isinstance(value, str):
        try:
            return pd.Timestamp(value.strip()).date()
        except ValueError:
            return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).date()
    return None


def form_alert(first_alert) -> None:
    expect(first_alert is not None, "`first_alert` is None: your query found no window above the threshold; "
                                    "check which drift type compares each day with the baseline")
    expect(_as_day(first_alert) is not None,
           f"expected `first_alert` to be a date (a `datetime`, a `date` or a 'YYYY-MM-DD' string); got "
           f"{describe(first_alert)}")


def _daily(kind: str, column: str, statistic: str) -> list[tuple]:
    """(day, value) of a drift statistic of one column, each day against the baseline or the day before."""
    def compute():
        from scipy import stats

        from course.standins.monitoring import population_stability_index

        train = churn_split()[0]
        rows = requests("gradual")
        days = [(d.date(), w[column]) for d, w in rows.groupby(rows["request_time"].dt.normalize())]
        out = []
        for i, (day, values) in enumerate(days):
            other = train[column] if kind == "BASELINE" else (days[i - 1][1] if i else None)
            if other is None:
                continue
            if statistic == "psi":
                out.append((day, population_stability_index(other, values)))
            else:
                out.append((day, float(stats.ks_2samp(other.dropna(), values.dropna()).statistic)))
        return out
    return _memo(("daily", kind, column, statistic), compute)


def _first(kind="BASELINE", column="monthly_charges", statistic="psi", threshold=Q2_THRESHOLD):
    return next((day for day, v in _daily(kind, column, statistic) if v > threshold), None)


def judge_alert(first_alert) -> None:
    day = _as_day(first_alert)
    truth = _first()
    if day == truth:
        return
    expect(day != truth + dt.timedelta(days=1), "that is the end of the first alerting window; report the "
                                                "window's start")
    expect(day != _first(statistic="ks"), "that is the first day the KS statistic exceeds 0.3; the alert is on "
                                          "the population stability index")
    expect(day != _first(column="tenure_months"), "that alert is on `tenure_months`; the rule watches "
                                                  "`monthly_charges`")
    alerts = [d for d, v in _daily("BASELINE", "monthly_charges", "psi") if v > Q2_THRESHOLD]
    expect(not alerts or day != alerts[-1], "that is the last window above the threshold, not the first")
    expect(day not in {d for d, _ in _daily("BASELINE", "monthly_charges", "psi")} or day > truth,
           "on that day the PSI of `monthly_charges` against the baseline is not above 0.3")
    raise CheckFailed("`first_alert` is not the start of the first daily window whose BASELINE PSI of "
                      "`monthly_charges` exceeds 0.3")


# --- Exercise 3: which drift is it? -------------------------------------------------------------

def _normal(value) -> str:
    text = str(value).strip().lower()
    return {"data drift": "data", "concept drift": "concept", "label drift": "label", "prior": "label",
            "covariate": "data"}.get(text, text)


def form_kinds(drift_kind) -> None:
    expect_type(drift_kind, dict, "`drift_kind`")
    keys = {str(k).strip().upper() for k in drift_kind}
    missing = sorted(set(SCENARIOS) - keys)
    expect(not missing, f"`drift_kind` has no kind for scenario {', '.join(missing)}")
    extra = sorted(keys - set(SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to F)")
    for key, value in drift_kind.items():
        expect(_normal(value) in KINDS, f"`{value}` (scenario {key}) is not one of \"data\", \"concept\", \"label\"")


def judge_kinds(drift_kind) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in drift_kind.items()}
    wrong = [k for k in sorted(SCENARIOS) if given[k] != SCENARIOS[k][0]]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"scenario {wrong[0]}: `{drift_kind.get(wrong[0], given[wrong[0]])}` does not fit; "
                          f"{SCENARIOS[wrong[0]][1]}{more}")


# --- Exercise 4: fix a broken retraining rule -------------------------------------------------

def _day(n: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=n)


def retrain_cases() -> list[tuple[str, pd.DataFrame, pd.DataFrame, bool, str]]:
    """(name, drift rows, quality rows, expected decision, what a wrong decision means)."""
    def drift(rows):
        return pd.DataFrame(rows, columns=["window_start", "drift_type", "column_name", "population_stability_index"])

    def quality(rows):
        return pd.DataFrame(rows, columns=["window_start", "accuracy_score"])

    calm = [(_day(d), t, c, 0.02) for d in (0, 1, 2) for t in ("BASELINE", "CONSECUTIVE")
            for c in ("tenure_months", "monthly_charges")]
    calm += [(_day(d), t, "contract", np.nan) for d in (0, 1, 2) for t in ("BASELINE", "CONSECUTIVE")]
    good = quality([(_day(2), 0.72), (_day(0), 0.71), (_day(1), 0.70)])

    def with_(changes):
        rows = [r for r in calm if (r[0], r[1], r[2]) not in {(c[0], c[1], c[2]) for c in changes}]
        return drift(rows + changes)

    return [
        ("one feature drifts in the latest window", with_([(_day(2), "BASELINE", "monthly_charges", 0.40)]), good, True,
         "one feature past the limit is enough: take the largest PSI of the latest window, not an average"),
        ("the accuracy falls, nothing drifts", drift(calm), quality([(_day(2), 0.50), (_day(0), 0.71), (_day(1), 0.70)]),
         True, "a quality drop alone must trigger retraining (concept drift moves no feature): either "
               "condition is enough"),
        ("drift in an older window only", with_([(_day(0), "BASELINE", "monthly_charges", 0.40)]), good, False,
         "the rule must look at the latest window; an old window that drifted is history"),
        ("the day changed from the day before, not from the baseline",
         with_([(_day(2), "CONSECUTIVE", "monthly_charges", 0.40)]), good, False,
         "the rule compares with the baseline (the training data), not with the day before"),
        ("the latest window drifted from the baseline, not from the day before",
         with_([(_day(2), "BASELINE", "tenure_months", 0.30), (_day(1), "BASELINE", "tenure_months", 0.30)]), good, True,
         "a slow drift differs little from one day to the next: compare with the baseline"),
        ("an older window had a poor accuracy", drift(calm), quality([(_day(0), 0.50), (_day(2), 0.72), (_day(1), 0.70)]),
         False, "the accuracy that counts is the latest window's; the rows are in no particular order"),
        ("all calm", drift(calm), good, False, "nothing drifted and the accuracy is fine: no retraining"),
    ]


def form_rule(should_retrain) -> None:
    expect(callable(should_retrain), f"expected `should_retrain` to be a function; got {describe(should_retrain)}")


def judge_rule(should_retrain) -> None:
    for name, drift, quality, want, why in retrain_cases():
        try:
            got = should_retrain(drift.copy(), quality.copy())
        except Exception as exc:
            raise CheckFailed(f"`should_retrain` raised {type(exc).__name__} on a case ({name}): {exc}") from None
        expect(isinstance(got, (bool, np.bool_)), f"`should_retrain` should return True or False; got {describe(got)}")
        expect(bool(got) == want, f"wrong decision when {name}: {why}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: the PSI of total charges",
    syllabus=("S1.01",), names=("psi_total",), form=form_psi, judge=judge_psi,
    hints=("PSI compares the shares of two samples in the same bins; the bins come from the reference sample, "
           "and a share of 0 needs a floor before the logarithm.",
           "`np.quantile(reference, [0.1, ..., 0.9])` gives the inner edges; `np.searchsorted(edges, values, "
           "side=\"right\")` or `pd.cut(values, [-np.inf, *edges, np.inf], right=False)` puts values in bins; "
           "`np.clip(shares, 1e-4, None)` is the floor.",
           "`edges = np.quantile(__, np.linspace(0, 1, 11)[1:-1])`, then shares `b` and `c` of each sample, then "
           "`float(np.sum((c - b) * np.log(c / b)))`"),
    solution_code=('reference = inference_pd.loc[inference_pd["request_time"] < "2026-01-12", "total_charges"].dropna()\n'
                   'current = inference_pd.loc[inference_pd["request_time"].dt.normalize() == "2026-01-24",\n'
                   '                           "total_charges"].dropna()\n'
                   'edges = np.quantile(reference, np.linspace(0, 1, 11)[1:-1])\n'
                   'b = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10) / len(reference)\n'
                   'c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=10) / len(current)\n'
                   'b, c = np.clip(b, 1e-4, None), np.clip(c, 1e-4, None)\n'
                   'psi_total = float(np.sum((c - b) * np.log(c / b)))'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: the first drift alert",
    syllabus=("S1.01",), names=("first_alert",), form=form_alert, judge=judge_alert,
    hints=("The drift table has one row per window, column and drift type; the alert compares each day with "
           "the baseline, on one statistic of one column.",
           "Filter on `drift_type`, `column_name` and `population_stability_index > 0.3`, order by "
           "`window.start`, keep the first row.",
           "`spark.table(gradual_monitor.drift_metrics_table_name).filter(...).orderBy(\"window.start\")"
           ".first()[\"window\"][\"start\"]`"),
    solution_code=('alerts = (spark.table(gradual_monitor.drift_metrics_table_name)\n'
                   '          .filter((F.col("drift_type") == "BASELINE") & (F.col("column_name") == "monthly_charges")\n'
                   '                  & (F.col("population_stability_index") > 0.3))\n'
                   '          .orderBy("window.start"))\n'
                   'first_alert = alerts.first()["window"]["start"].date()'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: which drift is it?",
    syllabus=("S1.01",), names=("drift_kind",), form=form_kinds, judge=judge_kinds, guessable=True,
    hints=("Ask what changed: the inputs P(features), the relation P(label | features), or the label's own "
           "distribution P(label)?",
           "Data drift: the inputs move, the rule does not. Concept drift: the same inputs now mean another "
           "label. Label drift: the mix of labels changes while each class looks as before.",
           "`drift_kind = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\", \"F\": \"__\"}`"),
    solution_code=('drift_kind = {"A": "data", "B": "concept", "C": "label", "D": "data", "E": "concept",\n'
                   '              "F": "label"}'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: fix the retraining rule",
    syllabus=("S1.01",), names=("should_retrain",), form=form_rule, judge=judge_rule,
    hints=("Four things are wrong: which window is the latest, what the drift is measured against, how the "
           "columns' PSIs are combined, and how the two conditions are combined.",
           "The latest window is the largest `window_start`; the baseline rows have `drift_type == \"BASELINE\"`; "
           "one drifting feature is enough (the largest PSI); either condition triggers.",
           "`latest = drift[\"window_start\"].__()`, `rows = drift[(... == latest) & (drift[\"drift_type\"] == __)]`, "
           "`worst_psi = rows[\"population_stability_index\"].__()`, `return ... __ ...`"),
    solution_code=('def should_retrain(drift, quality, psi_limit=0.25, min_accuracy=0.6):\n'
                   '    latest = drift["window_start"].max()\n'
                   '    rows = drift[(drift["window_start"] == latest) & (drift["drift_type"] == "BASELINE")]\n'
                   '    worst_psi = rows["population_stability_index"].max()\n'
                   '    accuracy = quality.sort_values("window_start")["accuracy_score"].iloc[-1]\n'
                   '    return bool(worst_psi > psi_limit or accuracy < min_accuracy)'),
)
