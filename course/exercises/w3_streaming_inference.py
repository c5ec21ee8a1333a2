"""Exercises of week 3, lesson 5: streaming inference.

The lesson's demos land churn customers as JSON files, score them with a registered model through
``mlflow.pyfunc.spark_udf`` in a Structured Streaming query and show that a checkpoint makes a
second ``availableNow`` run process only the new files. The exercises move the ideas elsewhere:
a broken penguin ingestion query to fix (judged by running it twice on files of its own), a
breast-cancer scoring function (judged on a stream of its own against the registered champion),
a count of micro-batches and rows on a listings folder, and scenarios about streaming tables and
materialized views. Every judge builds its own folders and recomputes the truth from
``course.datasets``; the answers each judge was written against are in ``tests/wrong_answers`` and
``tests/right_answers``.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path

from course.checks import CheckFailed, Exercise, describe, expect

LESSON = "05-streaming-inference"
CANCER_MODEL = "streaming_lesson_cancer"
CANCER_FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "mean_concavity", "worst_area"]
PENGUIN_SCHEMA = ("penguin_id long, species string, island string, bill_length_mm double, bill_depth_mm double, "
                  "flipper_length_mm double, body_mass_g double, sex string, year long")
PENGUIN_COLUMNS = [c.split()[0] for c in PENGUIN_SCHEMA.split(", ")]
LISTING_COLUMNS = ["listing_id", "room_type", "accommodates", "bedrooms", "minimum_nights", "number_of_reviews"]
LISTINGS_FIRST_RUN = 4        # files the listings query has processed already
LISTINGS_NEW = 7              # files that arrive afterwards
LISTINGS_MAX_FILES = 3        # maxFilesPerTrigger of the listings query


def scratch(prefix: str) -> Path:
    """A fresh folder for streaming files, under the course's data folder (never the repository)."""
    from course import paths

    return Path(tempfile.mkdtemp(prefix=prefix, dir=paths.sub_dir("streaming")))


# --- Exercise 1: fix a broken ingestion query -----------------------------------------------------

def penguin_rows():
    """The penguins with an id, as the files of exercise 1 hold them."""
    from course import datasets

    penguins = datasets.load("penguins").reset_index(drop=True)
    penguins.insert(0, "penguin_id", range(1, len(penguins) + 1))
    return penguins


def drop_penguin_files(folder, first: int, last: int, rows_per_file: int = 40) -> None:
    """Write penguin files number first..last-1 (JSON lines) into folder."""
    penguins = penguin_rows()
    for i in range(first, last):
        part = penguins.iloc[i * rows_per_file:(i + 1) * rows_per_file]
        part.to_json(Path(folder) / f"penguins-{i:03d}.json", orient="records", lines=True)


