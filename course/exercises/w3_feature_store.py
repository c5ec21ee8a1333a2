"""Exercises of week 3, lesson 2: the feature store (Feature Engineering in Unity Catalog), locally.

The lesson's demos build a customer feature table from `churn`, train and score a churn model
through ``course.standins.feature_engineering`` and look features up point-in-time in a weekly
activity table. The exercises move the ideas to rental listings: a colleague's broken feature
table code (an encoded column, ``create_table`` used for an update), a point-in-time training
set for bookings, a batch of price quotes scored from keys, offline/online scenarios and what a
team gains by moving its feature tables from the legacy workspace store to Unity Catalog. The
tables the exercises read are built here from ``course.datasets`` with seeded generators, so every
judge recomputes the truth without the lesson's variables (``quote_model_uri`` is read from the
lesson, as ``context``) and names the mistake in one sentence; the answers each judge was written
against are in ``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course.checks import CheckFailed, Exercise, expect, expect_choice, expect_spark_dataframe, expect_type

LESSON = "02-feature-store"
SCHEMA = "course.feature_store_lesson"
LISTING_TABLE = f"{SCHEMA}.listing_features"
OCCUPANCY_TABLE = f"{SCHEMA}.listing_occupancy"
LATEST_TABLE = f"{SCHEMA}.listing_occupancy_latest"
PROFILE_TABLE = f"{SCHEMA}.listing_profile"
LISTING_COLUMNS = ["listing_id", "neighbourhood", "room_type", "accommodates", "review_score"]
PROFILE_COLUMNS = ["listing_id", "neighbourhood", "room_type", "accommodates", "bedrooms"]
OCCUPANCY_FEATURES = ["occupancy_30d", "price_30d"]
SCENARIOS = {  # letter -> (the store, why the other one is wrong)
    "A": ("offline", "a nightly batch over millions of rows reads the Delta tables (score_batch), latency is no concern"),
    "B": ("online", "a 30 ms budget per request needs key lookups in an online store, not a Spark read"),
    "C": ("offline", "point-in-time training sets join the history of the offline time series table"),
    "D": ("online", "the endpoint receives only the key and looks the features up at request time"),
    "E": ("offline", "history, SQL and joins with other tables are what the offline Delta tables are for"),
    "F": ("online", "a Feature Serving endpoint reads the published online copy of the table"),
}
STORES = ("offline", "online")
UC_STATEMENTS = tuple(range(1, 9))   # the numbered statements of Exercise 4, part 2
UC_TRUE = {1, 3, 4, 6}
UC_WHY_WRONG = {   # a false statement that was picked, and why it is false
    2: "a Unity Catalog table belongs to the account's metastore: every workspace attached to it reads the "
       "same table, without copies or sync jobs",
    5: "any Delta table in Unity Catalog with a primary key constraint is a feature table: adding the constraint "
       "is enough, no copy and no separate registration",
    7: "`database.table` in the workspace's `hive_metastore` is the legacy workspace store's form; Unity Catalog "
       "names have three levels",
    8: "shared is not public: a user still needs Unity Catalog privileges on the table (and its catalog and "
       "schema) to read it",
}
UC_WHY_MISSING = {   # a true statement that was left out, described without its number
    1: "a true statement about using one table from several workspaces is missing",
    3: "a true statement about who decides which users may read a feature table is missing",
    4: "a true statement about tracing which models, notebooks, jobs and endpoints use a feature is missing",
    6: "a true statement about finding the feature tables other teams made is missing",
}


# --- the exercises' data: course.datasets plus seeded generators ------------------------------------

def listing_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(snapshot, updates) for Exercise 1: 300 listings, then a week of changes and 30 new listings."""
    from course import datasets

    listings = datasets.load("listings")
    snapshot = listings.loc[listings["listing_id"] <= 300, LISTING_COLUMNS].reset_index(drop=True)
    rng = np.random.default_rng(7)
    changed = sorted(rng.choice(np.arange(1, 301), size=25, replace=False).tolist())
    updates = snapshot.set_index("listing_id").loc[changed].reset_index()
    updates["review_score"] = (updates["review_score"].fillna(4.6) - 0.15).round(2)
    updates["accommodates"] = updates["accommodates"] + 1
    whole = updates["room_type"] == "Entire home/apt"
    updates.loc[whole[whole].index[:5], "room_type"] = "Private room"     # five listings change room type
    new = listings.loc[listings["listing_id"].between(301, 330), LISTING_COLUMNS]
    return snapshot, pd.concat([updates, new], ignore_index=True)


