import multiprocessing
import sqlite3

import pytest

from course import progress


def test_record_and_read_back(tmp_path):
    db = tmp_path / "p.sqlite"
    progress.record("check", "w1.ex1", notebook="w1-01", correct=False, detail={"msg": "wrong column"}, path=db)
    progress.record("check", "w1.ex1", notebook="w1-01", correct=True, path=db)
    progress.record("hint", "w1.ex1", detail={"level": 1}, path=db)
    checks = progress.events(kind="check", path=db)
    assert [e.correct for e in checks] == [False, True]
    assert checks[0].detail == {"msg": "wrong column"}
    assert len(progress.events(item="w1.ex1", path=db)) == 3


def test_schema_version_is_stored(tmp_path):
    assert progress.schema_version(tmp_path / "p.sqlite") == progress.SCHEMA_VERSION


def test_a_newer_file_is_refused_and_kept(tmp_path):
    db = tmp_path / "p.sqlite"
    progress.record("hint", "x", path=db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(progress.ProgressError, match="newer course"):
        progress.record("hint", "y", path=db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown progress event kind"):
        progress.record("cheat", "x", path=tmp_path / "p.sqlite")


def _writer(args):
    db, worker, count = args
    for i in range(count):
        progress.record("quiz_answer", f"q{worker}-{i}", correct=i % 2 == 0, path=db)
    return count


def test_concurrent_writers_lose_nothing(tmp_path):
    db = tmp_path / "p.sqlite"
    workers, each = 4, 60
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        written = sum(pool.map(_writer, [(db, w, each) for w in range(workers)]))
    found = progress.events(kind="quiz_answer", path=db)
    assert written == len(found) == workers * each
    assert len({e.item for e in found}) == workers * each
