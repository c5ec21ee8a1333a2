"""Exercise checks: what a notebook's visible test cell calls.

A lesson module defines its exercises (see ``course/exercises/``)::

    q1 = Exercise(
        id="01-orientation.q1", title="Exercise 1: count the rows",
        syllabus=("D1.clusters",), names=("n_rows",),
        form=form_row_count, judge=judge_row_count,
        hints=("concept", "API", "skeleton"), solution_code="n_rows = ...")

and the notebook uses it Kaggle-style::

    q1.check()      # reads `n_rows` from the notebook; "Correct" only when it is right
    q1.hint()       # the next hint, one tier at a time
    q1.solution()   # the worked answer (hidden in classroom mode)

``check()`` says "Correct" only when the judge, which applies the same standard as the hidden
tests, accepted the answer; otherwise it raises ``CheckFailed`` naming the mistake without the
answer, so nbgrader gives a graded check cell no points. Inside IPython the failure shows as one
short message rather than a traceback. In classroom mode (``COURSE_MODE=classroom``) a
*guessable* exercise (a few option letters) is only checked for form. Every check, hint and
solution is recorded in the progress store, where ``correct`` is true only for a judged answer;
nothing is recorded while nbgrader grades.
"""
from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from course import progress


class CheckFailed(AssertionError):
    """The answer is wrong; the message says what is wrong without giving the answer."""

    icon = "✘"


class NotAttempted(CheckFailed):
    """The exercise's names are not defined yet (or still hold ``...``)."""

    icon = "…"


def classroom_mode() -> bool:
    """In a classroom (COURSE_MODE=classroom) solutions stay hidden and guessable keys untold."""
    return os.environ.get("COURSE_MODE", "").lower() == "classroom"


def being_graded() -> bool:
    """True while ``nbgrader autograde`` runs the notebook (nbgrader sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


# --- helpers for checkers: each raises CheckFailed with a learner-facing message ---------------

def describe(value) -> str:
    """A short, answer-free description of a value's type ("a pandas DataFrame", "None")."""
    if value is None:
        return "None"
    module = type(value).__module__.split(".")[0]
    name = type(value).__name__
    if module == "pandas" and name == "DataFrame":
        return "a pandas DataFrame"
    if module == "pyspark" and name == "DataFrame":
        return "a Spark DataFrame"
    if module in {"builtins"}:
        return f"a {name}"
    return f"a {module} {name}"


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_type(value, types: type | tuple[type, ...], what: str) -> None:
    types = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, types):
        wanted = " or ".join(t.__name__ for t in types)
        raise CheckFailed(f"expected {what} to have type {wanted}; got {describe(value)}")


def expect_spark_dataframe(value, what: str):
    from pyspark.sql import DataFrame

    expect_type(value, DataFrame, what)
    return value


