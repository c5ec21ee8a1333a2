"""The local Feature Engineering stand-in (course.standins.feature_engineering) does what its
docstring says: merge semantics, point-in-time lookups, nulls for missing keys, refused schema
mismatches that write nothing, score_batch from keys alone, and a feature spec that travels with
the logged model. Small tables in a temporary folder, models in the course's test MLflow store.
"""
import datetime as dt

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from course import tracking
from course.standins.feature_engineering import FeatureEngineeringClient, FeatureLookup

TABLE = "unit.fs_tests.people"


@pytest.fixture
def fe(spark, tmp_path):
    client = FeatureEngineeringClient(root=tmp_path, spark=spark)
    client.use_schema("unit.fs_tests")
    return client


def _rows(df, key="id"):
    return {r[key]: r.asDict() for r in df.collect()}


def _people(spark, rows):
    return spark.createDataFrame(pd.DataFrame(rows, columns=["id", "age", "city"]))


def test_merge_upserts_by_primary_key_and_create_table_never_overwrites(fe, spark):
    fe.create_table(TABLE, primary_keys="id", df=_people(spark, [(1, 30, "A"), (2, 40, "B"), (3, 50, "C")]))
    fe.write_table(TABLE, _people(spark, [(2, 41, "B2"), (4, 60, "D")]), mode="merge")
    got = _rows(fe.read_table(TABLE))
    assert sorted(got) == [1, 2, 3, 4]
    assert got[2]["age"] == 41 and got[2]["city"] == "B2" and got[1]["age"] == 30
    with pytest.warns(UserWarning, match="already exists"):
        table = fe.create_table(TABLE, primary_keys="id", df=_people(spark, [(9, 1, "Z")]))
    assert table.primary_keys == ["id"] and table.features == ["age", "city"]
    assert sorted(_rows(fe.read_table("people"))) == [1, 2, 3, 4]       # one-part name, same table
    with pytest.raises(ValueError, match="mode='merge'"):
        fe.write_table(TABLE, _people(spark, [(5, 1, "E")]), mode="overwrite")


def test_names_two_part_rejected_and_keys_checked(fe, spark):
    with pytest.raises(ValueError, match="two-part name"):
        fe.create_table("fs_tests.people", primary_keys="id", df=_people(spark, [(1, 2, "A")]))
    with pytest.raises(ValueError, match="not unique"):
        fe.create_table(TABLE, primary_keys="city", df=_people(spark, [(1, 2, "A"), (2, 3, "A")]))
    assert fe.resolve_name("people") == TABLE


def test_schema_mismatch_is_refused_and_writes_nothing(fe, spark):
    fe.create_table(TABLE, primary_keys="id", df=_people(spark, [(1, 30, "A")]))
    before = _rows(fe.read_table(TABLE))
    extra = spark.createDataFrame(pd.DataFrame({"id": [1], "age": [31], "city": ["A"], "city_is_A": [1]}))
    with pytest.raises(ValueError, match="schema mismatch.*city_is_A.*Nothing was written"):
        fe.write_table(TABLE, extra)
    wrong_type = spark.createDataFrame(pd.DataFrame({"id": [1], "age": ["thirty"], "city": ["A"]}))
    with pytest.raises(ValueError, match="column 'age' holds string"):
        fe.write_table(TABLE, wrong_type)
    assert _rows(fe.read_table(TABLE)) == before


@pytest.fixture
def series(fe, spark):
    day = dt.datetime(2024, 1, 1)
    features = pd.DataFrame({"id": [1, 1, 1, 2], "ts": [day, day + dt.timedelta(days=10), day + dt.timedelta(days=20), day],
                             "score": [1.0, 2.0, 3.0, 7.0]})
    fe.create_table("unit.fs_tests.scores", primary_keys=["id", "ts"], timeseries_columns="ts",
                    df=spark.createDataFrame(features))
    labels = pd.DataFrame({"row": [1, 2, 3, 4, 5], "id": [1, 1, 1, 2, 3],
                           "at": [day + dt.timedelta(days=d) for d in (5, 10, 25, -1, 3)], "y": [0, 1, 0, 1, 0]})
    return spark.createDataFrame(labels)


