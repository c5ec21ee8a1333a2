"""Exercise checks: what a notebook's visible test cell calls.

A lesson module defines its exercises (see ``course/exercises/``)::

    q1 = Exercise(
        id="w1.spark-ml-basics.q1", title="Assemble the features",
        syllabus=("D2.vector-assembler",), names=("assembler",),
        checker=check_assembler, hints=("...", "..."), solution="assembler = ...")

and the notebook uses it Kaggle-style::

    q1.check()      # reads `assembler` from the notebook; says what is wrong, never the answer
    q1.hint()       # the next hint, one tier at a time
    q1.solution()   # the worked answer (hidden in classroom mode)

``check()`` raises ``CheckFailed`` when the answer is wrong or missing, so nbgrader gives a
graded check cell no points; inside IPython the failure shows as one short message rather than
a traceback. Every check, hint and solution is recorded in the progress store.
"""
from __future__ import annotations

import inspect
import os
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
    """In a graded classroom (COURSE_MODE=classroom) solutions stay hidden."""
    return os.environ.get("COURSE_MODE", "").lower() == "classroom"


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
        raise CheckFailed(f"expected {what} to be a {wanted}; got {describe(value)}")


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


# --- the exercise -------------------------------------------------------------------------

@dataclass
class Exercise:
    id: str
    title: str
    syllabus: tuple[str, ...]
    names: tuple[str, ...]
    checker: Callable[..., str | None]
    hints: tuple[str, ...] = ()
    solution_code: str = ""
    _hints_shown: int = field(default=0, repr=False)

    def _values(self, namespace: dict) -> dict:
        missing = [n for n in self.names if n not in namespace or namespace[n] is Ellipsis]
        if missing:
            raise NotAttempted(
                f"{self.title}: not attempted yet. Define {', '.join(f'`{n}`' for n in missing)} "
                "in the cell above, run it, then run this check again."
            )
        return {n: namespace[n] for n in self.names}

    def check(self, namespace: dict | None = None) -> None:
        """Check the learner's answer, read from the calling notebook's globals."""
        if namespace is None:
            namespace = inspect.currentframe().f_back.f_globals
        try:
            values = self._values(namespace)
            try:
                note = self.checker(**values)
            except CheckFailed:
                raise
            except Exception as exc:  # the answer broke the checker: say how, not the answer
                raise CheckFailed(f"checking your answer raised {type(exc).__name__}: {exc}") from None
        except NotAttempted:
            _record("check", self.id, None, {"status": "not attempted"})
            raise
        except CheckFailed as failure:
            _record("check", self.id, False, {"message": str(failure)})
            raise CheckFailed(f"{self.title}: {failure}") from None
        _record("check", self.id, True, {})
        ending = "" if self.title.endswith(("?", ".", "!")) else "."
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
        """Show the worked solution, except in classroom mode."""
        if classroom_mode():
            print("Solutions are hidden in classroom mode: ask your instructor, or use .hint().")
            return
        _record("solution", self.id, None, {})
        print(f"Solution: {self.title}\n\n{self.solution_code.strip()}")


def _record(kind: str, item: str, correct: bool | None, detail: dict) -> None:
    from course.tracking import notebook_name

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
