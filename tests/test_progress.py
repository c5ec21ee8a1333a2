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


def _some_events(db):
    progress.record("check", "02-spark-dataframes.q1", notebook="w1-02", correct=False, detail={"status": "wrong"}, path=db)
    progress.record("check", "02-spark-dataframes.q1", notebook="w1-02", correct=True, detail={"status": "correct"}, path=db)
    progress.record("quiz_answer", "D1-001", correct=True, detail={"domain": "D1", "chosen": [0]}, path=db)


def test_export_then_import_restores_every_event_once(tmp_path):
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    _some_events(old)
    target = tmp_path / "backup.json"
    assert progress.export(target, path=old) == 3
    assert progress.import_events(target, path=new) == (3, 0)
    assert progress.import_events(target, path=new) == (0, 3)       # importing twice adds nothing
    assert [(e.kind, e.item, e.correct, e.detail) for e in progress.events(path=new)] == \
        [(e.kind, e.item, e.correct, e.detail) for e in progress.events(path=old)]


def test_import_merges_with_what_is_there(tmp_path):
    here, there = tmp_path / "here.sqlite", tmp_path / "there.sqlite"
    _some_events(there)
    progress.record("hint", "03-metrics.q2", detail={"level": 1}, path=here)
    progress.export(tmp_path / "there.json", path=there)
    assert progress.import_events(tmp_path / "there.json", path=here) == (3, 0)
    assert len(progress.events(path=here)) == 4


def test_export_never_overwrites_a_file(tmp_path):
    target = tmp_path / "mine.json"
    target.write_text("my notes")
    with pytest.raises(ValueError, match="already exists"):
        progress.export(target, path=tmp_path / "p.sqlite")
    assert target.read_text() == "my notes"


@pytest.mark.parametrize("content, message", [
    ("not json", "not a progress export"),
    ('{"events": []}', "not a progress export of this course"),
    ('{"format": "ml-associate-course progress", "schema_version": 1, "events": [{"kind": "cheat", "item": "x", "at": 1}]}',
     "event 1 is malformed"),
])
def test_a_bad_import_is_refused_and_writes_nothing(tmp_path, content, message):
    db = tmp_path / "p.sqlite"
    _some_events(db)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ValueError, match=message):
        progress.import_events(bad, path=db)
    assert len(progress.events(path=db)) == 3


def test_reset_keeps_a_backup_that_holds_every_event(tmp_path):
    db = tmp_path / "p.sqlite"
    _some_events(db)
    deleted, saved = progress.reset(path=db)
    assert deleted == 3 and progress.events(path=db) == []
    assert saved.parent == tmp_path / "backups"
    assert len(progress.events(path=saved)) == 3


def _importer(args):
    db, source = args
    return progress.import_events(source, path=db)[0]


def test_imports_and_writes_at_once_lose_nothing(tmp_path):
    db, other = tmp_path / "p.sqlite", tmp_path / "other.sqlite"
    for i in range(50):
        progress.record("hint", f"x{i}", detail={"level": 1}, path=other)
    progress.export(tmp_path / "other.json", path=other)
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map_async(_importer, [(db, tmp_path / "other.json")] * 2)
        written = sum(pool.map(_writer, [(db, w, 40) for w in range(2)]))
        added = sum(results.get())
    assert added == 50                       # the two imports together add each event once
    assert len(progress.events(path=db)) == 50 + written