def expect_columns(df, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CheckFailed(f"{what} has no column {', '.join(f'`{c}`' for c in missing)}")


def expect_vector_column(df, column: str, what: str) -> None:
    expect_columns(df, [column], what)
    kind = dict(df.dtypes)[column]
    if kind != "vector":
        raise CheckFailed(f"expected a vector column `{column}` in {what}; it holds `{kind}` values")


def fitted_stages(model) -> list:
    """The fitted stages of a PipelineModel, nested pipelines flattened (for judging a pipeline
    whatever way the learner nested it)."""
    from pyspark.ml import PipelineModel

    found = []
    for stage in model.stages:
        found += fitted_stages(stage) if isinstance(stage, PipelineModel) else [stage]
    return found


def assembled_columns(model) -> set[str]:
    """Every input column of every VectorAssembler in a fitted pipeline."""
    from pyspark.ml.feature import VectorAssembler

    return {c for s in fitted_stages(model) if isinstance(s, VectorAssembler) for c in s.getInputCols()}


def expect_choice(answer, key, why_wrong: dict[str, str], why_missing: dict[str, str], what: str) -> None:
    """Judge a set of options against ``key``. A wrong pick is named, with why it is wrong
    (``why_wrong[option]``); a missing one is never named: ``why_missing[option]`` describes it
    without saying which it is ("a method that hands back one Row is missing")."""
    picked, key = set(answer), set(key)
    wrong = sorted(picked - key)
    if wrong:
        raise CheckFailed(f"{what}: `{wrong[0]}` does not belong: {why_wrong.get(wrong[0], 're-read the section')}")
    missing = sorted(key - picked)
    if missing:
        more = f" ({len(missing)} picks are missing in all)" if len(missing) > 1 else ""
        raise CheckFailed(f"{what}: {why_missing.get(missing[0], 'a right option is missing')}{more}")


# --- the exercise -------------------------------------------------------------------------

@dataclass
class Exercise:
    """One graded exercise of a lesson: its answer's names, how it is judged, hints, solution."""

    id: str
    """``<lesson-file-stem>.qN``: stable across reordering; progress events are keyed by it."""
    title: str
    """Shown in every message: ``"Exercise 1: listings per room type"``."""
    syllabus: tuple[str, ...]
    """Concept and objective ids of ``course/syllabus/objectives.yaml`` the exercise practises."""
    names: tuple[str, ...]
    """The variables the learner defines; ``...`` (the scaffold's placeholder) counts as undefined."""
    judge: Callable[..., str | None]
    """Receives the answer (``names`` and ``context`` as keywords) and raises ``CheckFailed``
    naming the mistake, by the same standard as the hidden tests. Returns None or a short note."""
    form: Callable[..., None] | None = None
    """Optional: raises ``CheckFailed`` for a malformed answer (wrong type, unknown option)
    without looking at the key. Runs before ``judge``; for a guessable exercise it is all that
    runs in classroom mode."""
    guessable: bool = False
    """True when trying answers would find the key (a few letters, a small integer). In classroom
    mode the check then only says the answer is well formed: the hidden tests grade it."""
    context: tuple[str, ...] = ()
    """Names the lesson's own cells define and the judge needs (``sweep``): when one is missing the
    learner is told to run the lesson cells above, not to define it."""
    hints: tuple[str, ...] = ()
    """From the concept, to the API, to a skeleton; the last one is still not the solution."""
    solution_code: str = ""
    """The worked answer, the same code as the source notebook's solution region."""
    _hints_shown: int = field(default=0, repr=False)

    def _values(self, namespace: dict) -> dict:
        missing = [n for n in self.names if n not in namespace or namespace[n] is Ellipsis]
        if missing:
            raise NotAttempted(
                f"{self.title}: not attempted yet. Define {', '.join(f'`{n}`' for n in missing)} "
                "in the cell above, run it, then run this check again."
            )
        absent = [n for n in self.context if n not in namespace]
        if absent:
            raise NotAttempted(
                f"{self.title}: run the lesson's cells above first "
                f"({', '.join(f'`{n}`' for n in absent)} is defined there), then this check again."
            )
        return {n: namespace[n] for n in (*self.names, *self.context)}

    def check(self, namespace: dict | None = None) -> None:
        """Check the learner's answer, read from the calling notebook's globals.

        Prints "Correct" only when ``judge`` accepted the answer. In classroom mode a guessable
        exercise is only checked for form, and the message says it will be graded."""
        if namespace is None:
            namespace = inspect.currentframe().f_back.f_globals
        try:
            values = self._values(namespace)
            only_form = self.guessable and classroom_mode() and not being_graded()
            try:
                # A library warning while judging would reach stderr, and nbgrader gives a graded
                # cell that writes there zero points: the learner's answer is not to blame.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if self.form is not None:
                        self.form(**values)
                    note = None if only_form else self.judge(**values)
            except CheckFailed:
                raise
            except Exception as exc:  # the answer broke the judge: say how, not the answer
                raise CheckFailed(f"checking your answer raised {type(exc).__name__}: {exc}") from None
        except NotAttempted:
            _record("check", self.id, None, {"status": "not attempted"})
            raise
        except CheckFailed as failure:
            _record("check", self.id, False, {"status": "wrong", "message": str(failure)})
            raise CheckFailed(f"{self.title}: {failure}") from None
        ending = "" if self.title.endswith(("?", ".", "!")) else "."
        if only_form:
            _record("check", self.id, None, {"status": "well formed"})
            print(f"✔ Well formed: {self.title}{ending} Whether it is right is decided when your "
                  "notebook is graded.")
            return
        _record("check", self.id, True, {"status": "correct"})
        print(f"✔ Correct: {self.title}{ending}" + (f" {note}" if note else ""))

    def hint(self, level: int | None = None) -> None:
        """Show the next hint (or hint number ``level``)."""
        if not self.hints:
            print("No hint for this one: re-read the section above the exercise.")
            return
        if level is None:
            level = min(self._hints_shown + 1, len(self.hints))
        level = max(1, min(level, len(self.hints)))
        self._hints_shown = max(self._hints_shown, level)
        _record("hint", self.id, None, {"level": level})
        more = " (that was the last hint)" if level == len(self.hints) else f" (`.hint()` again for hint {level + 1})"
        print(f"Hint {level} of {len(self.hints)}: {self.hints[level - 1]}{more}")

    def solution(self) -> None:
        """Show the worked solution, except in classroom mode and while being graded."""
        if classroom_mode() or being_graded():
            print("Solutions are hidden in classroom mode: ask your instructor, or use .hint().")
            return
        _record("solution", self.id, None, {})
        print(f"Solution: {self.title}\n\n{self.solution_code.strip()}")


def _record(kind: str, item: str, correct: bool | None, detail: dict) -> None:
    """Record a learner's event; nothing is recorded while nbgrader grades a submission (the
    grader's data folder is not the student's)."""
    from course.tracking import notebook_name

    if being_graded():
        return
    try:
        progress.record(kind, item, notebook=notebook_name(), correct=correct, detail=detail)
    except Exception:  # progress is a convenience: never let it break a check
        pass


def _show_check_failure(shell, etype, value, tb, tb_offset=None):
    """IPython handler: a failed check shows as one line, still an error for nbgrader."""
    lines = [f"{getattr(etype, 'icon', '✘')} {value}"]
    shell._showtraceback(etype, value, lines)
    return lines


def _install_ipython_handler() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CheckFailed,), _show_check_failure)


