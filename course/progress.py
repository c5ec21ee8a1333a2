"""The learner's progress: one sqlite file of events in the course data folder.

Every check, hint, solution shown, quiz answer, exam attempt and self-grading is an event. Two kernels may
write at once (write-ahead logging and a busy timeout make that safe). The schema carries a
version so later releases of the course can migrate old files instead of losing them.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course import paths

SCHEMA_VERSION = 1
KINDS = ("check", "hint", "solution", "quiz_answer", "exam_attempt", "grade")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        REAL    NOT NULL,
    kind      TEXT    NOT NULL,
    item      TEXT    NOT NULL,
    notebook  TEXT,
    correct   INTEGER,
    detail    TEXT
);
CREATE INDEX IF NOT EXISTS events_item ON events (item);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind);
"""


class ProgressError(RuntimeError):
    """The progress file cannot be used (for example it was written by a newer course)."""


@dataclass(frozen=True)
class Event:
    at: float
    kind: str
    item: str
    notebook: str | None
    correct: bool | None
    detail: dict


def default_path() -> Path:
    return paths.data_dir() / "progress.sqlite"


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = Path(path or default_path())
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        _migrate(conn)
        yield conn
    finally:
        conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, _SCHEMA.split(";")):
            conn.execute(statement)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise ProgressError(
                f"The progress file was written by a newer course (schema {row[0]}, this course "
                f"reads {SCHEMA_VERSION}): update the course with `make lab`; the file is kept as is."
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def schema_version(path: Path | None = None) -> int:
    with connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])


def record(kind: str, item: str, *, notebook: str | None = None, correct: bool | None = None,
           detail: dict | None = None, path: Path | None = None) -> None:
    """Append one event. ``kind`` is one of KINDS; ``item`` names the exercise or question."""
    if kind not in KINDS:
        raise ValueError(f"unknown progress event kind {kind!r}; expected one of {', '.join(KINDS)}")
    payload = json.dumps(detail or {}, sort_keys=True, default=str)
    flag = None if correct is None else int(bool(correct))
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO events (at, kind, item, notebook, correct, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), kind, item, notebook, flag, payload),
        )


def events(kind: str | None = None, item: str | None = None, path: Path | None = None) -> list[Event]:
    """Events in the order they were written, optionally filtered by kind and item."""
    query, args = "SELECT at, kind, item, notebook, correct, detail FROM events", []
    clauses = []
    if kind:
        clauses.append("kind = ?")
        args.append(kind)
    if item:
        clauses.append("item = ?")
        args.append(item)
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    with connect(path) as conn:
        rows = conn.execute(query + " ORDER BY id", args).fetchall()
    return [Event(at, k, i, nb, None if c is None else bool(c), json.loads(d or "{}"))
            for at, k, i, nb, c, d in rows]


EXPORT_FORMAT = "ml-associate-course progress"


def export(target: Path, path: Path | None = None) -> int:
    """Write every event to ``target`` as JSON (to keep, or to move to another machine); returns the
    number written. An existing file is not overwritten."""
    target = Path(target)
    if target.exists():
        raise ValueError(f"{target} already exists: choose a new file name (nothing was written)")
    rows = [{"at": e.at, "kind": e.kind, "item": e.item, "notebook": e.notebook, "correct": e.correct,
             "detail": e.detail} for e in events(path=path)]
    document = {"format": EXPORT_FORMAT, "schema_version": SCHEMA_VERSION, "events": rows}
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(document, indent=1, sort_keys=True, default=str), encoding="utf-8")
    partial.replace(target)
    return len(rows)


def _key(at, kind, item, notebook, correct, detail) -> tuple:
    return (round(float(at), 6), kind, item, notebook, None if correct is None else int(bool(correct)),
            json.dumps(detail or {}, sort_keys=True, default=str))


def import_events(source: Path, path: Path | None = None) -> tuple[int, int]:
    """Merge the events of an export into the store; an event already there (same time, kind,
    item, notebook, verdict and detail) is skipped, so importing twice adds nothing.
    Returns (added, skipped). A file that is not a course export is refused before anything is written."""
    source = Path(source)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise ValueError(f"{source} is not a progress export: {problem}") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{source} is not a progress export of this course (written by `course progress --export`)")
    if int(document.get("schema_version", 0)) > SCHEMA_VERSION:
        raise ProgressError(f"{source} was exported by a newer course: update the course with `make lab` first")
    rows = document.get("events")
    if not isinstance(rows, list):
        raise ValueError(f"{source} has no list of events")
    incoming = []
    for number, row in enumerate(rows, 1):
        try:
            if row["kind"] not in KINDS or not isinstance(row["item"], str):
                raise ValueError
            incoming.append(_key(row["at"], row["kind"], row["item"], row.get("notebook"),
                                 row.get("correct"), row.get("detail")))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{source}: event {number} is malformed; nothing was imported") from None
    added = 0
    with connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            have = {_key(at, k, i, nb, c, json.loads(d or "{}")) for at, k, i, nb, c, d in
                    conn.execute("SELECT at, kind, item, notebook, correct, detail FROM events")}
            for key in incoming:
                if key in have:
                    continue
                have.add(key)
                conn.execute("INSERT INTO events (at, kind, item, notebook, correct, detail) VALUES (?, ?, ?, ?, ?, ?)",
                             key)
                added += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return added, len(incoming) - added


def backup(path: Path | None = None) -> Path:
    """Copy the store, consistently even while kernels write, to ``backups/`` in the data folder."""
    source = Path(path or default_path())
    folder = source.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder / f"progress-{stamp}.sqlite"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"progress-{stamp}-{number}.sqlite"
    with connect(source) as conn, sqlite3.connect(target) as copy:
        conn.backup(copy)
    return target


def reset(path: Path | None = None) -> tuple[int, Path]:
    """Delete every event after a backup; returns (events deleted, backup file)."""
    saved = backup(path)
    with connect(path) as conn:
        deleted = conn.execute("DELETE FROM events").rowcount
    return deleted, saved
