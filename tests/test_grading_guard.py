"""The grading guard: tricks a submission could play on its own kernel gain it nothing.

Each case runs a small nbgrader notebook through ``GuardedExecute`` in a real IPython kernel (no
sandbox here: ``tests/test_sandbox.py`` tests that) and reads the grades as nbgrader does
(``determine_grade`` on the executed cells). Without the guard, each trick turns a wrong answer
into full marks (checked for the ones stock execution falls for)."""
from __future__ import annotations

import textwrap

import pytest
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute
from nbgrader.utils import determine_grade
from notebook_files import nbgrader_cell

from autograde.execute import GuardedExecute, imports_of, names_read


def notebook(*answers: str):
    """A setup cell, then per answer: the answer cell and a graded test (answer k sets ``x<k>`` to k;
    the test also reads the name the setup cell imported, and a builtin)."""
    cells = [new_code_cell("from course.checks import check_quiz_answer")]
    for number, answer in enumerate(answers, start=1):
        cells += [nbgrader_cell(f"answer{number}", textwrap.dedent(answer), solution=True),
                  nbgrader_cell(f"test{number}", f"_helper = check_quiz_answer\nassert isinstance(x{number}, object) "
                                                 f"and x{number} == {number}, 'x{number} is not {number}'", points=1)]
    return new_notebook(cells=cells)


