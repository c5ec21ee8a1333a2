import zipfile
from pathlib import Path

import pytest

from course import python_daemon


def _zip_with_version(path: Path, text: bytes) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pyspark/__init__.py", b"")
        archive.writestr("pyspark/version.py", text)
    return str(path)


def _installed(tmp_path: Path, text: bytes) -> str:
    site = tmp_path / "site"
    (site / "pyspark").mkdir(parents=True)
    (site / "pyspark" / "__init__.py").write_bytes(b"")
    (site / "pyspark" / "version.py").write_bytes(text)
    return str(site)


def test_a_zip_of_the_installed_pyspark_moves_behind_the_installation(tmp_path):
    site = _installed(tmp_path, b"__version__ = '4.3.0'\n")
    same = _zip_with_version(tmp_path / "pyspark.zip", b"__version__ = '4.3.0'\n")
    assert python_daemon.prefer_installed_packages([same, "/x", site]) == ["/x", site, same]


def test_a_zip_of_another_pyspark_keeps_its_place(tmp_path):
    site = _installed(tmp_path, b"__version__ = '4.3.0'\n")
    other = _zip_with_version(tmp_path / "pyspark.zip", b"__version__ = '4.2.0'\n")
    assert python_daemon.prefer_installed_packages([other, site]) == [other, site]


def test_without_an_installed_pyspark_the_zip_stays_first(tmp_path):
    archive = _zip_with_version(tmp_path / "pyspark.zip", b"__version__ = '4.3.0'\n")
    assert python_daemon.prefer_installed_packages([archive, str(tmp_path)]) == [archive, str(tmp_path)]


@pytest.mark.spark
def test_python_workers_import_the_installed_pyspark(spark):
    import pyspark
    from pyspark.sql.functions import udf

    @udf("string")
    def pyspark_location(_):
        import pyspark as worker_pyspark

        return worker_pyspark.__file__

    assert spark.conf.get("spark.python.daemon.module") == "course.python_daemon"
    location = spark.range(1).select(pyspark_location("id")).first()[0]
    assert ".zip" not in location
    assert location == pyspark.__file__
