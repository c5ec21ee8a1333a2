"""A local stand-in for Databricks data profiling (formerly Lakehouse Monitoring) of an inference table.

**What it imitates.** The workflow of an *inference* profile (``InferenceLog`` analysis) and the
two metric tables it writes:

* ``create_monitor(table_name, *, inference_log=InferenceLogConfig(...), output_schema_name,
  baseline_table_name=None)`` attaches a monitor to a Spark table of model requests and runs a
  first refresh. ``InferenceLogConfig`` keeps the field names of ``databricks.sdk``'s current
  ``dataquality.InferenceLogConfig`` (``problem_type``, ``prediction_column``,
  ``timestamp_column``, ``granularities``, ``model_id_column``, ``label_column``) and its enum
  values (``INFERENCE_PROBLEM_TYPE_CLASSIFICATION``, ``AGGREGATION_GRANULARITY_1_DAY``...);
* ``refresh()`` (or ``run_refresh(table_name)``) recomputes both tables, named as on Databricks
  ``{output_schema}.{table}_profile_metrics`` and ``{output_schema}.{table}_drift_metrics``;
* the **profile metrics table** holds, per time window (``window`` struct of ``start``/``end``),
  ``granularity``, ``model_id`` and column: ``count``, ``num_nulls``, ``avg``, ``stddev``,
  ``min``, ``median``, ``max``, ``distinct_count``; a row with ``column_name = ':table'`` holds
  the model's quality in the window when labels are there (classification: ``accuracy_score``,
  ``f1_score``, ``precision``, ``recall``, the last three for class 1 of a binary label;
  regression: ``mean_absolute_error``, ``root_mean_squared_error``, ``r2_score``).
  ``log_type`` is ``INPUT`` for the monitored table and ``BASELINE`` for the baseline table;
* the **drift metrics table** compares each window with the previous one (``drift_type =
  'CONSECUTIVE'``) and, when a baseline table is given, with the baseline (``'BASELINE'``);
  ``window_cmp`` is the window compared against. Numeric columns get ``ks_test`` (a struct of
  ``statistic`` and ``pvalue``), ``wasserstein_distance``, ``population_stability_index`` and
  ``js_distance``; categorical ones ``chi_squared_test``, ``tv_distance``,
  ``l_infinity_distance`` and ``js_distance``; both get ``count_delta`` and ``avg_delta``.

**What it does not.** It computes on the driver with pandas and SciPy and writes plain Spark
tables in a local database (Databricks runs a serverless job and writes Delta tables in Unity
Catalog, with a dashboard). ``output_schema_name`` may be ``catalog.schema`` as on Databricks,
but only its last part is used: the local database. There is no Snapshot or TimeSeries analysis,
no slicing expressions, no custom metrics, no schedule, no notifications, no incremental
processing (Change Data Feed), no 30-day look-back limit, no fairness metrics, and the tables
have fewer columns than Databricks' (no ``slice_key``, ``percent_null_delta``, quantile arrays,
confusion matrices...). Databricks does not document how it bins a column for its population
stability index; here the bins are the baseline's deciles with open outer bins, and an empty
bin's share is raised to ``EPSILON`` (the same rule as the course's hand computation). The
Databricks API also takes the table's and schema's Unity Catalog ids (``object_id``,
``output_schema_id``) where this takes names. ``simulate_requests`` is a local addition: a
deterministic generator of model requests in which drift starts on a known day.
"""
from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EPSILON = 1e-4
PSI_BINS = 10
PROBLEM_TYPES = {"INFERENCE_PROBLEM_TYPE_CLASSIFICATION": "classification",
                 "INFERENCE_PROBLEM_TYPE_REGRESSION": "regression"}
GRANULARITIES = {  # enum value (or the older "1 day" spelling) -> pandas frequency
    "AGGREGATION_GRANULARITY_1_HOUR": "1h", "1 hour": "1h",
    "AGGREGATION_GRANULARITY_1_DAY": "1D", "1 day": "1D",
    "AGGREGATION_GRANULARITY_1_WEEK": "7D", "1 week": "7D",
}
_SPELLING = {"1h": "1 hour", "1D": "1 day", "7D": "1 week"}
_MONITORS: dict[str, "DataProfilingMonitor"] = {}


# --- the configuration -----------------------------------------------------------------------