def listing_truth() -> pd.DataFrame:
    """The table after the snapshot and an upsert of the updates, sorted by listing_id."""
    snapshot, updates = listing_frames()
    kept = snapshot[~snapshot["listing_id"].isin(updates["listing_id"])]
    return pd.concat([kept, updates]).sort_values("listing_id").reset_index(drop=True)


def occupancy_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekly occupancy snapshots of 60 listings, 400 bookings) for Exercise 2."""
    rng = np.random.default_rng(11)
    ids = np.arange(1, 61)
    weeks = pd.date_range("2024-01-01", periods=16, freq="7D")
    base = rng.uniform(0.3, 0.9, ids.size)
    rows = []
    for i, listing in enumerate(ids):
        level = base[i]
        for week in weeks:
            level = float(np.clip(level + rng.normal(0, 0.08), 0.05, 0.99))
            rows.append((int(listing), week, round(level, 3), round(80 + 120 * level + rng.normal(0, 6), 2)))
    occupancy = pd.DataFrame(rows, columns=["listing_id", "as_of", *OCCUPANCY_FEATURES])
    n = 400
    booked = pd.Timestamp("2024-01-03") + pd.to_timedelta(rng.uniform(0, 95, n), unit="D")
    booked = booked.round("h")
    listing = rng.choice(ids, size=n)
    bookings = pd.DataFrame({
        "booking_id": np.arange(1, n + 1), "listing_id": listing, "host_id": (listing % 17) + 1,
        "booked_at": booked, "checkin_at": booked + pd.to_timedelta(rng.integers(10, 40, n), unit="D"),
        "cancelled": (rng.random(n) < 0.25).astype("int64")})
    return occupancy, bookings


def _as_of(bookings: pd.DataFrame, occupancy: pd.DataFrame, when: str, key: str = "listing_id",
           latest: bool = False) -> pd.DataFrame:
    """booking_id -> the features of the latest snapshot at or before ``when`` (by ``key``)."""
    features = occupancy.rename(columns={"listing_id": key})
    if latest:
        last = features.sort_values("as_of").groupby(key).tail(1).drop(columns="as_of")
        return bookings[["booking_id", key]].merge(last, on=key, how="left").set_index("booking_id")[OCCUPANCY_FEATURES]
    left = bookings[["booking_id", key, when]].sort_values(when)
    joined = pd.merge_asof(left, features.sort_values("as_of"), left_on=when, right_on="as_of", by=key,
                           direction="backward", allow_exact_matches=True)
    return joined.set_index("booking_id")[OCCUPANCY_FEATURES].sort_index()


def booking_truth(when: str = "booked_at", key: str = "listing_id", latest: bool = False) -> pd.DataFrame:
    occupancy, bookings = occupancy_frames()
    truth = _as_of(bookings, occupancy, when, key, latest)
    return truth.join(bookings.set_index("booking_id")[["cancelled"]])


def profile_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(listing profile, training labels, quote requests) for Exercise 3."""
    from course import datasets

    listings = datasets.load("listings")
    listings = listings[listings["listing_id"] <= 800].reset_index(drop=True)
    profile = listings[PROFILE_COLUMNS].copy()
    rng = np.random.default_rng(23)
    lead = rng.integers(0, 61, len(listings))
    labels = pd.DataFrame({"listing_id": listings["listing_id"], "lead_days": lead,
                           "price": np.round(listings["price"].clip(upper=1000) * (1 + 0.004 * lead), 2)})
    n = 60
    picked = rng.choice(listings["listing_id"], size=n, replace=False)
    stale = profile.set_index("listing_id").loc[picked].reset_index()
    requests = pd.DataFrame({"request_id": np.arange(1, n + 1), "listing_id": picked,
                             "lead_days": rng.integers(0, 61, n),
                             "room_type": rng.choice(sorted(profile["room_type"].unique()), size=n),   # an old export
                             "accommodates": stale["accommodates"] + 3})
    return profile, labels, requests


