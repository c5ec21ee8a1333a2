"""How the suite is shared out between workers (see `work_unit` in conftest.py)."""
from conftest import work_unit


def test_a_notebooks_cells_stay_together_on_one_worker():
    units = {work_unit(f"source/week1-ml-fundamentals/02-spark-dataframes.ipynb::Cell {i}") for i in range(30)}
    assert units == {"source/week1-ml-fundamentals/02-spark-dataframes.ipynb"}


def test_an_ordinary_test_file_stays_whole():
    assert work_unit("tests/test_exam.py::test_draw[1]") == work_unit("tests/test_exam.py::test_score") == "tests/test_exam.py"


def test_each_lessons_notebook_test_is_its_own_unit():
    ids = ["tests/test_answer_catalogs.py::test_catalogued_answers_get_one_verdict[02-spark-dataframes]",
           "tests/test_answer_catalogs.py::test_catalogued_answers_get_one_verdict[03-metrics]",
           "tests/test_spark_connect.py::test_lesson_runs_on_spark_connect[03-metrics]",
           "tests/test_autograde.py::test_solution_gets_full_marks[week3-mlops]"]
    assert len({work_unit(i) for i in ids}) == len(ids)