@dataclass
class InferenceLogConfig:
    """The ``InferenceLog`` analysis of an inference table (names of ``dataquality.InferenceLogConfig``)."""

    problem_type: str
    prediction_column: str
    timestamp_column: str
    granularities: list
    model_id_column: str
    label_column: str | None = None

    def __post_init__(self):
        kind = getattr(self.problem_type, "value", self.problem_type)
        if kind not in PROBLEM_TYPES:
            raise ValueError(f"problem_type {kind!r}: use one of {sorted(PROBLEM_TYPES)}")
        self.problem_type = kind
        grains = [getattr(g, "value", g) for g in self.granularities]
        unknown = [g for g in grains if g not in GRANULARITIES]
        if not grains or unknown:
            raise ValueError(f"granularities {unknown or grains!r}: this stand-in knows {sorted(GRANULARITIES)}")
        self.granularities = grains


# --- statistics, in pandas and numpy -----------------------------------------------------------

def psi_edges(baseline, bins: int = PSI_BINS) -> np.ndarray:
    """Inner bin edges: the baseline's quantiles 1/bins ... (bins-1)/bins (the outer bins are open)."""
    values = np.asarray(pd.Series(baseline).dropna(), dtype=float)
    return np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])


def bin_shares(values, inner_edges) -> np.ndarray:
    """The share of ``values`` in each bin (-inf, e1), [e1, e2), ..., [e_last, +inf)."""
    values = np.asarray(pd.Series(values).dropna(), dtype=float)
    index = np.searchsorted(np.asarray(inner_edges, dtype=float), values, side="right")
    counts = np.bincount(index, minlength=len(inner_edges) + 1)
    return counts / max(counts.sum(), 1)


def population_stability_index(baseline, current, bins: int = PSI_BINS, epsilon: float = EPSILON) -> float:
    """PSI = sum over bins of (current share - baseline share) * ln(current share / baseline share),
    the bins being the baseline's deciles (open outer bins), a share of 0 raised to ``epsilon``."""
    edges = psi_edges(baseline, bins)
    base = np.clip(bin_shares(baseline, edges), epsilon, None)
    cur = np.clip(bin_shares(current, edges), epsilon, None)
    return float(np.sum((cur - base) * np.log(cur / base)))


def _categorical_shares(baseline, current):
    base = pd.Series(baseline).dropna().astype(str).value_counts()
    cur = pd.Series(current).dropna().astype(str).value_counts()
    keys = sorted(set(base.index) | set(cur.index))
    b = np.array([base.get(k, 0) for k in keys], dtype=float)
    c = np.array([cur.get(k, 0) for k in keys], dtype=float)
    return b, c


def numeric_drift(baseline, current) -> dict:
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    b = np.asarray(pd.Series(baseline).dropna(), dtype=float)
    c = np.asarray(pd.Series(current).dropna(), dtype=float)
    if len(b) == 0 or len(c) == 0:
        return {}
    with warnings.catch_warnings():   # "exact calculation unsuccessful": SciPy falls back to the asymptotic p-value
        warnings.simplefilter("ignore")
        ks = stats.ks_2samp(b, c)
    edges = psi_edges(b)
    return {"ks_test": {"statistic": float(ks.statistic), "pvalue": float(ks.pvalue)},
            "wasserstein_distance": float(stats.wasserstein_distance(b, c)),
            "population_stability_index": population_stability_index(b, c),
            "js_distance": float(jensenshannon(bin_shares(b, edges), bin_shares(c, edges), base=2))}


def categorical_drift(baseline, current) -> dict:
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    b, c = _categorical_shares(baseline, current)
    if b.sum() == 0 or c.sum() == 0:
        return {}
    p, q = b / b.sum(), c / c.sum()
    seen = (b + c) > 0
    if seen.sum() > 1:
        chi = stats.chi2_contingency(np.vstack([b[seen], c[seen]]))
        chi_test = {"statistic": float(chi.statistic), "pvalue": float(chi.pvalue)}
    else:
        chi_test = {"statistic": 0.0, "pvalue": 1.0}
    return {"chi_squared_test": chi_test, "tv_distance": float(0.5 * np.abs(p - q).sum()),
            "l_infinity_distance": float(np.abs(p - q).max()),
            "js_distance": float(jensenshannon(p, q, base=2))}


# --- profiles and drift of a whole inference table, in pandas ---------------------------------