def test_point_in_time_takes_the_latest_row_at_or_before_never_after(fe, series):
    lookup = FeatureLookup("unit.fs_tests.scores", lookup_key="id", timestamp_lookup_key="at")
    got = _rows(fe.create_training_set(series, [lookup], label="y").load_df(), "row")
    assert [got[r]["score"] for r in (1, 2, 3)] == [1.0, 2.0, 3.0]   # day 5 -> day 0, day 10 -> day 10, day 25 -> day 20
    assert got[4]["score"] is None    # before the first feature row of id 2
    assert got[5]["score"] is None    # id 3 has no feature rows at all
    with pytest.raises(ValueError, match="timestamp_lookup_key"):
        fe.create_training_set(series, [FeatureLookup("unit.fs_tests.scores", lookup_key="id")], label="y")


def test_missing_keys_give_nulls_and_lookup_key_types_must_match(fe, spark):
    fe.create_table(TABLE, primary_keys="id", df=_people(spark, [(1, 30, "A"), (2, 40, "B")]))
    labels = spark.createDataFrame(pd.DataFrame({"id": [1, 2, 5], "y": [1.0, 2.0, 3.0]}))
    got = _rows(fe.create_training_set(labels, [FeatureLookup(TABLE, "id")], label="y").load_df())
    assert got[5]["age"] is None and got[5]["city"] is None and got[1]["age"] == 30
    as_text = spark.createDataFrame(pd.DataFrame({"id": ["1"], "y": [1.0]}))
    with pytest.raises(ValueError, match="holds string values"):
        fe.create_training_set(as_text, [FeatureLookup(TABLE, "id")], label="y")
    clash = spark.createDataFrame(pd.DataFrame({"id": [1], "age": [3], "y": [1.0]}))
    with pytest.raises(ValueError, match="two columns named 'age'"):
        fe.create_training_set(clash, [FeatureLookup(TABLE, "id")], label="y")


def test_score_batch_with_keys_only_equals_scoring_the_joined_features(fe, spark):
    tracking.start_tracking("unit-feature-engineering")
    people = pd.DataFrame({"id": range(1, 41), "age": [20 + i % 17 for i in range(40)], "city": ["A"] * 40})
    fe.create_table(TABLE, primary_keys="id", df=spark.createDataFrame(people))
    labels = spark.createDataFrame(pd.DataFrame({"id": range(1, 41), "boost": [i % 3 for i in range(40)],
                                                 "y": [2.0 * (20 + i % 17) + i % 3 for i in range(40)]}))
    training_set = fe.create_training_set(labels, [FeatureLookup(TABLE, "id", feature_names=["age"])],
                                          label="y", exclude_columns=["id"])
    train = training_set.load_df().toPandas()
    model = LinearRegression().fit(train[["boost", "age"]], train["y"])
    with mlflow.start_run():
        info = fe.log_model(model, artifact_path="model", flavor=mlflow.sklearn, training_set=training_set)
    spec = fe._load(info.model_uri)[1]        # the lookups travelled with the model
    assert spec["lookups"][0]["table_name"] == TABLE and spec["lookups"][0]["lookup_key"] == ["id"]
    assert spec["input_columns"] == ["boost", "age"] and spec["label"] == "y"
    keys = spark.createDataFrame(pd.DataFrame({"id": [3, 7], "boost": [1, 2]}))
    scored = _rows(fe.score_batch(info.model_uri, keys))
    expected = model.predict(keys.toPandas().merge(people, on="id")[["boost", "age"]])
    assert [scored[3]["prediction"], scored[7]["prediction"]] == pytest.approx(list(expected))
    assert scored[3]["age"] == people.loc[2, "age"]
    stale = keys.withColumn("age", keys["boost"] * 0 + 99)      # a feature column given in df is used as given
    assert _rows(fe.score_batch(info.model_uri, stale))[3]["prediction"] == pytest.approx(
        model.predict(pd.DataFrame({"boost": [1], "age": [99]}))[0])
    with pytest.raises(ValueError, match="lookup key"):
        fe.score_batch(info.model_uri, keys.drop("id"))
    plain = mlflow.sklearn.log_model(model, name="plain")
    with pytest.raises(ValueError, match="carries no feature lookups"):
        fe.score_batch(plain.model_uri, keys)


def test_publish_keeps_the_latest_row_per_key_for_lookups(fe, series):
    store = fe.create_online_store("unit-store")
    published = fe.publish_table(online_store=store, source_table_name="unit.fs_tests.scores",
                                 online_table_name="unit.fs_tests.scores_online")
    assert published.rows == 2
    assert store.lookup("unit.fs_tests.scores_online", {"id": 1})["score"] == 3.0
    assert store.lookup("unit.fs_tests.scores_online", {"id": 3}) is None
    assert list(store.lookup("unit.fs_tests.scores_online", [{"id": 2}, {"id": 3}])["score"].fillna(-1)) == [7.0, -1]
