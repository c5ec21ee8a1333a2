"""Exercises of week 3, lesson 4: batch inference at scale.

The lesson's demos register a diabetes regression model, score it with pandas, with
``mlflow.pyfunc.spark_udf``, with an iterator pandas UDF and with ``mapInPandas``, and count how
often each loads the model. The exercises move the ideas to a churn classifier scored with
``spark_udf`` into a table, to a breast-cancer model whose pandas UDF loads the model once per
batch (fix it), to a penguin classifier scored with ``mapInPandas`` and a declared schema, and to
load counts and serving scenarios the page never works out. Every judge looks the model up in the
course's local registry by its alias and recomputes the truth from ``course.datasets``; the UDF
and ``mapInPandas`` judges run the learner's function on a DataFrame of their own, with their own
partitions and batch size, and count the loads. The answers each judge was written against are in
``tests/wrong_answers`` and ``tests/right_answers``.

``LoadCounter`` is the lesson's instrument: a picklable object that loads a downloaded model
folder with ``mlflow.pyfunc.load_model`` and appends one line to a log file per load, so loads
made in Spark's Python workers can be counted on the driver (one machine: the file is shared).
"""
from __future__ import annotations

import atexit
import math
import shutil
import tempfile
import time
from pathlib import Path

from course.checks import CheckFailed, Exercise, describe, expect, expect_type

LESSON = "04-batch-inference"
DIABETES_MODEL = "batch_lesson_diabetes"
CHURN_MODEL = "batch_lesson_churn"
CANCER_MODEL = "batch_lesson_cancer"
PENGUIN_MODEL = "batch_lesson_penguins"
CHURN_TABLE = "batch_lesson_churn_scores"
CHURN_FEATURES = ["tenure_months", "monthly_charges", "support_calls", "senior_citizen", "contract"]
CANCER_FEATURES = ["mean_radius", "mean_texture", "mean_smoothness", "worst_concavity", "worst_area"]
PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SCALAR_PANDAS_UDF = 200   # pyspark's PythonEvalType of a Series-to-Series pandas UDF
JUDGE_BATCH = 40          # rows per Arrow batch while a judge runs a learner's function
_CACHE: dict[str, object] = {}
_SCRATCH: list[Path] = []


# --- the lesson's instrument: count model loads, also in Spark's Python workers -------------------

def scratch_dir() -> Path:
    """A temporary folder for downloaded models and load logs, removed when Python exits."""
    if not _SCRATCH:
        folder = Path(tempfile.mkdtemp(prefix="batch-lesson-"))
        _SCRATCH.append(folder)
        atexit.register(shutil.rmtree, folder, True)
    return _SCRATCH[0]


class LoadCounter:
    """Loads one downloaded MLflow model folder and records every load in a log file.

    It is pickled into Spark's Python workers with the functions that use it; each ``load()``
    appends a line to ``log_path``, which ``count()`` reads on the driver (local mode: one disk)."""

    def __init__(self, model_dir: str | Path, log_path: str | Path):
        self.model_dir, self.log_path = str(model_dir), str(log_path)
        self.reset()

    def load(self):
        import os
        import time

        import mlflow.pyfunc

        started = time.time()
        model = mlflow.pyfunc.load_model(self.model_dir)
        with open(self.log_path, "a") as log:
            log.write(f"{os.getpid()} {started}\n")
        return model

    def count(self) -> int:
        """Loads that started since the last ``reset()``. A task of an earlier job that failed can
        still be loading when the next job starts (Spark stops its Python worker a little later):
        its line is written late but says when its load began, so it is not counted."""
        path = Path(self.log_path)
        if not path.exists():
            return 0
        return sum(1 for line in path.read_text().splitlines()
                   if len(line.split()) < 2 or float(line.split()[1]) >= self.since)

    def reset(self) -> None:
        self.since = time.time()
        Path(self.log_path).write_text("")

    def __repr__(self) -> str:
        return f"LoadCounter({Path(self.model_dir).name}, loads so far: {self.count()})"


def model_loader(model_uri: str, label: str) -> LoadCounter:
    """Resolve ``model_uri`` (an alias URI) once, on the driver, download that version into the
    scratch folder and return a LoadCounter for it: every task then loads the same version."""
    import mlflow

    target = scratch_dir() / label
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(target))
    return LoadCounter(local, scratch_dir() / f"{label}-loads.log")