def quote_truth(model_uri: str, stale: tuple[str, ...] = ()) -> pd.Series:
    """request_id -> the price the logged model gives with the table's features (or ``stale`` request columns)."""
    from course.standins.feature_engineering import FeatureEngineeringClient

    profile, _, requests = profile_frames()
    rows = requests[["request_id", "listing_id", "lead_days", *stale]].merge(
        profile.drop(columns=list(stale)), on="listing_id", how="left")
    model = FeatureEngineeringClient._load(model_uri)[0]
    return pd.Series(np.asarray(model.predict(rows), dtype=float), index=rows["request_id"]).sort_index()


# --- shared helpers ---------------------------------------------------------------------------------

def _spark():
    from course.spark import get_spark

    return get_spark()


def _client():
    from course.standins.feature_engineering import FeatureEngineeringClient

    return FeatureEngineeringClient(spark=_spark())


def _close(a, b, tolerance: float = 1e-6) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= tolerance * max(1.0, abs(float(b)))


def _same_frame(got: pd.DataFrame, want: pd.DataFrame, columns) -> bool:
    return all(_close(g, w) for column in columns for g, w in zip(got[column].tolist(), want[column].tolist()))


# --- Exercise 1: fix a colleague's feature table --------------------------------------------------

def form_listing_table(listing_table) -> None:
    from course.standins.feature_engineering import FeatureTable

    expect_type(listing_table, FeatureTable, "`listing_table` (what `fe.get_table(...)` returns)")


def judge_listing_table(listing_table) -> None:
    from course.standins.feature_engineering import FeatureEngineeringClient

    expect(FeatureEngineeringClient.resolve_name(listing_table.name) == LISTING_TABLE,
           f"`listing_table` describes `{listing_table.name}`; the exercise's table is `{LISTING_TABLE}`")
    client = _client()
    try:
        table = client.get_table(LISTING_TABLE)
    except ValueError:
        raise CheckFailed(f"there is no table `{LISTING_TABLE}` any more: run your cell again") from None
    columns = [c for c in client.read_table(LISTING_TABLE).columns]
    encoded = [c for c in columns if c not in LISTING_COLUMNS]
    expect(not encoded and "room_type" in columns,
           "the table stores one-hot encoded room types: store the raw `room_type` and let each model's pipeline "
           "encode it (a linear model and a tree model need different encodings)")
    expect(sorted(columns) == sorted(LISTING_COLUMNS), "the table's columns are not the snapshot's five columns")
    expect(table.primary_keys == ["listing_id"],
           f"the primary key is {table.primary_keys}: a listing is identified by `listing_id` alone, so a listing "
           "whose room type changed must replace its old row, not sit next to it")
    got = client.read_table(LISTING_TABLE).toPandas().sort_values("listing_id").reset_index(drop=True)
    truth = listing_truth()
    snapshot, updates = listing_frames()
    new_ids = set(updates["listing_id"]) - set(snapshot["listing_id"])
    expect(new_ids <= set(got["listing_id"]),
           "the 30 new listings of `listing_updates` are not in the table: `create_table` on a table that exists "
           "returns it and writes nothing, so the week's updates were never written")
    expect(len(got) == len(truth) and got["listing_id"].tolist() == truth["listing_id"].tolist(),
           "the table does not hold one row per listing of the snapshot and the updates")
    changed = updates["listing_id"][~updates["listing_id"].isin(new_ids)]
    old = snapshot.set_index("listing_id").loc[changed].reset_index()
    mine = got.set_index("listing_id").loc[changed].reset_index()
    expect(not _same_frame(mine, old, ["review_score", "accommodates"]),
           "the changed listings hold their old snapshot values: the snapshot was written after the updates and "
           "overwrote them")
    expect(_same_frame(got, truth, LISTING_COLUMNS[1:]),
           "some rows differ from the snapshot upserted with the week's updates")


# --- Exercise 2: a point-in-time training set -----------------------------------------------------------

def form_booking_set(booking_set) -> None:
    from course.standins.feature_engineering import TrainingSet

    expect_type(booking_set, TrainingSet, "`booking_set` (what `fe.create_training_set(...)` returns)")


