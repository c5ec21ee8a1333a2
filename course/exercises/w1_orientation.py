"""Exercises of week 1, lesson 1: Orientation.

Exercise 1 is the warm-up that teaches the check, hint and solution flow (course mechanics, no exam
id of its own); exercises 2 and 3 are exam-style questions on the compute, the ML runtime and the
access mode.
"""
from __future__ import annotations

from course.checks import CheckFailed, Exercise, describe, expect, expect_choice, expect_type

LESSON = "01-orientation"
COMPUTE_OPTIONS = ("A", "B", "C", "D", "E")
STATEMENT_OPTIONS = ("A", "B", "C", "D", "E", "F", "G")


# --- Exercise 1 (warm-up): customers on a two-year contract -------------------------------------

def _churn():
    from course import datasets

    return datasets.load("churn")


def _penguin_counts() -> set[int]:
    """The row counts this lesson prints for `penguins` (a number typed from the page)."""
    from course import datasets

    penguins = datasets.load("penguins")
    return {len(penguins), int((penguins["species"] == "Adelie").sum())}


def form_two_year(n_two_year) -> None:
    expect(not callable(n_two_year),
           "`n_two_year` holds the method itself, not its result: an action must be called, with ()")
    expect(isinstance(n_two_year, int) and not isinstance(n_two_year, bool),
           f"expected `n_two_year` to be a Python int (what `count()` returns); got {describe(n_two_year)}")


def judge_two_year(n_two_year) -> None:
    churn = _churn()
    if n_two_year == len(churn):
        raise CheckFailed("you counted every customer: keep only the rows whose contract is a two-year one, "
                          "then count")
    if n_two_year == 0:
        raise CheckFailed("your filter matched no customer: compare with a value `contract` really holds "
                          "(list them with `distinct()`; spelling and case count)")
    if n_two_year in _penguin_counts():
        raise CheckFailed("that number counts penguins, printed above: count the rows of `churn`")
    expect(n_two_year == int((churn["contract"] == "Two year").sum()),
           "that is not the number of customers whose `contract` is the two-year one: "
           "filter on that one value, then count")


# --- Exercise 2: pick the compute ---------------------------------------------------------------

COMPUTE_WHY_WRONG = {
    "A": "a SQL warehouse runs SQL queries, not a notebook's Python: it cannot run `Pipeline.fit()` or train XGBoost",
    "B": "a single-node cluster runs Spark on one machine: it does not spread 400 GB of training over workers",
    "D": "Databricks Runtime for ML is not supported on standard access mode; it needs dedicated access mode",
    "E": "Spark ML would run there (through Spark Connect, since Runtime 17.0), but the standard runtime "
         "does not pre-install XGBoost or LightGBM, and the team installs nothing",
}


def form_compute(compute_choice) -> None:
    expect(isinstance(compute_choice, str),
           f"expected `compute_choice` to be one letter as a string, such as \"A\"; got {describe(compute_choice)}")
    expect(compute_choice.strip().upper() in COMPUTE_OPTIONS,
           "answer with one of the letters A, B, C, D or E, as a string")


def judge_compute(compute_choice) -> None:
    letter = compute_choice.strip().upper()
    if letter != "C":
        raise CheckFailed(f"`{letter}` is not the compute for this team: {COMPUTE_WHY_WRONG[letter]}")


# --- Exercise 3: true or false? -----------------------------------------------------------------

STATEMENTS_KEY = {"A", "E", "G"}
STATEMENTS_WHY_WRONG = {
    "B": "the standard runtime (17.3 LTS, for instance) already ships scikit-learn and "
         "mlflow-skinny; the ML runtime adds XGBoost, LightGBM, PyTorch and the like",
    "C": "a SQL warehouse runs SQL queries, whatever its size: it cannot fit a Spark ML pipeline",
    "D": "Databricks Runtime for ML needs dedicated (formerly single user) access mode",
    "F": "the legacy \"Standard\" cluster mode (multi-node, as opposed to single node) "
         "and the \"Standard\" access mode (formerly shared) are different settings that share a name",
}
STATEMENTS_WHY_MISSING = {
    "A": "a statement about what the ML runtime pre-installs is true",
    "E": "a statement about where Spark ML runs since Runtime 17.0 is true",
    "G": "a statement about what a single-node cluster can and cannot do is true",
}


def _letters(true_statements) -> set[str]:
    return {str(letter).strip().upper() for letter in true_statements}


def form_statements(true_statements) -> None:
    expect_type(true_statements, (set, frozenset), "`true_statements`")
    unknown = sorted(_letters(true_statements) - set(STATEMENT_OPTIONS))
    expect(not unknown, f"{unknown} are not statement letters: use the letters A to G")
    expect(len(true_statements) > 0, "at least one statement is true")


def judge_statements(true_statements) -> None:
    expect_choice(_letters(true_statements), STATEMENTS_KEY, STATEMENTS_WHY_WRONG, STATEMENTS_WHY_MISSING,
                  "`true_statements`")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1 (warm-up): customers on a two-year contract",
    syllabus=(), names=("n_two_year",), form=form_two_year, judge=judge_two_year,
    hints=("Keep the rows you want with a transformation, then ask for a number with an action: "
           "the action hands back a plain Python int.",
           "`DataFrame.filter(condition)` keeps rows and `count()` counts them. To see the values a "
           "column holds: `churn.select(\"contract\").distinct().show()`.",
           "`churn.filter(F.col(\"contract\") == \"...\").count()`: copy the value exactly as "
           "`distinct()` shows it, then call the action with its parentheses."),
    solution_code='n_two_year = churn.filter(F.col("contract") == "Two year").count()',
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: pick the compute",
    syllabus=("D1.clusters", "D1.ml-runtime", "S1.02"), names=("compute_choice",),
    form=form_compute, judge=judge_compute, guessable=True,
    hints=("Rule out what cannot run Python and Spark ML at all, then what cannot spread the work over "
           "several machines.",
           "Which libraries does the team want without installing them, and which runtime ships them?",
           "That runtime supports one access mode in a Unity Catalog workspace: section 3.2's table says which."),
    solution_code='compute_choice = "C"',
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: true or false?",
    syllabus=("D1.ml-runtime", "D1.clusters", "S1.02"), names=("true_statements",),
    form=form_statements, judge=judge_statements, guessable=True,
    hints=("Read each statement against the comparison table and the exam traps of section 3.",
           "Check the library statements against section 3.1 (what each runtime ships), the access-mode "
           "ones against section 3.2, and beware of the two meanings of \"Standard\".",
           "Exactly three statements are true; a SQL warehouse appears in none of them."),
    solution_code='true_statements = {"A", "E", "G"}',
)