def clear_leftover_tables(spark, *names: str) -> None:
    """Let ``saveAsTable`` write these tables again in a new session (local sessions only).

    The course's local Spark catalog lives in memory: a new session forgets its tables but not
    their folders in the warehouse, and Spark refuses to create a managed table over a folder that
    exists (LOCATION_ALREADY_EXISTS). A leftover folder of a table the session does not know is
    removed; on Databricks (a persistent catalog) nothing is done."""
    from course.spark import on_databricks, spark_dir

    if on_databricks():
        return
    for name in names:
        folder = spark_dir("warehouse") / name.lower()
        if folder.is_dir() and not spark.catalog.tableExists(name):
            shutil.rmtree(folder, ignore_errors=True)


# --- shared helpers ---------------------------------------------------------------------------

def _spark():
    from course.spark import get_spark

    return get_spark()


def _requirements() -> list[str]:
    import sklearn

    return [f"scikit-learn=={sklearn.__version__}"]


def _log(model, X, run_name: str, registered_model_name: str):
    import mlflow
    from mlflow.models import infer_signature

    with mlflow.start_run(run_name=run_name):
        return mlflow.sklearn.log_model(model, name="model", pip_requirements=_requirements(),
                                        signature=infer_signature(X, model.predict(X)),
                                        registered_model_name=registered_model_name)


def _alias_model(name: str, alias: str = "champion"):
    """The pyfunc model the alias points at now, cached by version."""
    import mlflow
    from mlflow import MlflowClient

    version = MlflowClient().get_model_version_by_alias(name, alias).version
    key = f"{name}/{version}"
    if key not in _CACHE:
        _CACHE[key] = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return _CACHE[key]


def churn_customers():
    from course import datasets

    return datasets.load("churn")


def cancer_rows():
    """The breast-cancer table with a ``tumour_id`` key (its row number)."""
    from course import datasets

    table = datasets.load("breast_cancer")
    return table.assign(tumour_id=range(len(table)))[["tumour_id", *CANCER_FEATURES, "target"]]


def penguin_rows():
    """All 344 penguins with a ``penguin_id`` key (its row number); two miss their measurements."""
    from course import datasets

    table = datasets.load("penguins")
    return table.assign(penguin_id=range(len(table)))[["penguin_id", "island", *PENGUIN_FEATURES]]


def register_exercise_models() -> dict[str, str]:
    """Register the exercises' models and point their aliases; return the version of each alias.

    churn: a champion (logistic regression on five columns) and a challenger (a strongly
    regularised one on three); breast cancer and penguins: one champion each. Run twice, it adds versions and moves
    the aliases to them."""
    from mlflow import MlflowClient
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    client = MlflowClient()
    versions = {}
    churn = churn_customers()
    X = churn[CHURN_FEATURES]
    champion = make_pipeline(
        make_column_transformer((StandardScaler(), CHURN_FEATURES[:4]), (OneHotEncoder(), ["contract"])),
        LogisticRegression(max_iter=1000, class_weight="balanced")).fit(X, churn["churn"])
    challenger = make_pipeline(
        make_column_transformer((StandardScaler(), CHURN_FEATURES[:3])),
        LogisticRegression(max_iter=1000, C=0.01, class_weight="balanced")).fit(X, churn["churn"])
    for alias, model in (("champion", champion), ("challenger", challenger)):
        info = _log(model, X, f"churn-{alias}", CHURN_MODEL)
        client.set_registered_model_alias(CHURN_MODEL, alias, info.registered_model_version)
        versions[f"{CHURN_MODEL}@{alias}"] = info.registered_model_version
    cancer = cancer_rows()
    cancer_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        cancer[CANCER_FEATURES], cancer["target"])
    info = _log(cancer_model, cancer[CANCER_FEATURES], "cancer-champion", CANCER_MODEL)
    client.set_registered_model_alias(CANCER_MODEL, "champion", info.registered_model_version)
    versions[f"{CANCER_MODEL}@champion"] = info.registered_model_version
    birds = penguin_rows().dropna(subset=PENGUIN_FEATURES)
    species = penguin_species(birds)
    penguin_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        birds[PENGUIN_FEATURES], species)
    info = _log(penguin_model, birds[PENGUIN_FEATURES], "penguins-champion", PENGUIN_MODEL)
    client.set_registered_model_alias(PENGUIN_MODEL, "champion", info.registered_model_version)
    versions[f"{PENGUIN_MODEL}@champion"] = info.registered_model_version
    return versions


def penguin_species(birds):
    from course import datasets

    return datasets.load("penguins").loc[birds.index, "species"]


