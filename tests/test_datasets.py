import socket

import numpy as np
import pandas as pd
import pytest

from course import datasets


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_every_dataset_loads_offline_and_has_its_label(name, no_network):
    frame = datasets.load(name)
    assert len(frame) > 100
    assert datasets.info(name).label in frame.columns
    assert datasets.parquet_path(name).exists()


@pytest.mark.parametrize("make", [datasets.make_listings, datasets.make_churn])
def test_generators_are_deterministic(make):
    pd.testing.assert_frame_equal(make(7), make(7))
    assert not make(7).equals(make(8))


def test_listings_has_what_the_regression_lessons_need():
    frame = datasets.make_listings()
    price = frame["price"]
    assert price.skew() > 2, "price should be right-skewed"
    q1, q3 = price.quantile([0.25, 0.75])
    assert (price > q3 + 3 * (q3 - q1)).sum() >= 10, "expected some extreme outliers"
    for column in ("bedrooms", "bathrooms", "review_score"):
        assert frame[column].isna().mean() > 0.01, column
    assert {"neighbourhood", "room_type", "property_type"} <= set(frame.select_dtypes("object"))
    assert np.log(price).skew() < 1, "log price should be roughly symmetric"


def test_churn_is_imbalanced_and_learnable():
    frame = datasets.make_churn()
    rate = frame["churn"].mean()
    assert 0.05 < rate < 0.2
    month_to_month = frame.loc[frame.contract == "Month-to-month", "churn"].mean()
    two_year = frame.loc[frame.contract == "Two year", "churn"].mean()
    assert month_to_month > 2 * two_year


def test_cache_is_reused_not_rewritten():
    path = datasets.cache("churn")
    stamp = path.stat().st_mtime_ns
    datasets.load("churn")
    assert path.stat().st_mtime_ns == stamp


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="listings"):
        datasets.load("airbnb")


@pytest.mark.spark
def test_spark_dataframe_matches_pandas(spark):
    sdf = datasets.load_spark("penguins", spark)
    pdf = datasets.load("penguins")
    assert sdf.count() == len(pdf)
    assert dict(sdf.dtypes)["species"] == "string"
    assert sdf.filter("sex IS NULL").count() == pdf["sex"].isna().sum()


@pytest.mark.spark
def test_on_databricks_the_dataframe_is_built_from_pandas_not_a_driver_path(spark, monkeypatch):
    # A path without a scheme means DBFS there; the parquet cache is on the driver's disk.
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    sdf = datasets.load_spark("penguins", spark)
    assert sdf.inputFiles() == []                      # Spark reads no file: the rows come from pandas
    assert sdf.count() == len(datasets.load("penguins"))
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION")
    assert datasets.load_spark("penguins", spark).inputFiles()   # locally: the parquet cache