_install_ipython_handler()


# --- quiz answers: a set of option letters ------------------------------------------------

def check_quiz_answer(name: str, choose: int, letters: str, namespace: dict | None = None) -> None:
    """Visible check of a quiz notebook answer: is it a set of ``choose`` valid letters?

    It says nothing about which letters are right: in a graded quiz the key is in the hidden
    tests. For immediate feedback, practise with ``course quiz`` or ``course.exam_widgets``.
    """
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    title = f"`{name}`"
    try:
        if name not in namespace or namespace[name] is Ellipsis:
            raise NotAttempted(f"{title}: not attempted yet. Write e.g. {name} = {{\"B\"}} in the cell above and run it.")
        value = namespace[name]
        if not isinstance(value, (set, frozenset)):
            raise CheckFailed(f"{title} should be a set of letters such as {{\"B\"}}; got {describe(value)}")
        cleaned = {str(v).strip().upper() for v in value}
        bad = sorted(cleaned - set(letters))
        if bad:
            raise CheckFailed(f"{title}: {', '.join(bad)} is not an option here (options {', '.join(letters)})")
        if len(cleaned) != choose:
            raise CheckFailed(f"{title}: this question asks for {choose} letter{'s' if choose > 1 else ''}; "
                              f"you gave {len(cleaned)}")
    except CheckFailed as failure:
        _record("check", name, None, {"status": type(failure).__name__})
        raise
    print(f"✔ {name} is a well-formed answer (it is graded when your notebook is collected).")