def _udf_error(exc: Exception, what: str) -> CheckFailed:
    text = str(exc)
    first = next((line.strip() for line in reversed(text.splitlines())
                  if "Error" in line or "Exception" in line), text.strip()[:200])
    return CheckFailed(f"running {what} on a DataFrame of the check's own raised an error: {first[:220]}")


def _with_batches(spark, rows: int, run):
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(rows))
    try:
        return run()
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")


# --- Exercise 1: score the churn table with spark_udf and write it ---------------------------------

def form_churn(churn_scores) -> None:
    from pyspark.sql import DataFrame

    expect_type(churn_scores, DataFrame, "`churn_scores`")


def churn_truth(alias: str = "champion") -> dict:
    churn = churn_customers()
    predicted = _alias_model(CHURN_MODEL, alias).predict(churn[CHURN_FEATURES])
    return dict(zip(churn["customer_id"], (int(p) for p in predicted)))


def judge_churn(churn_scores) -> None:
    spark = _spark()
    expect(spark.catalog.tableExists(CHURN_TABLE),
           f"there is no table `{CHURN_TABLE}`: write the scored DataFrame with `.write...saveAsTable(...)`")
    table = spark.table(CHURN_TABLE)
    for column in ("customer_id", "churn_prediction"):
        expect(column in table.columns,
               f"the table `{CHURN_TABLE}` has no column `{column}`"
               + (": keep the key, or nobody can join the predictions back to a customer"
                  if column == "customer_id" else ""))
    kind = dict(table.dtypes)["churn_prediction"]
    expect(not kind.startswith("array"),
           "`churn_prediction` holds arrays: without `result_type`, spark_udf takes the type from the model's "
           "output signature (a tensor here); ask for an integer type")
    expect(kind in {"int", "bigint", "smallint", "tinyint"},
           f"`churn_prediction` is a `{kind}` column; the brief asks for integer classes (0 or 1)")
    rows = table.select("customer_id", "churn_prediction").collect()
    got = {r.customer_id: r.churn_prediction for r in rows}
    truth = churn_truth()
    expect(len(rows) == len(truth) and set(got) == set(truth),
           f"the table has {len(rows)} rows; it should hold one prediction for each of the {len(truth)} customers")
    if got == truth:
        expect(set(churn_scores.columns) >= {"customer_id", "churn_prediction"},
               "`churn_scores` does not have the table's columns: read the table back with `spark.table(...)`")
        expect(churn_scores.count() == len(truth), "`churn_scores` does not hold the table's rows")
        return
    if got == churn_truth("challenger"):
        raise CheckFailed("these are the challenger's predictions: the nightly job scores with the version the "
                          "`champion` alias points at")
    raise CheckFailed("the predictions are not the champion's: columns passed to the UDF one by one are matched "
                      "to the signature's inputs by position, so check their order (or pass a struct)")


# --- Exercise 2: fix the UDF that loads the model once per batch ------------------------------------

def form_cancer(cancer_predict, cancer_loader) -> None:
    expect(callable(cancer_predict) and hasattr(cancer_predict, "evalType"),
           f"expected `cancer_predict` to be a pandas UDF (made with `@pandas_udf`); got {describe(cancer_predict)}")


