"""The local data profiling stand-in (course.standins.monitoring) does what its docstring says: PSI
and KS as the lesson computes them by hand, CONSECUTIVE and BASELINE drift per window, model
quality in the ':table' rows, both metric tables written as Spark tables under the documented
names, a refresh that sees new rows, tables that can be written twice, and a generator whose
drift starts on the day it is told. Small frames, real SciPy and Spark, no mocks.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from course.standins import monitoring as M

CONFIG = M.InferenceLogConfig(problem_type="INFERENCE_PROBLEM_TYPE_CLASSIFICATION", prediction_column="pred",
                              timestamp_column="ts", granularities=["AGGREGATION_GRANULARITY_1_DAY"],
                              model_id_column="version", label_column="label")


def _frame(days=3, n=200, shift_from=2, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        x = rng.normal(5.0 if day >= shift_from else 0.0, 1.0, n)
        label = (rng.random(n) < 0.5).astype(int)
        rows.append(pd.DataFrame({"ts": pd.Timestamp("2026-03-02") + pd.Timedelta(days=day)
                                  + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
                                  "x": x, "colour": rng.choice(["red", "blue"], n), "label": label,
                                  "pred": np.where(day >= shift_from, 1 - label, label), "version": "1"}))
    return pd.concat(rows, ignore_index=True)


def test_psi_matches_the_hand_formula_with_decile_bins_and_a_floor():
    rng = np.random.default_rng(1)
    base, cur = rng.normal(0, 1, 1000), rng.normal(3, 1, 300)
    edges = np.quantile(base, np.linspace(0, 1, 11)[1:-1])
    b = np.clip(np.bincount(np.searchsorted(edges, base, side="right"), minlength=10) / base.size, 1e-4, None)
    c = np.clip(np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / cur.size, 1e-4, None)
    assert (c == 1e-4).any()                       # an empty bin: without the floor the PSI is infinite
    assert M.population_stability_index(base, cur) == pytest.approx(float(np.sum((c - b) * np.log(c / b))))
    assert M.population_stability_index(base, base) == pytest.approx(0.0)
    assert M.population_stability_index(cur, base) != pytest.approx(M.population_stability_index(base, cur))


def test_drift_rows_compare_with_the_previous_window_and_the_baseline():
    frame, baseline = _frame(), _frame(days=1, shift_from=99, seed=5)
    profile, drift = M.compute_metrics(frame, CONFIG, baseline)
    x = drift[drift["column_name"] == "x"]
    assert sorted(x["drift_type"].value_counts().items()) == [("BASELINE", 3), ("CONSECUTIVE", 2)]
    shifted = x[(x["drift_type"] == "CONSECUTIVE") & (x["window_start"] == pd.Timestamp("2026-03-04"))].iloc[0]
    assert shifted["window_cmp_start"] == pd.Timestamp("2026-03-03")
    day3 = frame[frame["ts"] >= pd.Timestamp("2026-03-04")]["x"]
    day2 = frame[(frame["ts"] >= pd.Timestamp("2026-03-03")) & (frame["ts"] < pd.Timestamp("2026-03-04"))]["x"]
    assert shifted["ks_test"]["statistic"] == pytest.approx(stats.ks_2samp(day2, day3).statistic)
    assert shifted["population_stability_index"] > 1
    calm = x[(x["drift_type"] == "CONSECUTIVE") & (x["window_start"] == pd.Timestamp("2026-03-03"))].iloc[0]
    assert calm["population_stability_index"] < 0.25
    colour = drift[drift["column_name"] == "colour"].iloc[0]
    assert {"chi_squared_test", "tv_distance", "l_infinity_distance", "js_distance"} <= set(colour.dropna().index)
    assert pd.isna(colour["population_stability_index"])


def test_quality_rows_hold_the_model_quality_per_window_and_baseline_rows_are_marked():
    profile, _ = M.compute_metrics(_frame(), CONFIG, _frame(days=1, seed=5))
    table = profile[(profile["column_name"] == ":table") & (profile["log_type"] == "INPUT")].set_index("window_start")
    assert table.loc[pd.Timestamp("2026-03-02"), "accuracy_score"] == 1.0
    assert table.loc[pd.Timestamp("2026-03-04"), "accuracy_score"] == 0.0
    assert set(profile["log_type"]) == {"INPUT", "BASELINE"}
    assert profile[profile["column_name"] == "x"]["data_type"].iloc[0] == "numeric"
    assert profile[profile["column_name"] == "pred"]["data_type"].iloc[0] == "categorical"


def test_config_refuses_unknown_problem_types_and_granularities():
    with pytest.raises(ValueError, match="problem_type"):
        M.InferenceLogConfig("CLASSIFICATION", "p", "t", ["AGGREGATION_GRANULARITY_1_DAY"], "m")
    with pytest.raises(ValueError, match="granularities"):
        M.InferenceLogConfig("INFERENCE_PROBLEM_TYPE_REGRESSION", "p", "t", ["2 days"], "m")


def test_monitor_writes_both_tables_as_spark_tables_and_refresh_sees_new_rows(spark):
    frame = _frame(days=2)
    M.save_table(spark.createDataFrame(frame), "standin_mon_tests.requests")
    M.save_table(spark.createDataFrame(frame), "standin_mon_tests.requests")      # writing twice is fine
    monitor = M.create_monitor("standin_mon_tests.requests", inference_log=CONFIG,
                               output_schema_name="main.standin_mon_tests", spark=spark)
    assert monitor.profile_metrics_table_name == "standin_mon_tests.requests_profile_metrics"
    assert monitor.drift_metrics_table_name == "standin_mon_tests.requests_drift_metrics"
    drift = spark.table(monitor.drift_metrics_table_name)
    assert {"window", "window_cmp", "drift_type", "ks_test", "population_stability_index"} <= set(drift.columns)
    assert drift.select("drift_type").distinct().collect()[0][0] == "CONSECUTIVE"   # no baseline table given
    assert drift.filter("column_name = 'x'").count() == 1
    M.save_table(spark.createDataFrame(_frame(days=3)), "standin_mon_tests.requests")
    M.run_refresh("standin_mon_tests.requests")
    assert spark.table(monitor.drift_metrics_table_name).filter("column_name = 'x'").count() == 2
    windows = spark.table(monitor.profile_metrics_table_name).filter("column_name = ':table'").select("window.start")
    assert windows.distinct().count() == 3
    spark.sql("DROP DATABASE standin_mon_tests CASCADE")
    M.delete_monitor("standin_mon_tests.requests")
    with pytest.raises(KeyError):
        M.get_monitor("standin_mon_tests.requests")


def test_simulated_requests_drift_from_the_day_they_are_told():
    pool = pd.DataFrame({"monthly_charges": np.linspace(20, 110, 500), "tenure_months": np.arange(500) % 72 + 1,
                         "contract": ["One year", "Two year"] * 250, "churn": 0})
    rows = M.simulate_requests(pool, days=10, rows_per_day=200, drift_day=5, concept_day=8, seed=0)
    day = rows["request_time"].dt.normalize()
    again = M.simulate_requests(pool, days=10, rows_per_day=200, drift_day=5, concept_day=8, seed=0)
    pd.testing.assert_frame_equal(rows, again)
    before = rows[day < pd.Timestamp("2026-01-10")]["monthly_charges"].mean()
    after = rows[day >= pd.Timestamp("2026-01-10")]["monthly_charges"].mean()
    assert after > before + 10
    assert rows[day < pd.Timestamp("2026-01-13")]["churn"].sum() == 0
    assert rows[(day >= pd.Timestamp("2026-01-13")) & (rows["contract"] == "One year")]["churn"].mean() > 0.2