def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _columns(frame: pd.DataFrame, config: InferenceLogConfig) -> dict[str, str]:
    """Profiled columns -> 'numeric' or 'categorical' (a classifier's prediction and label are classes)."""
    skip = {config.timestamp_column, config.model_id_column}
    classes = {config.prediction_column, config.label_column} if PROBLEM_TYPES[config.problem_type] == "classification" else set()
    return {c: ("categorical" if c in classes or not _is_numeric(frame[c]) else "numeric")
            for c in frame.columns if c not in skip}


def _quality(rows: pd.DataFrame, config: InferenceLogConfig) -> dict:
    if not config.label_column:
        return {}
    rows = rows.dropna(subset=[config.label_column, config.prediction_column])
    if rows.empty:
        return {}
    y, p = rows[config.label_column], rows[config.prediction_column]
    from sklearn import metrics

    if PROBLEM_TYPES[config.problem_type] == "classification":
        out = {"accuracy_score": float(metrics.accuracy_score(y, p))}
        if set(pd.unique(pd.concat([y, p]))) <= {0, 1}:
            out.update(precision=float(metrics.precision_score(y, p, zero_division=0)),
                       recall=float(metrics.recall_score(y, p, zero_division=0)),
                       f1_score=float(metrics.f1_score(y, p, zero_division=0)))
        return out
    return {"mean_absolute_error": float(metrics.mean_absolute_error(y, p)),
            "root_mean_squared_error": float(math.sqrt(metrics.mean_squared_error(y, p))),
            "r2_score": float(metrics.r2_score(y, p)) if len(rows) > 1 else None}


def _profile(rows: pd.DataFrame, kinds: dict[str, str]) -> list[dict]:
    out = []
    for column, kind in kinds.items():
        values = rows[column]
        row = {"column_name": column, "data_type": kind, "count": int(values.notna().sum()),
               "num_nulls": int(values.isna().sum()), "distinct_count": int(values.nunique())}
        if kind == "numeric" and values.notna().any():
            v = values.astype(float)
            row.update(avg=float(v.mean()), stddev=float(v.std()) if v.count() > 1 else None,
                       min=float(v.min()), median=float(v.median()), max=float(v.max()))
        out.append(row)
    return out


def _windows(frame: pd.DataFrame, config: InferenceLogConfig, freq: str):
    times = pd.to_datetime(frame[config.timestamp_column])
    starts = times.dt.floor(freq) if freq != "7D" else (times.dt.normalize()
                                                        - pd.to_timedelta(times.dt.weekday, unit="D"))
    step = pd.Timedelta(freq)
    for start in sorted(starts.unique()):
        yield pd.Timestamp(start), pd.Timestamp(start) + step, frame[starts == start]


