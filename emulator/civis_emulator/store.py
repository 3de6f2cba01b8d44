"""Emulator state: JSON documents, id counters and run logs in SQLite (stdlib).

In memory without a data directory; ``<data_dir>/emulator.sqlite3`` otherwise, so that state survives a
restart. Every method is thread-safe (one connection behind a lock; the operations are short).

Documents are grouped by ``kind`` ("jobs", "runs", "credentials", "json_values", "templates", ...), keyed
by integer id and optionally by a ``parent`` id (a run's job), which is indexed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, id INTEGER NOT NULL, parent INTEGER, body TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS docs_parent ON docs (kind, parent);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL, created_at TEXT NOT NULL,
    message TEXT NOT NULL, level TEXT NOT NULL, visible_at REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run_id, id);
"""


class Store:
    def __init__(self, data_dir: str | None = None):
        self.data_dir = data_dir
        if data_dir:
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, "emulator.sqlite3")
        else:
            path = ":memory:"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if data_dir:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_log_visibility()
        self._closed = False

    @property
    def lock(self) -> threading.RLock:
        """Hold it to make several store calls atomic (it is re-entrant)."""
        return self._lock

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    # -- ids -------------------------------------------------------------------------------------
    def next_id(self, counter: str) -> int:
        with self._lock:
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (counter,),
            )
            return self._db.execute("SELECT value FROM counters WHERE name = ?", (counter,)).fetchone()[0]

    # -- documents -------------------------------------------------------------------------------
    def put(self, kind: str, doc: dict, parent: int | None = None) -> dict:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO docs (kind, id, parent, body) VALUES (?, ?, ?, ?)",
                (kind, int(doc["id"]), parent, json.dumps(doc)),
            )
        return doc

    def get(self, kind: str, doc_id: int) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, kind: str, doc_id: int, fn: Callable[[dict], Any]) -> dict | None:
        """Read-modify-write one document atomically; ``fn`` mutates the dict in place."""
        with self._lock:
            row = self._db.execute(
                "SELECT body, parent FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            if not row:
                return None
            doc = json.loads(row[0])
            fn(doc)
            self.put(kind, doc, row[1])
            return doc

    def delete(self, kind: str, doc_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id))

    def all(self, kind: str, parent: int | None = None) -> list[dict]:
        with self._lock:
            if parent is None:
                rows = self._db.execute("SELECT body FROM docs WHERE kind = ? ORDER BY id", (kind,)).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT body FROM docs WHERE kind = ? AND parent = ? ORDER BY id", (kind, parent)
                ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- logs ------------------------------------------------------------------------------------
    # A line's id is fixed when it is emitted; it is served only from ``visible_at`` (epoch seconds) on,
    # as the platform's log shipper publishes lines late and out of id order (see runners/process.py).
    def _add_log_visibility(self) -> None:
        """Data directories written before ``visible_at`` existed: their lines are all published."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(logs)")}
        if "visible_at" not in columns:
            self._db.execute("ALTER TABLE logs ADD COLUMN visible_at REAL NOT NULL DEFAULT 0")

    def add_log(self, run_id: int, created_at: str, message: str, level: str, visible_at: float = 0.0) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO logs (run_id, created_at, message, level, visible_at) VALUES (?, ?, ?, ?, ?)",
                (run_id, created_at, message, level, visible_at),
            )
            assert cur.lastrowid is not None  # set by every INSERT
            return cur.lastrowid

    def get_logs(self, run_id: int, last_id: int | None, limit: int) -> list[dict]:
        """Published entries. ``last_id`` given: those above it, oldest id first. Otherwise the newest
        ``limit``, newest first."""
        now = time.time()
        with self._lock:
            if last_id is not None:
                rows = self._db.execute(
                    "SELECT id, created_at, message, level FROM logs WHERE run_id = ? AND id > ? "
                    "AND visible_at <= ? ORDER BY id LIMIT ?",
                    (run_id, last_id, now, limit),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT id, created_at, message, level FROM logs WHERE run_id = ? AND visible_at <= ? "
                    "ORDER BY created_at DESC, id DESC LIMIT ?",
                    (run_id, now, limit),
                ).fetchall()
        return [{"id": r[0], "createdAt": r[1], "message": r[2], "level": r[3]} for r in rows]

    def has_unpublished_logs(self, run_id: int) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM logs WHERE run_id = ? AND visible_at > ? LIMIT 1", (run_id, time.time())
            ).fetchone()
        return row is not None

    def publish_logs(self, run_id: int, first_at: float, spacing: float = 0.0) -> int:
        """Reschedule the run's unpublished lines: the newest at ``first_at``, each older one ``spacing``
        seconds after the one above it (so lower ids appear after higher ones). Returns how many."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM logs WHERE run_id = ? AND visible_at > ? ORDER BY id DESC",
                (run_id, time.time()),
            ).fetchall()]
            self._db.executemany("UPDATE logs SET visible_at = ? WHERE id = ?",
                                 [(first_at + i * spacing, log_id) for i, log_id in enumerate(ids)])
        return len(ids)

    def max_log_id(self, run_id: int) -> int | None:
        """The highest published id (the API's ``Civis-Max-Id``)."""
        with self._lock:
            return self._db.execute("SELECT MAX(id) FROM logs WHERE run_id = ? AND visible_at <= ?",
                                    (run_id, time.time())).fetchone()[0]
