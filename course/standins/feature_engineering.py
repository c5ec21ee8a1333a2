"""A local stand-in for Databricks Feature Engineering in Unity Catalog.

**What it imitates.** The names and keyword signatures of ``databricks.feature_engineering``
(``FeatureEngineeringClient``, ``FeatureLookup``, ``TrainingSet``) that the exam asks about:

* ``create_table(name, primary_keys, df=None, *, timeseries_columns=None, partition_columns=None,
  schema=None, description=None, tags=None)``: a feature table with a primary key (a time series
  table when ``timeseries_columns`` names a timestamp key, which must be one of the primary keys).
  On a table that already exists it returns that table **and writes nothing** (a warning says so):
  updates go through ``write_table``;
* ``write_table(name, df, mode="merge")``: an upsert by primary key (existing keys updated, new
  keys inserted, other rows unchanged). ``"merge"`` is the only mode. A DataFrame whose columns
  or types differ from the table's is refused with an error that names the difference, and
  nothing is written;
* ``read_table``, ``get_table``, ``drop_table``;
* ``FeatureLookup(table_name, lookup_key, *, feature_names=None, rename_outputs=None,
  timestamp_lookup_key=None, lookback_window=None)`` and ``create_training_set(df,
  feature_lookups, label, exclude_columns=None)``, whose ``load_df()`` left-joins the features to
  ``df``: a key missing from the table gives null features, as on Databricks; with
  ``timestamp_lookup_key`` the join is point-in-time, taking for each row the latest feature row
  at or before the row's timestamp, never after;
* ``log_model(model, artifact_path, *, flavor, training_set, registered_model_name=None)``
  (``name=`` is accepted too, as MLflow 3 spells it): the model is logged as an MLflow pyfunc
  model that carries the lookups (``feature_spec.yaml``, an artifact of the model);
* ``score_batch(model_uri, df)``: ``df`` needs only the lookup keys (plus any model input that is
  in no feature table); the features are looked up in the offline tables and a ``prediction``
  column is added. A feature column already present in ``df`` is used as given instead of being
  looked up (Databricks documents this override for online scoring);
* ``create_online_store(name, capacity)``, ``get_online_store(name)`` and
  ``publish_table(online_store, source_table_name, online_table_name, publish_mode)``: a copy of
  the table for key lookups (for a time series table, the latest row of each key).

Names are Unity Catalog names, ``catalog.schema.table``. A one-part name is completed from the
current catalog and schema (``use_schema``); a two-part name is the legacy workspace Feature
Store's ``database.table`` form and is rejected, as Unity Catalog rejects it.

**What it does not.** It stores each table as parquet files in the course's Spark warehouse
folder with its metadata in a JSON file: Delta Lake is not available offline (its jars come from
Maven), so there are no ACID transactions, no time travel, no Change Data Feed and no
``MERGE INTO`` in SQL; a table is not in Spark's catalog (read it with ``read_table``). Unity
Catalog's governance (grants, lineage, discovery in Catalog Explorer, sharing across
workspaces) does not exist here, and primary keys are checked by the stand-in (not null,
unique), whereas Unity Catalog's primary key constraints are informational. There is no
streaming write, no feature function (``FeatureFunction``), no declarative features, no
``default_values``, no Feature Serving endpoint and no Model Serving; the online store is a
sqlite file (Databricks Online Feature Stores run on Lakebase) and is read with the local helper
``OnlineStore.lookup``. ``score_batch`` scores on the driver with pandas (Databricks scores with a
Spark UDF on the cluster), so it is for small batches. The stand-in refuses a time series lookup
without ``timestamp_lookup_key``, and any schema difference on write (Databricks may add new
columns as features). Local additions: ``use_schema``, ``drop_schema``,
``drop_table_if_exists``, ``OnlineStore.lookup`` and the ``root`` argument of the client.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import json
import re
import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CATALOG, DEFAULT_SCHEMA = "main", "default"
SPEC_FILE = "feature_spec.yaml"
PREDICTION = "prediction"
_NAME_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CURRENT = {"catalog": DEFAULT_CATALOG, "schema": DEFAULT_SCHEMA}
_WIDENINGS = {("int", "bigint"), ("smallint", "int"), ("smallint", "bigint"), ("float", "double"),
              ("int", "double"), ("bigint", "double"), ("smallint", "double")}
_TIME_TYPES = {"timestamp", "timestamp_ntz", "date"}


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- value classes -------------------------------------------------------------------------------

@dataclass
class FeatureTable:
    """What ``get_table`` and ``create_table`` return (Databricks' ``FeatureTable``, in part)."""

    name: str
    primary_keys: list
    timeseries_columns: list
    partition_columns: list
    features: list
    """The feature columns: every column that is not a primary key."""
    description: str | None = None
    tags: dict = field(default_factory=dict)
    creation_timestamp: float = 0.0

    @property
    def timestamp_keys(self) -> list:
        """The workspace Feature Store's name for ``timeseries_columns``."""
        return self.timeseries_columns


class FeatureLookup:
    """Which features of one feature table to join, and on which key (Databricks' signature)."""

    def __init__(self, table_name: str, lookup_key, *, feature_names=None, rename_outputs: dict | None = None,
                 timestamp_lookup_key=None, lookback_window: _dt.timedelta | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"FeatureLookup got unexpected arguments: {', '.join(kwargs)}")
        self.table_name = table_name
        self.lookup_key = _as_list(lookup_key)
        self.feature_names = None if feature_names is None else _as_list(feature_names)
        self.rename_outputs = dict(rename_outputs or {})
        self.timestamp_lookup_key = _as_list(timestamp_lookup_key)
        self.lookback_window = lookback_window
        if not self.lookup_key:
            raise ValueError("FeatureLookup needs a lookup_key: the column(s) of df that match the table's primary key")

    def __repr__(self) -> str:
        more = f", timestamp_lookup_key={self.timestamp_lookup_key!r}" if self.timestamp_lookup_key else ""
        return (f"FeatureLookup(table_name={self.table_name!r}, lookup_key={self.lookup_key!r}, "
                f"feature_names={self.feature_names!r}{more})")


class TrainingSet:
    """What ``create_training_set`` returns: ``load_df()`` gives the labels joined with the features."""

    def __init__(self, client: "FeatureEngineeringClient", df, lookups: list[dict], label, exclude_columns):
        self._client, self._df, self._lookups = client, df, lookups
        self._label, self._exclude = label, exclude_columns

    def load_df(self):
        """A Spark DataFrame: ``df``'s columns and the looked-up features, without ``exclude_columns``."""
        joined = self._client._join(self._df, self._lookups)
        return joined.drop(*self._exclude) if self._exclude else joined

    @property
    def feature_spec(self) -> dict:
        """What ``log_model`` stores with the model: the lookups, the label and the model's inputs."""
        columns = [c for c in self.load_df().columns if c not in _as_list(self._label)]
        return {"lookups": [{k: v for k, v in lookup.items() if k != "table"} for lookup in self._lookups],
                "label": self._label, "exclude_columns": list(self._exclude), "input_columns": columns,
                "source_columns": [c for c in self._df.columns if c not in _as_list(self._label)]}


@dataclass
class OnlineStore:
    """An online store: a sqlite file locally (Databricks: a Lakebase database instance)."""

    name: str
    capacity: str
    path: Path

    def _connect(self):
        return sqlite3.connect(self.path)

    def lookup(self, online_table_name: str, keys):
        """Local addition: the features of one key (a dict of key column -> value) as a dict, or
        None when the key is not published; a list of such dicts gives a pandas DataFrame (one row
        per key, nulls for unknown keys). On Databricks, Feature Serving and Model Serving
        endpoints do this lookup."""
        import pandas as pd

        table = _online_table(online_table_name)
        many = isinstance(keys, (list, tuple))
        rows, found = [], []
        with self._connect() as connection:
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
            if not columns:
                raise ValueError(f"online table {online_table_name!r} is not published in online store {self.name!r}")
            for key in (keys if many else [keys]):
                where = " AND ".join(f'"{k}" = ?' for k in key)
                row = connection.execute(f'SELECT * FROM "{table}" WHERE {where}', list(key.values())).fetchone()
                found.append(row is not None)
                rows.append(dict(zip(columns, row)) if row else {**{c: None for c in columns}, **key})
        if many:
            return pd.DataFrame(rows, columns=columns)
        return rows[0] if found[0] else None


def _online_table(name: str) -> str:
    return name.replace(".", "__")


@dataclass
class PublishedTable:
    online_table_name: str
    source_table_name: str
    publish_mode: str
    rows: int


# --- the model wrapper logged by log_model --------------------------------------------------------

try:
    import mlflow.pyfunc as _pyfunc
    import pandas as _pd

    _PythonModel = _pyfunc.PythonModel
except ImportError:  # pragma: no cover - MLflow is a dependency of the course
    _PythonModel = object


class FeatureStoreModel(_PythonModel):
    """The pyfunc model ``log_model`` writes: the raw model plus the feature spec it was trained with."""

    def load_context(self, context):
        import mlflow.pyfunc
        import yaml

        self.raw_model = mlflow.pyfunc.load_model(context.artifacts["raw_model"])
        self.feature_spec = yaml.safe_load(Path(context.artifacts["feature_spec"]).read_text())

    def predict(self, context, model_input: _pd.DataFrame, params=None):   # the hint: no MLflow validation
        return self.raw_model.predict(model_input[self.feature_spec["input_columns"]])


# --- the client ---------------------------------------------------------------------------------

class FeatureEngineeringClient:
    """Databricks' ``FeatureEngineeringClient``, locally; ``root`` (a local addition) is where the
    tables live, by default the course's Spark warehouse folder."""

    def __init__(self, *, model_registry_uri: str | None = None, root: str | Path | None = None, spark=None):
        if root is None:
            from course.spark import spark_dir

            root = spark_dir("warehouse") / "feature_store"
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.model_registry_uri = model_registry_uri
        self._spark = spark

    # -- names and storage
    @property
    def spark(self):
        if self._spark is None:
            from course.spark import get_spark

            self._spark = get_spark()
        return self._spark

    @staticmethod
    def use_schema(full_schema: str) -> None:
        """Local addition: the current catalog and schema that complete one-part names (on
        Databricks: ``USE CATALOG c`` then ``USE SCHEMA s``)."""
        parts = full_schema.split(".")
        if len(parts) != 2 or not all(_NAME_PART.match(p) for p in parts):
            raise ValueError(f"use_schema takes 'catalog.schema'; got {full_schema!r}")
        _CURRENT.update(catalog=parts[0].lower(), schema=parts[1].lower())

    @staticmethod
    def current_schema() -> str:
        return f"{_CURRENT['catalog']}.{_CURRENT['schema']}"

    @staticmethod
    def resolve_name(name: str) -> str:
        """The three-level name a table name stands for (one-part names use the current schema)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a feature table name is a string such as 'catalog.schema.table'; got {name!r}")
        parts = name.strip().split(".")
        if len(parts) == 2:
            raise ValueError(f"{name!r} is a two-part name (database.table), the form of the legacy workspace "
                             "Feature Store; Unity Catalog needs catalog.schema.table (or a one-part name, "
                             "completed from the current catalog and schema)")
        if len(parts) == 1:
            parts = [_CURRENT["catalog"], _CURRENT["schema"], parts[0]]
        if len(parts) != 3 or not all(_NAME_PART.match(p) for p in parts):
            raise ValueError(f"{name!r} is not a valid Unity Catalog table name (catalog.schema.table)")
        return ".".join(p.lower() for p in parts)

    def _dir(self, full_name: str) -> Path:
        return self.root.joinpath(*full_name.split("."))

    def _meta_path(self, full_name: str) -> Path:
        return self._dir(full_name) / "_feature_table.json"

    def _meta(self, name: str) -> dict:
        full = self.resolve_name(name)
        path = self._meta_path(full)
        if not path.exists():
            raise ValueError(f"feature table {full!r} does not exist")
        return json.loads(path.read_text())

    def _exists(self, full_name: str) -> bool:
        return self._meta_path(full_name).exists()

    def _schema(self, meta: dict):
        from pyspark.sql.types import StructType

        return StructType.fromJson(meta["schema"])

    def _read(self, meta: dict):
        return (self.spark.read.schema(self._schema(meta))
                .parquet(str(self._dir(meta["name"]) / meta["data"])))

    def _store(self, meta: dict, df) -> None:
        """Write ``df`` as the table's next version, then point the metadata at it."""
        folder = self._dir(meta["name"])
        version = meta.get("version", 0) + 1
        data = f"data-{version:05d}"
        df.coalesce(1).write.mode("overwrite").parquet(str(folder / data))
        old = meta.get("data")
        meta.update(version=version, data=data)
        partial = folder / f"_feature_table.{version}.partial"
        partial.write_text(json.dumps(meta, indent=1))
        partial.replace(self._meta_path(meta["name"]))
        if old and old != data:
            shutil.rmtree(folder / old, ignore_errors=True)

    @staticmethod
    def _table(meta: dict) -> FeatureTable:
        keys = set(meta["primary_keys"])
        return FeatureTable(name=meta["name"], primary_keys=list(meta["primary_keys"]),
                            timeseries_columns=list(meta["timeseries_columns"]),
                            partition_columns=list(meta["partition_columns"]),
                            features=[f["name"] for f in meta["schema"]["fields"] if f["name"] not in keys],
                            description=meta.get("description"), tags=dict(meta.get("tags") or {}),
                            creation_timestamp=meta.get("created", 0.0))

    # -- tables
    def create_table(self, name: str, primary_keys, df=None, *, timeseries_columns=None, timeseries_column=None,
                     partition_columns=None, schema=None, description: str | None = None,
                     tags: dict | None = None, timestamp_keys=None, **kwargs) -> FeatureTable:
        """Create a feature table and write ``df`` to it; on an existing table, return it and write nothing."""
        full = self.resolve_name(name)
        if self._exists(full):
            warnings.warn(f"feature table {full!r} already exists: create_table returns it and does not write df; "
                          "use write_table(name, df, mode='merge') to add or update rows", UserWarning, stacklevel=2)
            return self.get_table(full)
        if timestamp_keys is not None:
            warnings.warn("timestamp_keys is the workspace Feature Store's argument; Unity Catalog tables take "
                          "timeseries_columns", FutureWarning, stacklevel=2)
        keys = _as_list(primary_keys)
        series = _as_list(timeseries_columns) or _as_list(timeseries_column) or _as_list(timestamp_keys)
        if not keys:
            raise ValueError("create_table needs primary_keys: the column(s) that identify a row")
        if df is None and schema is None:
            raise ValueError("create_table needs df or schema to know the table's columns")
        table_schema = schema if schema is not None else df.schema
        if df is not None and schema is not None:
            self._check_schema(full, {f.name: f.dataType.simpleString() for f in table_schema.fields}, df)
        types = {f.name: f.dataType.simpleString() for f in table_schema.fields}
        missing = [k for k in [*keys, *series, *_as_list(partition_columns)] if k not in types]
        if missing:
            raise ValueError(f"{', '.join(map(repr, missing))} is not a column of the table's data")
        if len(series) > 1:
            raise ValueError("a feature table has at most one timeseries column")
        if series and series[0] not in keys:
            raise ValueError(f"the timeseries column {series[0]!r} must be one of the primary keys "
                             f"(primary_keys={keys + series!r})")
        if series and types[series[0]] not in _TIME_TYPES:
            raise ValueError(f"the timeseries column {series[0]!r} holds {types[series[0]]} values; it needs a "
                             "timestamp or date column")
        if len(types) == len(keys):
            raise ValueError("the table has no feature column: every column is a primary key")
        if df is not None:
            self._check_keys(df.select(*types), keys)
        meta = {"name": full, "primary_keys": keys, "timeseries_columns": series,
                "partition_columns": _as_list(partition_columns), "description": description,
                "tags": dict(tags or {}), "schema": json.loads(table_schema.json()),
                "created": _dt.datetime.now().timestamp(), "version": 0}
        self._dir(full).mkdir(parents=True, exist_ok=True)
        rows = df.select(*types) if df is not None else self.spark.createDataFrame([], table_schema)
        try:
            self._store(meta, rows)
        except Exception:
            shutil.rmtree(self._dir(full), ignore_errors=True)
            raise
        return self._table(meta)

    def _check_schema(self, full: str, types: dict, df) -> dict:
        """Raise on any difference between ``df``'s columns and the table's; return casts to apply."""
        given = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        missing, extra = [c for c in types if c not in given], [c for c in given if c not in types]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"the table's column(s) {', '.join(map(repr, missing))} are missing from df")
            if extra:
                parts.append(f"df has column(s) {', '.join(map(repr, extra))} that the table does not have")
            raise ValueError(f"schema mismatch writing to {full!r}: {'; '.join(parts)}. Nothing was written.")
        casts = {}
        for column, kind in types.items():
            if given[column] == kind:
                continue
            if (given[column], kind) in _WIDENINGS:
                casts[column] = kind
                continue
            raise ValueError(f"schema mismatch writing to {full!r}: column {column!r} holds {given[column]} values "
                             f"in df but {kind} in the table. Nothing was written.")
        return casts

    @staticmethod
    def _check_keys(df, keys: list) -> None:
        from pyspark.sql import functions as F

        counts = df.agg(F.count("*").alias("rows"),
                        F.count_distinct(F.struct(*keys)).alias("keys"),
                        F.sum(F.when(F.greatest(*[F.col(k).isNull() for k in keys]) if len(keys) > 1
                                     else F.col(keys[0]).isNull(), 1).otherwise(0)).alias("nulls")).first()
        if counts["nulls"]:
            raise ValueError(f"{counts['nulls']} row(s) have a null primary key ({', '.join(keys)}): "
                             "primary key columns cannot hold nulls")
        if counts["rows"] != counts["keys"]:
            raise ValueError(f"the primary key ({', '.join(keys)}) is not unique in df: {counts['rows']} rows, "
                             f"{counts['keys']} distinct keys")

    def write_table(self, name: str, df, mode: str = "merge", checkpoint_location=None, trigger=None) -> None:
        """Upsert ``df`` into the table by primary key (``mode="merge"``, the only mode)."""
        if mode != "merge":
            raise ValueError(f"mode={mode!r} is not supported: Feature Engineering in Unity Catalog writes with "
                             "mode='merge' (an upsert by primary key)")
        if getattr(df, "isStreaming", False) is True:
            raise NotImplementedError("streaming writes exist only on Databricks; this stand-in writes batches")
        from pyspark.sql import functions as F

        meta = self._meta(name)
        types = {f["name"]: self._schema(meta)[f["name"]].dataType.simpleString() for f in meta["schema"]["fields"]}
        casts = self._check_schema(meta["name"], types, df)
        rows = df.select(*[F.col(c).cast(casts[c]).alias(c) if c in casts else F.col(c) for c in types])
        keys = meta["primary_keys"]
        self._check_keys(rows, keys)
        kept = self._read(meta).join(rows.select(*keys), on=keys, how="left_anti")
        self._store(meta, kept.unionByName(rows))

    def read_table(self, name: str, **kwargs):
        """The table's rows as a Spark DataFrame."""
        return self._read(self._meta(name))

    def get_table(self, name: str) -> FeatureTable:
        return self._table(self._meta(name))

    def drop_table(self, name: str) -> None:
        """Delete the table and its data."""
        full = self.resolve_name(name)
        if not self._exists(full):
            raise ValueError(f"feature table {full!r} does not exist")
        shutil.rmtree(self._dir(full), ignore_errors=True)

    def drop_table_if_exists(self, name: str) -> None:
        """Local addition (on Databricks: ``DROP TABLE IF EXISTS name``)."""
        full = self.resolve_name(name)
        if self._exists(full):
            self.drop_table(full)

    def drop_schema(self, full_schema: str) -> None:
        """Local addition: delete every table of a schema (on Databricks: ``DROP SCHEMA s CASCADE``)."""
        parts = full_schema.lower().split(".")
        if len(parts) != 2 or not all(_NAME_PART.match(p) for p in parts):
            raise ValueError(f"drop_schema takes 'catalog.schema'; got {full_schema!r}")
        shutil.rmtree(self.root.joinpath(*parts), ignore_errors=True)

    # -- training sets
    def create_training_set(self, df, feature_lookups: list, label, exclude_columns: list | None = None,
                            **kwargs) -> TrainingSet:
        """Join the lookups' features to ``df`` (the labels and keys); checked here, computed by load_df()."""
        labels = _as_list(label)
        missing = [c for c in labels if c not in df.columns]
        if missing:
            raise ValueError(f"label {missing[0]!r} is not a column of df (its columns: {', '.join(df.columns)})")
        lookups = [self._lookup(df, lookup) for lookup in feature_lookups]
        seen = {c: "df" for c in df.columns}
        for lookup in lookups:
            for output in lookup["outputs"]:
                if output in seen:
                    raise ValueError(f"the training set would have two columns named {output!r} (from {seen[output]} "
                                     f"and from {lookup['table_name']}): drop it from one side or use rename_outputs")
                seen[output] = lookup["table_name"]
        return TrainingSet(self, df, lookups, label, _as_list(exclude_columns))

    def _lookup(self, df, lookup: FeatureLookup, allow_missing_keys: bool = False) -> dict:
        meta = self._meta(lookup.table_name)
        schema = self._schema(meta)
        series = meta["timeseries_columns"]
        keys = [k for k in meta["primary_keys"] if k not in series]
        if series and not lookup.timestamp_lookup_key:
            raise ValueError(f"{meta['name']} is a time series feature table: give the FeatureLookup a "
                             "timestamp_lookup_key (the time of each row of df), so that no feature from after "
                             "that time is joined")
        if lookup.timestamp_lookup_key and not series:
            raise ValueError(f"timestamp_lookup_key is for time series feature tables; {meta['name']} has no "
                             "timeseries column")
        if len(lookup.lookup_key) != len(keys):
            raise ValueError(f"lookup_key {lookup.lookup_key!r} does not match the primary key {keys!r} of "
                             f"{meta['name']}: give one df column per key column, in the same order")
        given = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        for column in [*lookup.lookup_key, *lookup.timestamp_lookup_key]:
            if column not in given and not allow_missing_keys:
                raise ValueError(f"lookup key {column!r} is not a column of df (its columns: {', '.join(df.columns)})")
        for column, key in zip(lookup.lookup_key, keys):
            if column in given and given[column] != schema[key].dataType.simpleString():
                raise ValueError(f"lookup key {column!r} holds {given[column]} values but the primary key {key!r} of "
                                 f"{meta['name']} holds {schema[key].dataType.simpleString()} values")
        if series and lookup.timestamp_lookup_key and lookup.timestamp_lookup_key[0] in given:
            kind = given[lookup.timestamp_lookup_key[0]]
            if kind not in _TIME_TYPES:
                raise ValueError(f"timestamp_lookup_key {lookup.timestamp_lookup_key[0]!r} holds {kind} values; it "
                                 "needs a timestamp or date column")
        table_features = [f.name for f in schema.fields if f.name not in meta["primary_keys"]]
        names = table_features if lookup.feature_names is None else lookup.feature_names
        unknown = [n for n in names if n not in schema.names]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} is not a column of {meta['name']}")
        outputs = [lookup.rename_outputs.get(n, n) for n in names]
        return {"table_name": meta["name"], "lookup_key": lookup.lookup_key, "primary_keys": keys,
                "timeseries_column": series[0] if series else None,
                "timestamp_lookup_key": lookup.timestamp_lookup_key[0] if lookup.timestamp_lookup_key else None,
                "lookback_seconds": lookup.lookback_window.total_seconds() if lookup.lookback_window else None,
                "feature_names": names, "outputs": outputs}

    def _join(self, df, lookups: list[dict], skip: set = frozenset()):
        """Left-join each lookup's features to ``df`` (point-in-time for time series tables)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        result = df
        for number, lookup in enumerate(lookups):
            pairs = [(n, o) for n, o in zip(lookup["feature_names"], lookup["outputs"]) if o not in skip]
            if not pairs:
                continue
            meta = self._meta(lookup["table_name"])
            temp = [f"__fs{number}_key{i}" for i in range(len(lookup["primary_keys"]))]
            selected = [F.col(k).alias(t) for k, t in zip(lookup["primary_keys"], temp)]
            condition = [F.col(c) == F.col(t) for c, t in zip(lookup["lookup_key"], temp)]
            if lookup["timeseries_column"]:
                stamp, row = f"__fs{number}_ts", f"__fs{number}_row"
                selected.append(F.col(lookup["timeseries_column"]).alias(stamp))
                condition.append(F.col(stamp) <= F.col(lookup["timestamp_lookup_key"]))
                if lookup["lookback_seconds"] is not None:
                    condition.append(F.col(stamp) >= F.col(lookup["timestamp_lookup_key"]).cast("timestamp")
                                     - F.expr(f"INTERVAL {int(lookup['lookback_seconds'])} SECONDS"))
            features = self._read(meta).select(*selected, *[F.col(n).alias(o) for n, o in pairs])
            if lookup["timeseries_column"]:
                numbered = result.withColumn(row, F.monotonically_increasing_id())
                joined = numbered.join(features, on=condition, how="left")
                order = Window.partitionBy(row).orderBy(F.col(stamp).desc_nulls_last())
                result = (joined.withColumn(f"{row}_rank", F.row_number().over(order))
                          .filter(F.col(f"{row}_rank") == 1).drop(row, f"{row}_rank", stamp, *temp))
            else:
                result = result.join(features, on=condition, how="left").drop(*temp)
        return result

    # -- models
    def log_model(self, model, artifact_path: str | None = None, *, flavor, training_set: TrainingSet,
                  registered_model_name: str | None = None, name: str | None = None,
                  await_registration_for: int = 300, infer_input_example: bool = False, **kwargs):
        """Log ``model`` as an MLflow pyfunc model packaged with the training set's feature lookups."""
        import mlflow
        import mlflow.pyfunc
        import yaml

        if not isinstance(training_set, TrainingSet):
            raise TypeError("log_model needs training_set=, the TrainingSet the model was trained on: it is what "
                            "lets score_batch look the features up")
        name = name or artifact_path
        if not name:
            raise TypeError("log_model needs artifact_path (or name): where the model goes in the run")
        requirements = [f"mlflow=={mlflow.__version__}"]
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "raw_model"
            defaults = getattr(flavor, "get_default_pip_requirements", lambda: [])()
            save_kwargs = {"pip_requirements": [*requirements, *defaults]}
            if "serialization_format" in inspect.signature(flavor.save_model).parameters:
                save_kwargs["serialization_format"] = "cloudpickle"   # MLflow 3's skops format refuses encoders' dtypes
            with _quiet_mlflow():
                flavor.save_model(model, str(raw), **save_kwargs)
            spec = Path(folder) / SPEC_FILE
            spec.write_text(yaml.safe_dump(training_set.feature_spec, sort_keys=False))
            with _quiet_mlflow():
                return mlflow.pyfunc.log_model(
                    name=name, python_model=FeatureStoreModel(),
                    artifacts={"raw_model": str(raw), "feature_spec": str(spec)},
                    pip_requirements=[*requirements, *defaults], registered_model_name=registered_model_name,
                    await_registration_for=await_registration_for, **kwargs)

    @staticmethod
    def _load(model_uri: str):
        import mlflow.pyfunc

        with _quiet_mlflow():
            loaded = mlflow.pyfunc.load_model(model_uri)
        try:
            inner = loaded.unwrap_python_model()
        except Exception:  # another flavor: no python model inside
            inner = None
        if not isinstance(inner, FeatureStoreModel):
            raise ValueError(f"{model_uri} was not logged with FeatureEngineeringClient.log_model(..., "
                             "training_set=...): it carries no feature lookups, so score_batch cannot look the "
                             "features up")
        return loaded, inner.feature_spec

    def score_batch(self, model_uri: str, df, result_type: str = "double", **kwargs):
        """Look up the model's features for ``df``'s keys, then add a ``prediction`` column."""
        if PREDICTION in df.columns:
            raise ValueError("df must not hold a column named 'prediction': score_batch adds it")
        model, spec = self._load(model_uri)
        lookups = spec["lookups"]
        given = set(df.columns)
        needed = {c for lookup in lookups for c in [*lookup["lookup_key"], *_as_list(lookup["timestamp_lookup_key"])]}
        missing = sorted(needed - given)
        if missing:
            raise ValueError(f"df lacks the lookup key column(s) {', '.join(map(repr, missing))}: score_batch looks "
                             "the features up by these keys")
        joined = self._join(df, lookups, skip=given)
        absent = [c for c in spec["input_columns"] if c not in joined.columns]
        if absent:
            raise ValueError(f"df lacks {', '.join(map(repr, absent))}, model input(s) that no feature table provides: "
                             "pass them in df")
        return _with_predictions(self.spark, joined, model, result_type)

    # -- online stores
    def create_online_store(self, name: str, capacity: str = "CU_1", **kwargs) -> OnlineStore:
        folder = self.root / "_online"
        folder.mkdir(parents=True, exist_ok=True)
        store = OnlineStore(name=name, capacity=capacity, path=folder / f"{name}.sqlite")
        sqlite3.connect(store.path).close()
        return store

    def get_online_store(self, name: str) -> OnlineStore | None:
        path = self.root / "_online" / f"{name}.sqlite"
        return OnlineStore(name=name, capacity="CU_1", path=path) if path.exists() else None

    def delete_online_store(self, name: str) -> None:
        (self.root / "_online" / f"{name}.sqlite").unlink(missing_ok=True)

    def publish_table(self, online_store: OnlineStore, source_table_name: str, online_table_name: str,
                      publish_mode: str = "TRIGGERED", **kwargs) -> PublishedTable:
        """Copy a feature table to the online store (the latest row of each key of a time series table)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        if publish_mode not in {"TRIGGERED", "CONTINUOUS", "SNAPSHOT"}:
            raise ValueError("publish_mode is one of 'TRIGGERED', 'CONTINUOUS', 'SNAPSHOT'")
        meta = self._meta(source_table_name)
        rows = self._read(meta)
        if meta["timeseries_columns"]:
            stamp = meta["timeseries_columns"][0]
            keys = [k for k in meta["primary_keys"] if k != stamp]
            latest = Window.partitionBy(*keys).orderBy(F.col(stamp).desc())
            rows = rows.withColumn("__rank", F.row_number().over(latest)).filter("__rank = 1").drop("__rank")
        frame = rows.toPandas()
        frame.attrs.clear()
        for column in frame.columns:
            if str(frame[column].dtype).startswith("datetime"):
                frame[column] = frame[column].astype(str)
        with online_store._connect() as connection:
            frame.to_sql(_online_table(online_table_name), connection, if_exists="replace", index=False)
        return PublishedTable(online_table_name, meta["name"], publish_mode, len(frame))


@contextlib.contextmanager
def _quiet_mlflow():
    """No artifact progress bars and no advice about pickling while the stand-in logs or loads."""
    import logging
    import os

    loggers = [logging.getLogger(n) for n in ("mlflow.pyfunc", "mlflow.sklearn", "mlflow.models")]
    levels, bar = [lg.level for lg in loggers], os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar


def _with_predictions(spark, joined, model, result_type: str):
    import pandas as pd
    from pyspark.sql.types import (BooleanType, DoubleType, FloatType, IntegerType, LongType, StringType,
                                   StructField, StructType)

    kinds = {"double": (DoubleType(), float), "float": (FloatType(), float), "int": (IntegerType(), int),
             "integer": (IntegerType(), int), "long": (LongType(), int), "bigint": (LongType(), int),
             "string": (StringType(), str), "boolean": (BooleanType(), bool)}
    if result_type not in kinds:
        raise ValueError(f"result_type {result_type!r} is not one of {', '.join(kinds)}")
    spark_type, convert = kinds[result_type]
    frame = joined.toPandas()
    frame.attrs.clear()
    for column in joined.schema.fields:   # integer columns with nulls came back as floats
        if column.dataType.typeName() in {"integer", "long", "short", "byte"} and frame[column.name].dtype.kind == "f":
            frame[column.name] = frame[column.name].astype("Int64")
    predictions = model.predict(frame) if len(frame) else []
    values = predictions.iloc[:, 0] if isinstance(predictions, pd.DataFrame) else predictions
    frame[PREDICTION] = [convert(v) for v in list(values)]
    schema = StructType([*joined.schema.fields, StructField(PREDICTION, spark_type, True)])
    return spark.createDataFrame(frame, schema=schema)