def compute_metrics(frame: pd.DataFrame, config: InferenceLogConfig,
                    baseline: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The profile and drift metrics of an inference table, as two pandas DataFrames."""
    kinds = _columns(frame, config)
    profile, drift = [], []
    if baseline is not None:
        base_kinds = {c: k for c, k in kinds.items() if c in baseline.columns}
        for row in _profile(baseline, base_kinds):
            profile.append({"window_start": None, "window_end": None, "granularity": None,
                            "model_id": None, "log_type": "BASELINE", **row})
    for grain in config.granularities:
        freq = GRANULARITIES[grain]
        for model_id, rows in frame.groupby(config.model_id_column, sort=True):
            previous = None
            for start, end, window in _windows(rows, config, freq):
                common = {"window_start": start, "window_end": end, "granularity": _SPELLING[freq],
                          "model_id": str(model_id)}
                profile += [{**common, "log_type": "INPUT", **r} for r in _profile(window, kinds)]
                profile.append({**common, "log_type": "INPUT", "column_name": ":table", "data_type": None,
                                "count": len(window), **_quality(window, config)})
                against = [("CONSECUTIVE", previous)] if previous is not None else []
                if baseline is not None:
                    against.append(("BASELINE", (None, None, baseline)))
                for drift_type, (cmp_start, cmp_end, other) in against:
                    for column, kind in kinds.items():
                        if column not in other.columns:
                            continue
                        stats = (numeric_drift if kind == "numeric" else categorical_drift)(other[column], window[column])
                        delta = {"count_delta": float(window[column].count() - other[column].count())}
                        if kind == "numeric":
                            delta["avg_delta"] = float(window[column].mean() - other[column].mean())
                        drift.append({**common, "window_cmp_start": cmp_start, "window_cmp_end": cmp_end,
                                      "drift_type": drift_type, "column_name": column, "data_type": kind,
                                      **delta, **stats})
                previous = (start, end, window)
    return pd.DataFrame(profile), pd.DataFrame(drift)


# --- the monitor, on Spark tables ----------------------------------------------------------------

_PROFILE_COLUMNS = ["window_start", "window_end", "granularity", "model_id", "log_type", "column_name",
                    "data_type", "count", "num_nulls", "distinct_count", "avg", "stddev", "min", "median", "max",
                    "accuracy_score", "precision", "recall", "f1_score",
                    "mean_absolute_error", "root_mean_squared_error", "r2_score"]
_DRIFT_COLUMNS = ["window_start", "window_end", "window_cmp_start", "window_cmp_end", "granularity", "model_id",
                  "drift_type", "column_name", "data_type", "count_delta", "avg_delta", "ks_test",
                  "wasserstein_distance", "population_stability_index", "chi_squared_test", "tv_distance",
                  "l_infinity_distance", "js_distance"]
_TYPES = {"window_start": "timestamp", "window_end": "timestamp", "window_cmp_start": "timestamp",
          "window_cmp_end": "timestamp", "granularity": "string", "model_id": "string", "log_type": "string",
          "column_name": "string", "data_type": "string", "count": "bigint", "num_nulls": "bigint",
          "distinct_count": "bigint", "drift_type": "string",
          "ks_test": "struct<statistic:double,pvalue:double>",
          "chi_squared_test": "struct<statistic:double,pvalue:double>"}


def _write(spark, frame: pd.DataFrame, columns: list[str], name: str) -> None:
    from pyspark.sql import functions as F

    frame = frame.reindex(columns=columns)
    schema = ", ".join(f"`{c}` {_TYPES.get(c, 'double')}" for c in columns)
    records = []
    for row in frame.itertuples(index=False):
        record = []
        for column, value in zip(columns, row):
            if isinstance(value, dict):
                value = (value["statistic"], value["pvalue"])
            elif value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                value = None
            elif isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            elif isinstance(value, (np.integer,)):
                value = int(value)
            elif isinstance(value, (np.floating, float)):
                value = int(value) if _TYPES.get(column) == "bigint" else float(value)
            record.append(value)
        records.append(tuple(record))
    df = spark.createDataFrame(records, schema)
    pairs = [("window", "window_start", "window_end"), ("window_cmp", "window_cmp_start", "window_cmp_end")]
    for struct, start, end in pairs:
        if start in columns:
            df = df.withColumn(struct, F.when(F.col(start).isNull(), F.lit(None)).otherwise(
                F.struct(F.col(start).alias("start"), F.col(end).alias("end")))).drop(start, end)
    first = [s for s, start, _ in pairs if start in columns]
    df = df.select(*first, *[c for c in df.columns if c not in first])
    save_table(df, name)


def save_table(df, name: str) -> None:
    """Write ``df`` as the Spark table ``database.table``, replacing it (a local addition).

    The course's Spark catalog lives in memory: a new session forgets its tables but not their
    folders in the warehouse, and Spark refuses to create a managed table over a folder that
    exists. This removes such a leftover folder first, so a lesson can run twice."""
    import shutil
    from pathlib import Path
    from urllib.parse import urlparse

    database, table = name.split(".")[-2:]
    spark = df.sparkSession
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(f"DROP TABLE IF EXISTS {database}.{table}")
    warehouse = spark.conf.get("spark.sql.warehouse.dir")
    root = Path(urlparse(warehouse).path if warehouse.startswith("file:") else warehouse)
    leftover = root / f"{database}.db" / table
    if leftover.is_dir():
        shutil.rmtree(leftover)
    df.write.mode("overwrite").saveAsTable(f"{database}.{table}")


@dataclass
class DataProfilingMonitor:
    """A monitor attached to one inference table; ``refresh()`` rewrites its two metric tables."""

    table_name: str
    inference_log: InferenceLogConfig
    output_schema_name: str
    baseline_table_name: str | None = None
    spark: object = field(default=None, repr=False)

    @property
    def _schema(self) -> str:
        return self.output_schema_name.split(".")[-1]

    @property
    def profile_metrics_table_name(self) -> str:
        return f"{self._schema}.{self.table_name.split('.')[-1]}_profile_metrics"

    @property
    def drift_metrics_table_name(self) -> str:
        return f"{self._schema}.{self.table_name.split('.')[-1]}_drift_metrics"

    def refresh(self) -> "DataProfilingMonitor":
        spark = self.spark
        frame = spark.table(self.table_name).toPandas()
        missing = [c for c in (self.inference_log.prediction_column, self.inference_log.timestamp_column,
                               self.inference_log.model_id_column, self.inference_log.label_column)
                   if c and c not in frame.columns]
        if missing:
            raise ValueError(f"{self.table_name} has no column {', '.join(missing)}")
        baseline = spark.table(self.baseline_table_name).toPandas() if self.baseline_table_name else None
        profile, drift = compute_metrics(frame, self.inference_log, baseline)
        _write(spark, profile, _PROFILE_COLUMNS, self.profile_metrics_table_name)
        _write(spark, drift, _DRIFT_COLUMNS, self.drift_metrics_table_name)
        return self


def create_monitor(table_name: str, *, inference_log: InferenceLogConfig, output_schema_name: str,
                   baseline_table_name: str | None = None, spark=None) -> DataProfilingMonitor:
    """Attach an inference profile to ``table_name`` and run a first refresh (one monitor per table:
    creating it again replaces it, where Databricks would refuse a second monitor)."""
    if spark is None:
        from course.spark import get_spark

        spark = get_spark()
    if not isinstance(inference_log, InferenceLogConfig):
        raise TypeError("inference_log must be an InferenceLogConfig")
    if not spark.catalog.tableExists(table_name):
        raise ValueError(f"no table {table_name}: write the inference table first")
    monitor = DataProfilingMonitor(table_name, inference_log, output_schema_name, baseline_table_name, spark)
    _MONITORS[table_name] = monitor
    return monitor.refresh()


def get_monitor(table_name: str) -> DataProfilingMonitor:
    if table_name not in _MONITORS:
        raise KeyError(f"no monitor on {table_name} in this session: create_monitor first")
    return _MONITORS[table_name]


def run_refresh(table_name: str) -> DataProfilingMonitor:
    """Recompute the metric tables of the monitor on ``table_name`` (after new rows arrived)."""
    return get_monitor(table_name).refresh()


def delete_monitor(table_name: str) -> None:
    """Forget the monitor; its metric tables stay (drop them with DROP TABLE)."""
    _MONITORS.pop(table_name, None)


# --- a deterministic stream of model requests (local addition) ----------------------------------

def simulate_requests(pool: pd.DataFrame, *, days: int = 28, rows_per_day: int = 150,
                      start: str = "2026-01-05", drift_day: int | None = 14, concept_day: int | None = 21,
                      gradual: bool = False, seed: int = 0) -> pd.DataFrame:
    """Requests drawn from ``pool`` (rows of ``churn``), one batch a day, with a timestamp.

    * Data drift from ``drift_day``: new customers with high monthly charges and short tenure are
      drawn more often (at full strength at once, or growing day by day when ``gradual``); each
      customer's churn label still follows the same rule, so P(label | features) is unchanged.
    * Concept drift from ``concept_day``: a competitor's offer makes 40 % of the one-year-contract
      customers leave (label 1) whatever their features: P(label | features) changes.
    """
    rng = np.random.default_rng(seed)
    charges = (pool["monthly_charges"] - pool["monthly_charges"].mean()) / pool["monthly_charges"].std()
    tenure = (pool["tenure_months"] - pool["tenure_months"].mean()) / pool["tenure_months"].std()
    first = pd.Timestamp(start)
    batches = []
    for day in range(days):
        if drift_day is None or day < drift_day:
            strength = 0.0
        elif gradual:
            strength = (day - drift_day + 1) / max(days - drift_day, 1)
        else:
            strength = 1.0
        weights = np.exp(strength * (1.2 * charges - 1.2 * tenure)).to_numpy()
        picks = rng.choice(len(pool), size=rows_per_day, p=weights / weights.sum())
        batch = pool.iloc[picks].reset_index(drop=True).copy()
        seconds = np.sort(rng.integers(0, 86_400, size=rows_per_day))
        batch.insert(0, "request_time", first + pd.Timedelta(days=day) + pd.to_timedelta(seconds, unit="s"))
        if concept_day is not None and day >= concept_day:
            leave = (batch["contract"] == "One year") & (rng.random(rows_per_day) < 0.4)
            batch.loc[leave, "churn"] = 1
        batches.append(batch)
    return pd.concat(batches, ignore_index=True)


def day_of(timestamp) -> _dt.date:
    """The calendar day of a window start (a datetime, a pandas Timestamp or an ISO string)."""
    return pd.Timestamp(timestamp).date()
