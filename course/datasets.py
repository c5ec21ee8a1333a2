"""Every dataset of the course, offline: shipped by a package or made by a seeded generator.

=============  ======================================================  ==============
name           what it is                                              task
=============  ======================================================  ==============
penguins       Palmer penguins (palmerpenguins package), real data      classification
diabetes       scikit-learn's bundled diabetes progression, real data   regression
breast_cancer  scikit-learn's bundled Wisconsin breast cancer, real     classification
listings       SYNTHETIC Airbnb-style listings, right-skewed price     regression
churn          SYNTHETIC telecom customers, about 1 in 10 churn         classification
=============  ======================================================  ==============

``load(name)`` returns a pandas DataFrame, ``load_spark(name, spark)`` a Spark DataFrame. Both
read a parquet copy cached in the course data folder; the cache is written once per version.
The generators are deterministic: the same seed gives the same rows on every machine.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from course import paths

DEFAULT_SEED = 42


@dataclass(frozen=True)
class Dataset:
    name: str
    version: int
    task: str
    label: str
    synthetic: bool
    description: str
    make: Callable[[int], pd.DataFrame]


def _penguins(seed: int) -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


def _diabetes(seed: int) -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def _breast_cancer(seed: int) -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


NEIGHBOURHOODS = {  # name -> price multiplier
    "Mission": 1.15, "SoMa": 1.25, "Nob Hill": 1.35, "Sunset": 0.85, "Richmond": 0.9,
    "Castro": 1.1, "Marina": 1.4, "Excelsior": 0.7, "Bayview": 0.65, "Noe Valley": 1.2,
}
ROOM_TYPES = {"Entire home/apt": 1.0, "Private room": 0.45, "Shared room": 0.25, "Hotel room": 0.8}
PROPERTY_TYPES = ["Apartment", "House", "Condominium", "Guest suite", "Loft"]


def make_listings(seed: int = DEFAULT_SEED, n: int = 5000) -> pd.DataFrame:
    """SYNTHETIC short-term rental listings for regression on ``price`` (US dollars a night).

    Price is log-normal around a value driven by room type, neighbourhood, size and reviews, so
    it is right-skewed; a few listings carry data-entry outliers (prices in the thousands);
    ``bedrooms``, ``bathrooms`` and ``review_score`` have missing values; ``neighbourhood``,
    ``room_type`` and ``property_type`` are strings that need indexing before a model sees them.
    """
    rng = np.random.default_rng(seed)
    hood = rng.choice(list(NEIGHBOURHOODS), size=n)
    room = rng.choice(list(ROOM_TYPES), size=n, p=[0.58, 0.35, 0.04, 0.03])
    accommodates = np.clip(rng.poisson(2.2, n) + 1, 1, 16)
    accommodates = np.where(room == "Shared room", 1, accommodates)
    bedrooms = np.clip(np.round(accommodates / 2 + rng.normal(0, 0.5, n)), 0, 8)
    bathrooms = np.clip(np.round((bedrooms + 1) / 2 + rng.normal(0, 0.3, n), 1) // 0.5 * 0.5, 0.5, 6)
    reviews = rng.negative_binomial(1, 0.03, n)
    score = np.clip(rng.normal(4.7, 0.25, n), 1, 5).round(2)
    superhost = rng.random(n) < 0.3
    min_nights = rng.choice([1, 2, 3, 7, 30], size=n, p=[0.35, 0.3, 0.2, 0.1, 0.05])
    log_price = (np.log(60) + 0.22 * accommodates ** 0.8 + 0.12 * bedrooms
                 + np.log([NEIGHBOURHOODS[h] for h in hood]) + np.log([ROOM_TYPES[r] for r in room])
                 + 0.3 * (score - 4.7) + 0.05 * superhost - 0.08 * (min_nights >= 30)
                 + rng.normal(0, 0.28, n))
    price = np.round(np.exp(log_price))
    outliers = rng.choice(n, size=max(1, n // 250), replace=False)
    price[outliers] = np.round(price[outliers] * rng.uniform(8, 25, outliers.size))
    frame = pd.DataFrame({
        "listing_id": np.arange(1, n + 1),
        "neighbourhood": hood,
        "room_type": room,
        "property_type": rng.choice(PROPERTY_TYPES, size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
        "accommodates": accommodates.astype("int64"),
        "bedrooms": bedrooms.astype("float64"),
        "bathrooms": bathrooms.astype("float64"),
        "minimum_nights": min_nights.astype("int64"),
        "number_of_reviews": reviews.astype("int64"),
        "review_score": np.where(reviews == 0, np.nan, score),
        "host_is_superhost": superhost,
        "price": price.astype("float64"),
    })
    for column, share in (("bedrooms", 0.04), ("bathrooms", 0.02)):
        frame.loc[rng.random(n) < share, column] = np.nan
    return frame


def make_churn(seed: int = DEFAULT_SEED, n: int = 6000) -> pd.DataFrame:
    """SYNTHETIC telecom customers for classification on ``churn`` (1 = left), imbalanced.

    Month-to-month contracts, many support calls, high charges and short tenure raise the odds
    of churning; roughly one customer in ten churns, so accuracy alone flatters a model that
    always predicts "stays".
    """
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], size=n, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["Fiber optic", "DSL", "None"], size=n, p=[0.45, 0.4, 0.15])
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], size=n)
    tenure = np.clip(rng.exponential(24, n).round(), 1, 72).astype("int64")
    monthly = np.round(20 + 45 * (internet == "Fiber optic") + 25 * (internet == "DSL")
                       + rng.normal(15, 10, n).clip(0), 2)
    calls = rng.poisson(1.2, n)
    logit = (-3.4 + 1.5 * (contract == "Month-to-month") - 0.8 * (contract == "Two year")
             + 0.35 * calls - 0.03 * tenure + 0.015 * (monthly - 60)
             + 0.4 * (payment == "Electronic check") + rng.normal(0, 0.3, n))
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int64")
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(1, n + 1)],
        "contract": contract,
        "internet_service": internet,
        "payment_method": payment,
        "tenure_months": tenure,
        "monthly_charges": monthly,
        "total_charges": np.round(monthly * tenure * rng.uniform(0.95, 1.05, n), 2),
        "support_calls": calls.astype("int64"),
        "senior_citizen": (rng.random(n) < 0.16).astype("int64"),
        "churn": churn,
    })
    frame.loc[rng.random(n) < 0.01, "total_charges"] = np.nan
    return frame


DATASETS = {d.name: d for d in (
    Dataset("penguins", 1, "classification", "species", False,
            "Palmer penguins: 344 birds, 3 species, categorical columns and missing values", _penguins),
    Dataset("diabetes", 1, "regression", "target", False,
            "scikit-learn diabetes: 442 patients, 10 standardised features", _diabetes),
    Dataset("breast_cancer", 1, "classification", "target", False,
            "scikit-learn breast cancer (Wisconsin): 569 tumours, 30 features", _breast_cancer),
    Dataset("listings", 1, "regression", "price", True,
            "SYNTHETIC rental listings: skewed price, outliers, missing values", make_listings),
    Dataset("churn", 1, "classification", "churn", True,
            "SYNTHETIC telecom churn: about 1 in 10 positive", make_churn),
)}


def info(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"no dataset {name!r}; the course has: {', '.join(DATASETS)}") from None


def parquet_path(name: str, seed: int = DEFAULT_SEED):
    spec = info(name)
    suffix = f"-seed{seed}" if spec.synthetic else ""
    return paths.sub_dir("datasets") / f"{name}-v{spec.version}{suffix}.parquet"


def cache(name: str, seed: int = DEFAULT_SEED):
    """Write the dataset's parquet copy once (atomically) and return its path."""
    target = parquet_path(name, seed)
    if not target.exists():
        frame = info(name).make(seed)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        frame.to_parquet(partial, index=False)
        partial.replace(target)
    return target


def load(name: str, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The dataset as a pandas DataFrame."""
    return pd.read_parquet(cache(name, seed))


def load_spark(name: str, spark=None, seed: int = DEFAULT_SEED):
    """The dataset as a Spark DataFrame (read from the parquet cache, so Spark infers no types).

    On Databricks a path without a scheme means DBFS, not the driver's disk where the cache is:
    there the DataFrame is built from the pandas one instead."""
    from course.spark import get_spark, on_databricks

    if spark is None:
        spark = get_spark()
    if on_databricks():
        return spark.createDataFrame(load(name, seed))
    return spark.read.parquet(str(cache(name, seed)))