def _judge_frame(spark, rows, partitions: int):
    """A Spark DataFrame of ``rows`` in ``partitions`` partitions, and the rows of each partition."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(rows).repartition(partitions)
    sizes = [r["count"] for r in frame.groupBy(F.spark_partition_id().alias("p")).count().collect()]
    return frame, sizes


def judge_cancer(cancer_predict, cancer_loader) -> None:
    from pyspark.sql import functions as F

    spark = _spark()
    rows = cancer_rows().drop(columns="target")
    frame, sizes = _judge_frame(spark, rows, 3)
    tasks, batches = len(sizes), sum(math.ceil(n / JUDGE_BATCH) for n in sizes)
    cancer_loader.reset()
    try:
        got = _with_batches(spark, JUDGE_BATCH, lambda: {
            r.tumour_id: r.predicted for r in
            frame.select("tumour_id", cancer_predict(F.struct(*CANCER_FEATURES)).alias("predicted")).collect()})
    except Exception as exc:
        raise _udf_error(exc, "`cancer_predict`") from None
    loads = cancer_loader.count()
    truth = _alias_model(CANCER_MODEL).predict(rows[CANCER_FEATURES])
    want = dict(zip(rows["tumour_id"], (int(p) for p in truth)))
    expect(set(got) == set(want), "`cancer_predict` did not give one value per row")
    expect(all(got[k] is not None and int(got[k]) == want[k] for k in want),
           "`cancer_predict` does not return the champion's predicted classes for the rows it receives")
    expect(loads > 0, "`cancer_predict` never called `cancer_loader.load()`: load the model through it, "
                      "so that the loads can be counted")
    if loads >= batches and getattr(cancer_predict, "evalType", None) == SCALAR_PANDAS_UDF:
        raise CheckFailed(f"`cancer_predict` is still a Series-to-Series UDF (its type hints say so), which Spark "
                          f"calls once per Arrow batch: {loads} loads for {batches} batches. The iterator form is "
                          "called once per task")
    if loads >= batches:
        raise CheckFailed(f"`cancer_predict` loaded the model {loads} times for {batches} Arrow batches in "
                          f"{tasks} tasks: once per batch. Load it once per task, before looping over the batches")
    expect(loads == tasks, f"`cancer_predict` loaded the model {loads} times in {tasks} tasks; once per task is "
                           "the goal")


# --- Exercise 3: mapInPandas with the right schema --------------------------------------------------

def form_penguins(score_penguins, penguin_schema, penguin_scores, penguin_loader) -> None:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

    expect(callable(score_penguins), f"expected `score_penguins` to be a function; got {describe(score_penguins)}")
    expect(isinstance(penguin_schema, (str, StructType)),
           f"expected `penguin_schema` to be a DDL string or a StructType; got {describe(penguin_schema)}")
    expect_type(penguin_scores, DataFrame, "`penguin_scores`")


def judge_penguins(score_penguins, penguin_schema, penguin_scores, penguin_loader) -> None:
    spark = _spark()
    rows = penguin_rows()
    frame, sizes = _judge_frame(spark, rows, 2)
    tasks = len(sizes)
    penguin_loader.reset()
    try:
        scored = frame.mapInPandas(score_penguins, penguin_schema)
        columns = scored.columns
        got_rows = _with_batches(spark, JUDGE_BATCH, scored.collect)
    except Exception as exc:
        text = str(exc)
        if "NaN" in text:
            raise CheckFailed("the model received birds with missing measurements: keep only the rows where all "
                              "four measurements are present before predicting") from None
        if "schema" in text.lower() or "type" in text.lower() or "column" in text.lower():
            raise CheckFailed("the DataFrames your function yields do not match `penguin_schema`: declare each "
                              "yielded column with the type of its values (a species is text)") from None
        raise _udf_error(exc, "`score_penguins` with `mapInPandas`") from None
    loads = penguin_loader.count()
    expect(set(columns) == {"penguin_id", "predicted_species"},
           f"the output has the columns {sorted(columns)}; the brief asks for `penguin_id` and `predicted_species`")
    types = dict(scored.dtypes)
    expect(types["predicted_species"] == "string", "`predicted_species` should be a string column")
    complete = rows.dropna(subset=PENGUIN_FEATURES)
    truth = _alias_model(PENGUIN_MODEL).predict(complete[PENGUIN_FEATURES])
    want = dict(zip(complete["penguin_id"], truth))
    got = {r.penguin_id: r.predicted_species for r in got_rows}
    expect(len(got_rows) == len(got), "some `penguin_id` values appear twice in the output: take the id from the "
                                      "input column, not from the batch's pandas index")
    if set(got) != set(want):
        expect(not (set(got) > set(want)),
               "birds with missing measurements are in the output: keep only the complete rows")
        raise CheckFailed("`penguin_id` does not carry the ids of the scored birds: take it from the input "
                          "column, not from the batch's index")
    expect(all(got[k] == want[k] for k in want),
           "`predicted_species` is not the champion's prediction for each bird")
    expect(loads > 0, "`score_penguins` never called `penguin_loader.load()`: load the model through it")
    expect(loads == tasks, f"`score_penguins` loaded the model {loads} times in {tasks} partitions: load it once "
                           "per partition, before the loop over the batches")
    expect(set(penguin_scores.columns) == {"penguin_id", "predicted_species"},
           "`penguin_scores` should be `penguins_sdf` scored with your function and schema")


# --- Exercise 4: count the loads, and choose the serving mode ---------------------------------------

PARTITIONS = [4300, 2600, 900]       # rows per partition of the exercise's table
BATCH_ROWS = 1000                    # spark.sql.execution.arrow.maxRecordsPerBatch in the exercise
LOAD_KEYS = ("series_udf", "iterator_udf", "map_in_pandas")
SERVING = {"P": "batch", "Q": "real-time", "R": "streaming", "S": "batch", "T": "real-time"}
SERVING_WHY = {
    "P": "the scores are needed once a day, for millions of rows, and read from a table the next morning",
    "Q": "the answer must come back within a request, computed from data that exists only in that request",
    "R": "records arrive continuously and each must be scored once within minutes, into a table",
    "S": "a weekly run over the whole table, read later: nothing waits for each prediction",
    "T": "a user waits for the answer, and it depends on what they typed a moment ago",
}
_SERVING_ALIASES = {"realtime": "real-time", "real time": "real-time", "online": "real-time",
                    "stream": "streaming", "structured streaming": "streaming", "offline": "batch"}


def load_truth() -> dict[str, int]:
    batches = sum(math.ceil(n / BATCH_ROWS) for n in PARTITIONS)
    return {"series_udf": batches, "iterator_udf": len(PARTITIONS), "map_in_pandas": len(PARTITIONS)}


def _serving(value) -> str:
    text = str(value).strip().lower()
    return _SERVING_ALIASES.get(text, text)


def form_counts(model_loads, serving_choice) -> None:
    expect_type(model_loads, dict, "`model_loads`")
    missing = [k for k in LOAD_KEYS if k not in model_loads]
    expect(not missing, f"`model_loads` has no entry {', '.join(repr(k) for k in missing)}")
    for key in LOAD_KEYS:
        value = model_loads[key]
        expect(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
               f"`model_loads[{key!r}]` should be a whole number of loads; got {describe(value)}")
    expect_type(serving_choice, dict, "`serving_choice`")
    keys = {str(k).strip().upper() for k in serving_choice}
    missing = sorted(set(SERVING) - keys)
    expect(not missing, f"`serving_choice` has no answer for scenario {', '.join(missing)}")
    odd = [v for v in serving_choice.values() if _serving(v) not in {"batch", "streaming", "real-time"}]
    if odd:
        raise CheckFailed(f'answer each scenario with "batch", "streaming" or "real-time"; got {odd[0]!r}')


def judge_counts(model_loads, serving_choice) -> None:
    truth = load_truth()
    total_rows = sum(PARTITIONS)
    if model_loads["series_udf"] != truth["series_udf"]:
        expect(model_loads["series_udf"] != math.ceil(total_rows / BATCH_ROWS),
               "`series_udf`: Arrow batches never span two partitions; count the batches of each partition")
        expect(model_loads["series_udf"] != total_rows,
               "`series_udf`: a pandas UDF is called once per Arrow batch, not once per row")
        raise CheckFailed("`series_udf` is not the number of Arrow batches of the three partitions")
    for key in ("iterator_udf", "map_in_pandas"):
        if model_loads[key] != truth[key]:
            expect(model_loads[key] != truth["series_udf"],
                   f"`{key}`: code before the loop runs once per task, not once per batch")
            expect(model_loads[key] != 1,
                   f"`{key}`: each task (partition) runs the function and loads its own model; nothing is shared "
                   "across tasks")
            raise CheckFailed(f"`{key}` is not the number of loads for this table")
    given = {str(k).strip().upper(): _serving(v) for k, v in serving_choice.items()}
    for letter, right in SERVING.items():
        if given.get(letter) != right:
            raise CheckFailed(f"scenario {letter} is not a case for {given.get(letter)} inference: re-read what "
                              "the comparison table says about latency, volume and where the predictions go")


# --- the exercises ------------------------------------------------------------------------------

q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: the nightly churn scores",
    syllabus=("D4.spark-udf", "S4.03", "S4.01"), names=("churn_scores",),
    form=form_churn, judge=judge_churn,
    hints=("Wrap the registered model in a Spark UDF that follows the champion alias, call it on the feature "
           "columns, keep the key column, and write the result as a table.",
           "`mlflow.pyfunc.spark_udf(spark, model_uri, result_type=...)` returns a function you call with columns: "
           "`predict(*columns)` (in the signature's order) or `predict(F.struct(*columns))`. Then "
           "`.write.mode(\"overwrite\").saveAsTable(name)` and `spark.table(name)`.",
           "predict = mlflow.pyfunc.spark_udf(spark, f\"models:/{CHURN_MODEL}@<alias>\", result_type=\"<an integer "
           "type>\", env_manager=\"local\")\n(churn_sdf.select(<key>, predict(<features>).alias(<name>))"
           ".write.mode(...).saveAsTable(CHURN_TABLE))\nchurn_scores = <read it back>"),
    solution_code=(
        'churn_udf = mlflow.pyfunc.spark_udf(spark, f"models:/{CHURN_MODEL}@champion",\n'
        '                                    result_type="long", env_manager="local")\n'
        '(churn_sdf.select("customer_id", churn_udf(*CHURN_FEATURES).alias("churn_prediction"))\n'
        '          .write.mode("overwrite").saveAsTable(CHURN_TABLE))\n'
        'churn_scores = spark.table(CHURN_TABLE)'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: load the model once per task",
    syllabus=("D4.iterator-udf", "S4.03"), names=("cancer_predict",), context=("cancer_loader",),
    form=form_cancer, judge=judge_cancer,
    hints=("A Series-to-Series pandas UDF is called once per Arrow batch, so whatever it loads, it loads per batch. "
           "The iterator form is called once per task with all the task's batches: load before looping.",
           "With a struct argument each batch arrives as a pandas DataFrame: the type hints become "
           "`Iterator[pd.DataFrame] -> Iterator[pd.Series]`, and the function `yield`s one Series per batch.",
           "@pandas_udf(\"long\")\ndef cancer_predict(batches: <hint>) -> <hint>:\n    <the one load>\n"
           "    for <batch> in batches:\n        <yield the predictions of that batch as a Series>"),
    solution_code=(
        '@pandas_udf("long")\n'
        'def cancer_predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.Series]:\n'
        '    model = cancer_loader.load()\n'
        '    for features in batches:\n'
        '        yield pd.Series(model.predict(features))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: penguins through mapInPandas",
    syllabus=("D4.map-in-pandas", "S4.03"), names=("score_penguins", "penguin_schema", "penguin_scores"),
    context=("penguin_loader",), form=form_penguins, judge=judge_penguins,
    hints=("`mapInPandas` hands your function an iterator over one partition's batches (whole pandas DataFrames) "
           "and builds its output from what you yield, with the columns and types you declare.",
           "Load once, before the loop; in the loop drop the incomplete rows (`dropna(subset=...)`), predict, and "
           "yield a DataFrame with the two columns. The schema is a DDL string such as \"a long, b double\".",
           "def score_penguins(<the iterator>):\n    model = <load once>\n    for <a batch> in <the iterator>:\n"
           "        complete = <rows with all PENGUIN_FEATURES>\n        yield pd.DataFrame({<the id>: ..., "
           "<the prediction>: ...})\n\npenguin_schema = \"<name> <type>, <name> <type>\"\n"
           "penguin_scores = penguins_sdf.mapInPandas(...)"),
    solution_code=(
        'def score_penguins(batches):\n'
        '    model = penguin_loader.load()\n'
        '    for pdf in batches:\n'
        '        complete = pdf.dropna(subset=PENGUIN_FEATURES)\n'
        '        yield pd.DataFrame({"penguin_id": complete["penguin_id"],\n'
        '                            "predicted_species": model.predict(complete[PENGUIN_FEATURES])})\n'
        '\n'
        'penguin_schema = "penguin_id long, predicted_species string"\n'
        'penguin_scores = penguins_sdf.mapInPandas(score_penguins, penguin_schema)'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: count the loads, choose the mode",
    syllabus=("D4.iterator-udf", "D4.map-in-pandas", "S4.01"), names=("model_loads", "serving_choice"),
    form=form_counts, judge=judge_counts, guessable=True,
    hints=("A task works on one partition, and Spark cuts each partition into Arrow batches of at most "
           "maxRecordsPerBatch rows. Which code runs once per batch, and which once per task?",
           "A Series-to-Series UDF that loads inside itself loads once per batch: count the batches of each "
           "partition (rounding up) and add them. Code before the loop of an iterator UDF or of a mapInPandas "
           "function runs once per task. For the scenarios, ask how fast the answer is needed and where it goes.",
           "model_loads = {\"series_udf\": <sum over partitions of ceil(rows / batch)>, \"iterator_udf\": <...>, "
           "\"map_in_pandas\": <...>}\nserving_choice = {\"P\": \"batch, streaming or real-time\", ...}"),
    solution_code=(
        'model_loads = {"series_udf": 9, "iterator_udf": 3, "map_in_pandas": 3}\n'
        'serving_choice = {"P": "batch", "Q": "real-time", "R": "streaming", "S": "batch", "T": "real-time"}'),
)
