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
