"""Exercises of week 1, lesson 1: Orientation.

Exercises 1 to 3 practise the course flow and Spark DataFrames (groundwork, no exam id of their
own); exercises 4 and 5 are exam-style questions on the ML runtime and the choice of compute.
"""
from __future__ import annotations

from course.checks import (Exercise, describe, expect, expect_columns, expect_spark_dataframe,
                           expect_type)

LESSON = "01-orientation"
METHOD_CHOICES = ("select", "filter", "withColumn", "orderBy", "limit", "distinct",
                  "count", "show", "collect", "take", "toPandas", "first")
COMPUTE_CHOICES = ("A", "B", "C", "D")
STATEMENT_CHOICES = ("A", "B", "C", "D", "E", "F")
SUMMARY_COLUMNS = ("species", "n_birds", "mean_mass_g")


def check_row_count(n_penguins) -> None:
    expect(not callable(n_penguins),
           "`n_penguins` holds the method itself, not its result: an action must be called, with ()")
    expect(isinstance(n_penguins, int) and not isinstance(n_penguins, bool),
           f"expected `n_penguins` to be a Python int (what a Spark action returns); got {describe(n_penguins)}")
    expect(n_penguins > 0, "a number of rows cannot be zero or negative here: `penguins` is not empty")


def check_female_mass(female_mass) -> None:
    df = expect_spark_dataframe(female_mass, "`female_mass`")
    expect_columns(df, SUMMARY_COLUMNS, "`female_mass`")
    extra = [c for c in df.columns if c not in SUMMARY_COLUMNS]
    expect(not extra, f"`female_mass` should hold only the three requested columns; it also has {extra}")
    kinds = dict(df.dtypes)
    expect(kinds["n_birds"] in ("bigint", "int"),
           f"`n_birds` should be a whole-number count; it holds `{kinds['n_birds']}` values")
    expect(kinds["mean_mass_g"] == "double",
           f"`mean_mass_g` should be a decimal number; it holds `{kinds['mean_mass_g']}` values")
    rows = df.collect()
    expect(len(rows) > 0, "`female_mass` has no rows: does your filter match any bird? "
                          "Look at the values the `sex` column really holds (case counts)")
    species = [r.species for r in rows]
    expect(len(species) == len(set(species)), "a species appears on more than one row: group by species alone")
    expect(len(rows) == 3, "expected one row per species, and the data has three species")


def check_actions(actions) -> None:
    expect_type(actions, (set, frozenset), "`actions`")
    unknown = sorted(set(actions) - set(METHOD_CHOICES))
    expect(not unknown, f"{unknown} are not among the listed method names (spelling and case count)")
    expect(len(actions) > 0, "at least one of the listed methods is an action")
    expect(len(actions) < len(METHOD_CHOICES), "not every listed method is an action: some are lazy")


def check_compute_choice(compute_choice) -> None:
    expect(isinstance(compute_choice, str),
           f"expected `compute_choice` to be a string such as \"A\"; got {describe(compute_choice)}")
    expect(compute_choice in COMPUTE_CHOICES, "answer with one of the capital letters A, B, C or D, as a string")


def check_true_statements(true_statements) -> None:
    expect_type(true_statements, (set, frozenset), "`true_statements`")
    unknown = sorted(set(true_statements) - set(STATEMENT_CHOICES))
    expect(not unknown, f"{unknown} are not statement letters: use capital letters from A to F")
    expect(len(true_statements) > 0, "at least one statement is true")
    expect(len(true_statements) < len(STATEMENT_CHOICES), "at least one statement is false")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1 (warm-up): count the penguins",
    syllabus=(), names=("n_penguins",), checker=check_row_count,
    hints=("An action returns a plain Python value; the Spark DataFrame `penguins` has one that counts rows.",
           "Call the method: `penguins.count` without parentheses is the method itself, not a number.",
           "Count every row as it is: do not drop rows with missing values first."),
    solution_code="n_penguins = penguins.count()",
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: female body mass by species",
    syllabus=(), names=("female_mass",), checker=check_female_mass,
    hints=("Three steps in a chain: `filter` the rows, `groupBy` the species, `agg` two summaries, then `orderBy`.",
           "`F.count(\"*\")` counts rows and `F.avg(column)` averages; `.alias(name)` names the result. "
           "The `sex` column holds lower-case values.",
           "Sort with `F.desc(\"mean_mass_g\")` (or `F.col(\"mean_mass_g\").desc()`): heaviest species first."),
    solution_code=('female_mass = (penguins\n'
                   '               .filter(F.col("sex") == "female")\n'
                   '               .groupBy("species")\n'
                   '               .agg(F.count("*").alias("n_birds"), F.avg("body_mass_g").alias("mean_mass_g"))\n'
                   '               .orderBy(F.desc("mean_mass_g")))'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: which methods are actions?",
    syllabus=(), names=("actions",), checker=check_actions,
    hints=("An action must hand a result back to Python (or print it), so Spark has to run a job.",
           "A method that returns another DataFrame is a transformation, even when it sorts or cuts rows.",
           "`limit(n)` returns a DataFrame; `take(n)` and `first()` return Row objects."),
    solution_code='actions = {"count", "show", "collect", "take", "toPandas", "first"}',
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: pick the compute",
    syllabus=("D1.clusters", "D1.ml-runtime", "S1.02"), names=("compute_choice",), checker=check_compute_choice,
    hints=("Rule out what cannot run Spark ML at all, then what cannot spread 400 GB over several machines.",
           "The libraries the team wants come pre-installed with one runtime.",
           "In a Unity Catalog workspace that runtime needs one particular access mode."),
    solution_code='compute_choice = "C"',
)

q5 = Exercise(
    id=f"{LESSON}.q5", title="Exercise 5: true or false?",
    syllabus=("D1.ml-runtime", "D1.clusters", "S1.02"), names=("true_statements",), checker=check_true_statements,
    hints=("Read each statement against the comparison table of section 5.",
           "SQL warehouses run SQL only; the ML runtime and standard access mode do not go together.",
           "Three statements are true."),
    solution_code='true_statements = {"A", "C", "F"}',
)