def _finish(query, what: str, timeout: float = 60.0) -> None:
    """Wait for a query the learner started; fail (and stop it) when it never ends by itself."""
    expect(hasattr(query, "awaitTermination") and hasattr(query, "recentProgress"),
           f"{what} should return the StreamingQuery that `writeStream...start()` returns; got {describe(query)}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if query.awaitTermination(1):
                return
        except Exception as exc:
            raise CheckFailed(f"the query failed: {str(exc).splitlines()[0][:200]}") from None
        status = query.status or {}
        if (query.lastProgress is not None and not status.get("isDataAvailable")
                and not status.get("isTriggerActive") and "Waiting for next trigger" in str(status.get("message"))):
            time.sleep(1.5)
            if query.isActive:
                query.stop()
                raise CheckFailed("the query is still running after every file was processed: a processing-time "
                                  "trigger waits for more data forever; use the trigger that processes what is "
                                  "there, then stops")
    query.stop()
    raise CheckFailed("the query did not stop within a minute of starting: use a trigger that stops by itself")


def judge_ingest(start_penguin_ingest) -> None:
    import pandas as pd

    from pyspark.sql import SparkSession

    expect(callable(start_penguin_ingest), f"expected `start_penguin_ingest` to be a function; got "
                                           f"{describe(start_penguin_ingest)}")
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    base = scratch("w3-05-check-")
    landing, sink, checkpoint = base / "landing", base / "sink", base / "checkpoint"
    landing.mkdir()
    try:
        truth = penguin_rows()
        drop_penguin_files(landing, 0, 3)
        try:
            query = start_penguin_ingest(str(landing), str(sink), str(checkpoint))
        except Exception as exc:
            raise CheckFailed(f"your function raised {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
        _finish(query, "`start_penguin_ingest`")
        expect(sink.exists(), "nothing was written to the sink folder it is given (write Parquet files to `sink`)")
        expect((checkpoint / "offsets").is_dir(),
               "the query kept no progress in the checkpoint folder it is given, so a second run cannot resume "
               "where this one stopped")
        first = spark.read.parquet(str(sink)).toPandas()
        expect("penguin_id" not in first.columns or first["penguin_id"].notna().all(),
               "some rows reached the sink as nulls: a type in your schema does not match the data in the files")
        missing = [c for c in PENGUIN_COLUMNS if c not in first.columns]
        expect(not missing, f"the sink has no column {', '.join(missing)}: keep every column of the files")
        expect(len(first) == 120 and first["penguin_id"].nunique() == 120,
               f"after the first run the sink holds {len(first)} rows; the 3 files hold 120 penguins")
        drop_penguin_files(landing, 3, 5)
        query = start_penguin_ingest(str(landing), str(sink), str(checkpoint))
        _finish(query, "`start_penguin_ingest`")
        second = spark.read.parquet(str(sink)).toPandas()
        if len(second) > 200:
            raise CheckFailed(f"after 2 new files the sink holds {len(second)} rows for 200 penguins: the second run "
                              "processed old files again, so it did not resume from the checkpoint of the first "
                              "(give the query the checkpoint folder it is given)")
        expect(len(second) == 200 and second["penguin_id"].nunique() == 200,
               f"after 2 new files the sink holds {len(second)} rows; the 5 files hold 200 penguins")
        got = second.set_index("penguin_id").sort_index()
        want = truth.set_index("penguin_id").loc[got.index]
        for column in ("bill_length_mm", "body_mass_g", "flipper_length_mm"):
            same = pd.to_numeric(got[column], errors="coerce").fillna(-1).round(6).equals(
                pd.to_numeric(want[column]).fillna(-1).round(6))
            expect(same, f"`{column}` in the sink differs from the files (a schema type that does not match the "
                         "data turns values into nulls)")
        expect(got["species"].astype(str).tolist() == want["species"].astype(str).tolist(),
               "`species` in the sink differs from the files")
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- Exercise 2: score a stream, keep the key -----------------------------------------------------

def tumour_rows():
    """Tumours with an id and the model's features, as the check's stream lands them."""
    from course import datasets

    cancer = datasets.load("breast_cancer").reset_index(drop=True)
    rows = cancer[CANCER_FEATURES].copy()
    rows.insert(0, "tumour_id", [f"T{i:04d}" for i in range(len(rows))])
    return rows


TUMOUR_SCHEMA = "tumour_id string, " + ", ".join(f"{c} double" for c in CANCER_FEATURES)


def _prediction_values(column) -> list:
    import numpy as np

    return [int(np.ravel(v)[0]) if v is not None and np.size(v) else None for v in column]


def judge_score(score_tumours) -> None:
    import mlflow
    from pyspark.sql import SparkSession

    expect(callable(score_tumours), f"expected `score_tumours` to be a function; got {describe(score_tumours)}")
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    base = scratch("w3-05-check-")
    landing, sink = base / "landing", base / "sink"
    landing.mkdir()
    try:
        rows = tumour_rows()
        for i, start in enumerate(range(0, len(rows), 200)):
            rows.iloc[start:start + 200].to_json(landing / f"tumours-{i}.json", orient="records", lines=True)
        stream = spark.readStream.schema(TUMOUR_SCHEMA).option("maxFilesPerTrigger", 2).json(str(landing))
        try:
            scored = score_tumours(stream)
        except Exception as exc:
            raise CheckFailed(f"your function raised {type(exc).__name__} on a streaming DataFrame: "
                              f"{str(exc).splitlines()[0][:200]}") from None
        expect(hasattr(scored, "isStreaming"), f"`score_tumours` should return a Spark DataFrame; got {describe(scored)}")
        expect(scored.isStreaming, "`score_tumours` returned a batch DataFrame: build on the stream it is given")
        expect("tumour_id" in scored.columns,
               "the result has no `tumour_id`: without the key nobody can tell which tumour a prediction belongs to")
        expect("prediction" in scored.columns, "the result has no column `prediction`")
        try:
            query = (scored.select("tumour_id", "prediction").writeStream.format("parquet")
                     .option("path", str(sink)).option("checkpointLocation", str(base / "checkpoint"))
                     .trigger(availableNow=True).start())
            query.awaitTermination(120)
        except Exception as exc:
            raise CheckFailed(f"scoring the stream failed: {str(exc).splitlines()[0][:200]}") from None
        got = spark.read.parquet(str(sink)).toPandas()
        expect(len(got) == len(rows) and got["tumour_id"].nunique() == len(rows),
               f"the scored stream has {len(got)} rows for {len(rows)} tumours")
        champion = mlflow.pyfunc.load_model(f"models:/{CANCER_MODEL}@champion")
        want = dict(zip(rows["tumour_id"], _prediction_values(champion.predict(rows[CANCER_FEATURES]))))
        given = dict(zip(got["tumour_id"], _prediction_values(got["prediction"])))
        wrong = sum(given[k] != want[k] for k in want)
        if wrong:
            client = mlflow.MlflowClient()
            aliases = client.get_registered_model(CANCER_MODEL).aliases
            for alias, version in aliases.items():
                if alias == "champion":
                    continue
                other = mlflow.pyfunc.load_model(f"models:/{CANCER_MODEL}/{version}")
                theirs = dict(zip(rows["tumour_id"], _prediction_values(other.predict(rows[CANCER_FEATURES]))))
                expect(given != theirs, f"those are the predictions of the `{alias}` version: score with the champion")
            raise CheckFailed(f"{wrong} of {len(want)} predictions differ from the champion's (are the feature "
                              "columns passed in the order of the model's signature?)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- Exercise 3: how much does the next run process? ----------------------------------------------

def listing_file_sizes() -> list[int]:
    """Rows of each listings file: deterministic, uneven, never printed by the lesson."""
    import numpy as np

    return [int(n) for n in np.random.default_rng(505).integers(20, 90, LISTINGS_FIRST_RUN + LISTINGS_NEW)]


def drop_listing_files(folder, first: int, last: int) -> None:
    from course import datasets

    listings = datasets.load("listings")[LISTING_COLUMNS]
    sizes = listing_file_sizes()
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    for i in range(first, last):
        part = listings.iloc[starts[i]:starts[i] + sizes[i]]
        part.to_json(Path(folder) / f"listings-{i:03d}.json", orient="records", lines=True)


def second_run_truth() -> dict[str, int]:
    sizes = listing_file_sizes()[LISTINGS_FIRST_RUN:]
    return {"batches": math.ceil(len(sizes) / LISTINGS_MAX_FILES), "rows": sum(sizes)}


def form_second_run(second_run) -> None:
    expect(isinstance(second_run, dict), f"expected `second_run` to be a dict; got {describe(second_run)}")
    expect(set(second_run) == {"batches", "rows"}, "`second_run` should have exactly the keys \"batches\" and \"rows\"")
    for key, value in second_run.items():
        expect(hasattr(value, "__index__") and not isinstance(value, bool),
               f"`second_run[{key!r}]` should be a whole number; got {describe(value)}")


def judge_second_run(second_run) -> None:
    truth = second_run_truth()
    everything = sum(listing_file_sizes())
    rows, batches = int(second_run["rows"]), int(second_run["batches"])
    expect(rows != everything, "that is every row of all the files: the checkpoint remembers the files of the "
                               "first run, so the second run reads only the new ones")
    expect(rows != 0, "no rows at all? Count the new files' rows (a run on a checkpoint that already saw them "
                      "reads nothing: restart from the state after the first run)")
    expect(rows == truth["rows"], "`rows` is not the number of rows in the files that arrived after the first run")
    expect(batches != LISTINGS_NEW, "one micro-batch per file would ignore `maxFilesPerTrigger`")
    expect(batches != 1, "availableNow respects `maxFilesPerTrigger`: it splits what is there into several "
                         "micro-batches (the deprecated Once trigger ran one)")
    expect(batches == truth["batches"], "`batches` is not the number of micro-batches of the second run")


# --- Exercise 4: streaming table or materialized view ---------------------------------------------

TABLE_KINDS = {"P": "streaming table", "Q": "materialized view", "R": "streaming table",
               "S": "materialized view", "T": "streaming table"}


def _kind(value) -> str:
    text = str(value).strip().lower().replace("_", " ")
    if text in {"st", "streaming", "streaming table", "stream"}:
        return "streaming table"
    if text in {"mv", "materialized view", "materialised view", "materialized", "view"}:
        return "materialized view"
    return text


def form_kinds(table_kind) -> None:
    expect(isinstance(table_kind, dict), f"expected `table_kind` to be a dict; got {describe(table_kind)}")
    keys = {str(k).strip().upper() for k in table_kind}
    missing = sorted(set(TABLE_KINDS) - keys)
    expect(not missing, f"`table_kind` has no answer for scenario {', '.join(missing)}")
    odd = sorted(str(v) for v in table_kind.values() if _kind(v) not in {"streaming table", "materialized view"})
    if odd:
        raise CheckFailed(f"answer each scenario with \"streaming table\" or \"materialized view\"; got {odd[0]!r}")


def judge_kinds(table_kind) -> None:
    given = {str(k).strip().upper(): _kind(v) for k, v in table_kind.items()}
    for letter, right in TABLE_KINDS.items():
        if given.get(letter) != right:
            hint = ("a streaming table processes each new row once and never revisits it"
                    if right == "materialized view" else
                    "a materialized view recomputes its result from all its input at each update")
            raise CheckFailed(f"scenario {letter} is not a case for a {given.get(letter)}: {hint}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: fix a broken ingestion query",
    syllabus=("S4.04", "S4.01"), names=("start_penguin_ingest",), judge=judge_ingest,
    hints=("Three things stop this query: a file source cannot guess its columns, a query that must resume needs "
           "somewhere to remember what it read, and a scheduled job needs a trigger that ends.",
           "`spark.readStream.schema(...)` (a DDL string works), `.option(\"checkpointLocation\", ...)` on the "
           "writer, and `.trigger(availableNow=True)`; the function returns what `start()` returns.",
           "Inside start_penguin_ingest(landing, sink, checkpoint):\n    <a stream of the JSON files in landing, read "
           "with the files' schema>\n    <write it as Parquet to sink, with the checkpoint folder and a trigger that "
           "stops>\n    <return the started query, without waiting for it>"),
    solution_code=(
        'def start_penguin_ingest(landing, sink, checkpoint):\n'
        '    stream = (spark.readStream.schema(PENGUIN_SCHEMA)\n'
        '              .option("maxFilesPerTrigger", 2).json(landing))\n'
        '    return (stream.writeStream.format("parquet")\n'
        '            .option("path", sink)\n'
        '            .option("checkpointLocation", checkpoint)\n'
        '            .trigger(availableNow=True).start())'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: score a stream of tumours",
    syllabus=("S4.04", "D4.spark-udf"), names=("score_tumours",), judge=judge_score,
    hints=("The registered model becomes a Spark column function once, outside the stream; applying it to a "
           "streaming DataFrame is the same call as on a batch one. Keep the key next to the prediction.",
           "`mlflow.pyfunc.spark_udf(spark, model_uri, env_manager=\"local\")` with the URI of the champion alias; "
           "call it on the feature columns in the order of the model's signature (`CANCER_FEATURES`).",
           "cancer_udf = mlflow.pyfunc.spark_udf(spark, <the champion's URI>, env_manager=\"local\")\n"
           "Then, inside score_tumours(tumours):\n    return tumours.<add a prediction column from cancer_udf(...)>"
           ".select(<the key>, <the prediction>)"),
    solution_code=(
        'cancer_udf = mlflow.pyfunc.spark_udf(spark, f"models:/{CANCER_MODEL}@champion",\n'
        '                                     env_manager="local", result_type="long")\n'
        'def score_tumours(tumours):\n'
        '    return (tumours.withColumn("prediction", cancer_udf(*CANCER_FEATURES))\n'
        '            .select("tumour_id", "prediction"))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: what does the next run process?",
    syllabus=("S4.04",), names=("second_run",), form=form_second_run, judge=judge_second_run, guessable=True,
    hints=("The checkpoint lists the files the first run committed; availableNow takes every file that is not in "
           "that list, cut into micro-batches of at most maxFilesPerTrigger files.",
           "Run `run_listings()` and read its `recentProgress`: one entry per micro-batch, each with "
           "`numInputRows` (attribute access works on classic Spark and on Spark Connect).",
           "query = <one more run>\nsecond_run = {\"batches\": <how many progress entries>, "
           "\"rows\": <the sum of their numInputRows>}"),
    solution_code=(
        'listings_query = run_listings()\n'
        'second_run = {"batches": len(listings_query.recentProgress),\n'
        '              "rows": sum(p.numInputRows for p in listings_query.recentProgress)}'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: streaming table or materialized view?",
    syllabus=("S4.04", "S4.01"), names=("table_kind",), form=form_kinds, judge=judge_kinds, guessable=True,
    hints=("Ask of each dataset: is every input row handled once, as it arrives (appending), or must the result "
           "be recomputed from all of its input when something upstream changes?",
           "In a pipeline, a function returning `spark.readStream...` under `@dp.table` defines a streaming table; "
           "one returning a batch read under `@dp.materialized_view` defines a materialized view.",
           "table_kind = {\"P\": \"streaming table or materialized view\", \"Q\": \"...\", \"R\": \"...\", "
           "\"S\": \"...\", \"T\": \"...\"}"),
    solution_code=('table_kind = {"P": "streaming table", "Q": "materialized view", "R": "streaming table",\n'
                   '              "S": "materialized view", "T": "streaming table"}'),
)