def grade(nb, executor=GuardedExecute, tmp_path=None) -> tuple[list[float], list[str]]:
    run = executor(kernel_manager_class=AsyncKernelManager, timeout=60)
    run.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    scores = [determine_grade(c)[0] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    errors = [f"{o.ename}: {o.evalue}" for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    return scores, errors


TRICKS = {
    "an input transformer that blanks later cells":
        "x1 = 0\nget_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
    "an AST transformer":
        "import ast\nclass Blank(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return None\n"
        "get_ipython().ast_transformers.append(Blank())\nx1 = 0",
    "a custom exception handler that swallows failures":
        "x1 = 0\nget_ipython().set_custom_exc((Exception,), lambda *a, **k: None)",
    "a replaced showtraceback":
        "x1 = 0\nget_ipython().showtraceback = lambda *a, **k: None",
    "a trace function":
        "import sys\nx1 = 0\nsys.settrace(lambda *a: None)",
    "a pre_run_cell callback":
        "x1 = 0\nget_ipython().events.register('pre_run_cell', lambda info: None)",
    "a patched builtin":
        "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\nx1 = 0",
    "a patched __import__":
        "import builtins\n_real = builtins.__import__\nbuiltins.__import__ = lambda *a, **k: _real(*a, **k)\nx1 = 0",
    "a patched course helper":
        "import course.checks as checks\nchecks.check_quiz_answer = lambda *a, **k: None\nx1 = 0",
    "a replaced course module":
        "import sys, types\nsys.modules['course.checks'] = types.ModuleType('course.checks')\nx1 = 0",
    "a rebound imported name":
        "def check_quiz_answer(*args, **kwargs):\n    return None\nx1 = 0",
    "a patched kernel method that skips asserts":
        "import ipykernel.ipkernel as k\n_run = k.IPythonKernel.do_execute\n"
        "async def _skip(self, code, *a, **kw):\n    return await _run(self, 'pass' if 'assert' in code else code, *a, **kw)\n"
        "k.IPythonKernel.do_execute = _skip\nx1 = 0",
    "a builtin shadowed by the notebook's own function":
        "def isinstance(*args):\n    return True\nx1 = 0",
    "replaced __builtins__":
        "import builtins, types\n_fake = types.ModuleType('fake')\n_fake.__dict__.update(vars(builtins))\n"
        "x1 = 0\n__builtins__ = _fake",
    "an answer equal to anything":
        "class Anything:\n    def __eq__(self, other):\n        return True\nx1 = Anything()",
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_trick_on_the_kernel_fails_every_later_test_and_is_named(trick, tmp_path):
    scores, errors = grade(notebook(TRICKS[trick], "x2 = 2"), tmp_path=tmp_path)
    assert scores == [0, 0], (scores, errors)
    assert errors and all(e.startswith("HooksTampered: the notebook changed how the kernel runs tests")
                          for e in errors), errors


@pytest.mark.parametrize("trick", ["an input transformer that blanks later cells",
                                   "a patched kernel method that skips asserts",
                                   "an answer equal to anything"])
def test_stock_execution_falls_for_the_trick(trick, tmp_path):
    """The reason for the guard: nbgrader's own Execute gives the wrong answer full marks."""
    scores, _ = grade(notebook(TRICKS[trick]), executor=Execute, tmp_path=tmp_path)
    assert scores == [1.0]


def test_honest_answers_and_plots_get_the_same_grades_as_stock_nbgrader(tmp_path):
    answers = ("import matplotlib.pyplot as plt\n%matplotlib inline\nplt.plot([1, 2]); plt.show()\nx1 = 1",
               "x2 = 20", "from course.checks import check_quiz_answer\nx3 = 3")
    guarded, errors = grade(notebook(*answers), tmp_path=tmp_path)
    stock, _ = grade(notebook(*answers), executor=Execute, tmp_path=tmp_path)
    assert guarded == stock == [1.0, 0, 1.0], errors
    assert errors == ["AssertionError: x2 is not 2"]


def test_a_cell_that_kills_the_kernel_costs_that_cell_only(tmp_path):
    scores, errors = grade(notebook("x1 = 1", "import os\nos._exit(1)", "x3 = 3 * x1"), tmp_path=tmp_path)
    assert scores == [1.0, 0, 1.0], errors   # x1 is there again after the restart
    assert errors[0] == "KernelDied: the kernel exited with code 1 while this cell ran"
    assert errors[1].startswith("NameError")   # the test of the crashed answer


def test_a_kernel_that_keeps_dying_stops_being_restarted(tmp_path):
    crash = "import os\nos._exit(3)"
    scores, errors = grade(notebook("x1 = 1", crash, crash, crash, "x5 = 5"), tmp_path=tmp_path)
    assert scores == [1.0, 0, 0, 0, 0]
    assert errors[-1] == "KernelDied: not run: the kernel died 3 times in this notebook"


def test_the_grader_reads_imports_and_names_from_cells():
    modules, names = imports_of("from pyspark.ml import Pipeline as P\nimport course.datasets\nimport os\n"
                                "from course.exercises.w1_supervised import q1")
    assert modules == {"pyspark.ml", "course.datasets", "course.exercises.w1_supervised"}
    assert names == {"P": ("pyspark.ml", "Pipeline"), "course": ("course", None),
                     "q1": ("course.exercises.w1_supervised", "q1")}
    assert names_read("_truth = 3\nassert answer == _truth") == ["_truth", "answer"]
    assert imports_of("def broken(:") == (set(), {})


def test_a_library_function_that_shadows_a_builtin_is_no_trick(tmp_path):
    """``from pyspark.sql.functions import *`` rebinds max and sum: lessons do it, tests read them."""
    nb = notebook("from pyspark.sql.functions import *\nx1 = 1")
    nb.cells[-1].source = "assert callable(max) and max is not __builtins__.max and x1 == 1"
    scores, errors = grade(nb, tmp_path=tmp_path)
    assert scores == [1.0], errors


POISON = ("import course.exercises.w1_unsupervised as judge\n"
          "judge._CACHE['bill'] = {2: 0.5}   # the reference w1-04-q2's check and hidden tests read\n"
          "from course.exercises.w1_orientation import STATEMENTS_KEY\n"
          "STATEMENTS_KEY.add('B')            # an answer key\n"
          "x1 = 1")


def poisoned_notebook():
    """The answer cell writes a fake reference into a check's cache and changes an answer key; the test
    passes only when both are what the course holds."""
    from course.exercises.w1_orientation import STATEMENTS_KEY

    nb = notebook(POISON)
    nb.cells[-1].source = ("from course.exercises.w1_unsupervised import _CACHE as _cache\n"
                           "from course.exercises.w1_orientation import STATEMENTS_KEY as _key\n"
                           f"assert 'bill' not in _cache and _key == {set(STATEMENTS_KEY)!r}, (_cache, _key)")
    return nb


def test_a_fake_reference_or_answer_key_written_into_the_course_is_put_back(tmp_path):
    """A hidden test that reads a reference the exercise module computed (and cached) must not read
    one the notebook wrote there: the guard puts the grading's data back before each test."""
    scores, errors = grade(poisoned_notebook(), tmp_path=tmp_path)
    assert scores == [1.0], errors
    stock, stock_errors = grade(poisoned_notebook(), executor=Execute, tmp_path=tmp_path)
    assert stock == [0] and "AssertionError" in stock_errors[0], stock_errors