def judge_booking_set(booking_set) -> None:
    frame = booking_set.load_df().toPandas()
    expect("booking_id" in frame.columns, "keep `booking_id` in the training set (do not exclude it): the "
                                          "check matches the rows by it")
    expect("cancelled" in frame.columns, "the label `cancelled` is not in the training set")
    missing = [c for c in OCCUPANCY_FEATURES if c not in frame.columns]
    expect(not missing, f"the training set has no column `{missing[0] if missing else ''}`: look up both features "
                        "under their own names")
    expect(len(frame) == 400 and frame["booking_id"].nunique() == 400,
           "the training set should hold the 400 bookings once each")
    got = frame.set_index("booking_id").sort_index()

    def matches(truth) -> bool:
        return _same_frame(got, truth, OCCUPANCY_FEATURES)

    if matches(booking_truth()):
        expect(_same_frame(got, booking_truth(), ["cancelled"]), "the `cancelled` labels are not the bookings' own")
        return
    expect(not matches(booking_truth("checkin_at")),
           "the features were looked up as of `checkin_at`, weeks after each booking was made: at booking time "
           "those values did not exist yet (leakage); look up as of the moment of the prediction")
    expect(not matches(booking_truth(latest=True)),
           "every booking got the latest values of its listing, whatever its date (leakage): look features up "
           "point-in-time in the time series table")
    expect(not matches(booking_truth(key="host_id")),
           "the features were looked up by `host_id`: the table's primary key is a listing id, so the lookup key "
           "must be `listing_id`")
    raise CheckFailed("the features are not those of each booking's listing as of its `booked_at` time")


# --- Exercise 3: score quotes from keys -------------------------------------------------------------

def form_quotes(quotes, quote_model_uri=None) -> None:
    expect_spark_dataframe(quotes, "`quotes` (what `fe.score_batch(...)` returns)")
    missing = [c for c in ("request_id", "prediction") if c not in quotes.columns]
    expect(not missing, f"`quotes` has no column `{missing[0] if missing else ''}`")


def judge_quotes(quotes, quote_model_uri) -> None:
    got = quotes.select("request_id", "prediction").toPandas().set_index("request_id")["prediction"].sort_index()
    truth = quote_truth(quote_model_uri)
    expect(len(got) == len(truth) and list(got.index) == list(truth.index),
           "`quotes` should hold one prediction per request of `quote_requests`")
    if all(_close(g, t) for g, t in zip(got.tolist(), truth.tolist())):
        return
    stale = [quote_truth(quote_model_uri, s) for s in (("room_type", "accommodates"), ("room_type",), ("accommodates",))]
    expect(not any(all(_close(g, t) for g, t in zip(got.tolist(), s.tolist())) for s in stale),
           "the model scored the old copies of feature columns that `quote_requests` carries: a feature column "
           "in the scored DataFrame is used as given, so pass only the keys and the request-time inputs")
    raise CheckFailed("the predictions are not what the logged model gives with the feature table's values")


# --- Exercise 4: offline or online, and what Unity Catalog brings -------------------------------

def _normal(value) -> str:
    return str(value).strip().lower()


def _statement(item) -> int | None:
    text = str(item).strip()
    return int(text) if text.isdigit() else None


def form_store_choice(store_choice, uc_true) -> None:
    expect_type(store_choice, dict, "`store_choice`")
    keys = {str(k).strip().upper() for k in store_choice}
    missing = sorted(set(SCENARIOS) - keys)
    expect(not missing, f"`store_choice` has no answer for scenario {', '.join(missing)}")
    extra = sorted(keys - set(SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to F)")
    for key, value in store_choice.items():
        expect(_normal(value) in STORES, f"`{value}` (scenario {key}) is neither \"offline\" nor \"online\"")
    expect_type(uc_true, (set, frozenset, list, tuple), "`uc_true` (a set of statement numbers)")
    unknown = [item for item in uc_true if _statement(item) not in UC_STATEMENTS]
    expect(not unknown, f"`{unknown[0] if unknown else ''}` in `uc_true` is not the number of a statement (1 to 8)")
    expect(len(uc_true) > 0, "`uc_true` is empty: some of the statements are true")


def judge_store_choice(store_choice, uc_true) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in store_choice.items()}
    wrong = [k for k in sorted(SCENARIOS) if given[k] != SCENARIOS[k][0]]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        raise CheckFailed(f"scenario {wrong[0]}: not the {given[wrong[0]]} store; {SCENARIOS[wrong[0]][1]}{more}")
    expect_choice({_statement(item) for item in uc_true}, UC_TRUE, UC_WHY_WRONG, UC_WHY_MISSING, "`uc_true`")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: fix a colleague's feature table",
    syllabus=("S1.06", "S1.07", "D2.feature-store-keys", "D2.encode-in-pipeline"), names=("listing_table",),
    form=form_listing_table, judge=judge_listing_table,
    hints=("Two things are wrong: what the table stores for the room type, and which call adds the week's rows "
           "to a table that already exists.",
           "Keep `room_type` as a string column (the models encode it); `create_table` once, then "
           "`write_table(name=..., df=..., mode=\"merge\")` upserts by the primary key.",
           "`fe.create_table(name=__, primary_keys=__, df=__)`, then `fe.write_table(name=__, df=__, mode=__)`, "
           "then `listing_table = fe.get_table(__)`"),
    solution_code=('fe.create_table(name="course.feature_store_lesson.listing_features", primary_keys=["listing_id"],\n'
                   '                df=listing_snapshot, description="Listing attributes, one row per listing")\n'
                   'fe.write_table(name="course.feature_store_lesson.listing_features", df=listing_updates, mode="merge")\n'
                   'listing_table = fe.get_table("course.feature_store_lesson.listing_features")'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: a point-in-time training set for bookings",
    syllabus=("S1.08", "D2.feature-store-keys", "D2.leakage"), names=("booking_set",),
    form=form_booking_set, judge=judge_booking_set,
    hints=("A booking is predicted when it is made: each booking may only see the occupancy snapshot that "
           "existed at that moment, and the features belong to the booked listing.",
           "`FeatureLookup(table_name=..., lookup_key=..., timestamp_lookup_key=...)` on the time series table, "
           "then `fe.create_training_set(df=..., feature_lookups=[...], label=...)`.",
           "`fe.create_training_set(df=__, feature_lookups=[FeatureLookup(table_name=__, lookup_key=__, "
           "feature_names=[__, __], timestamp_lookup_key=__)], label=__)`, stored in `booking_set`"),
    solution_code=('booking_set = fe.create_training_set(\n'
                   '    df=bookings,\n'
                   '    feature_lookups=[FeatureLookup(table_name="course.feature_store_lesson.listing_occupancy",\n'
                   '                                   lookup_key="listing_id", feature_names=["occupancy_30d", "price_30d"],\n'
                   '                                   timestamp_lookup_key="booked_at")],\n'
                   '    label="cancelled")'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: score quotes from keys",
    syllabus=("S1.09", "D4.feature-store-inference", "D2.feature-store-keys"), names=("quotes",),
    context=("quote_model_uri",), form=form_quotes, judge=judge_quotes,
    hints=("The model was logged with its feature lookups: give it the keys, plus the one input that is in no "
           "feature table, and nothing it could mistake for a feature.",
           "`fe.score_batch(model_uri=..., df=...)` looks the features up; a feature column already in `df` is "
           "used as given. `select` the columns you need.",
           "`fe.score_batch(model_uri=__, df=quote_requests.select(__, __, __))`, stored in `quotes`"),
    solution_code=('quotes = fe.score_batch(model_uri=quote_model_uri,\n'
                   '                        df=quote_requests.select("request_id", "listing_id", "lead_days"))'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: offline or online, and what Unity Catalog brings",
    syllabus=("S1.10", "S1.05", "D4.feature-store-inference"), names=("store_choice", "uc_true"),
    form=form_store_choice, judge=judge_store_choice, guessable=True,
    hints=("Scenarios: is it a batch over many rows or history, or one request that must be answered in "
           "milliseconds? Statements: a Unity Catalog table belongs to the account's metastore, not to a workspace, "
           "and it is an ordinary Unity Catalog table.",
           "Offline: Delta tables in Unity Catalog for training sets, batch scoring and SQL. Online: a synced copy "
           "for low-latency key lookups by Model Serving and Feature Serving endpoints. Unity Catalog brings "
           "governance (privileges), lineage, discovery and cross-workspace access; a feature table is a Delta "
           "table with a primary key constraint, named `catalog.schema.table`.",
           "`store_choice = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\", \"F\": \"__\"}` "
           "and `uc_true = {...}`, the numbers of the statements that hold for Unity Catalog (test each one "
           "against the table of section 1)"),
    solution_code=('store_choice = {"A": "offline", "B": "online", "C": "offline",\n'
                   '                "D": "online", "E": "offline", "F": "online"}\n'
                   'uc_true = {1, 3, 4, 6}'),
)
