"""Conversation sessions kept server-side: a small SQLite file in the data directory, so that every worker
process of one server sees the same sessions; each expires after a time without use, and the oldest are
dropped beyond a size bound."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from indexer.model import RecordType
from search_api.conversation.timespan import TimeSpan
from search_api.conversation.understanding import Context, Intent, SubjectRef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, used REAL NOT NULL, turns INTEGER NOT NULL,
                                     context TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_used ON sessions(used);
"""


def _subject(data: Any) -> SubjectRef | None:
    return SubjectRef(**data) if data else None


def _time(data: Any) -> TimeSpan | None:
    if not data:
        return None
    return TimeSpan(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]), data["text"], data["label"])


def context_to_json(context: Context) -> str:
    data = asdict(context)
    for key in ("time", "pending_time"):
        if data[key]:
            data[key] = {**data[key], "start": data[key]["start"].isoformat(), "end": data[key]["end"].isoformat()}
    return json.dumps(data, ensure_ascii=False)


def context_from_json(text: str) -> Context:
    data = json.loads(text)
    return Context(
        subject=_subject(data.get("subject")),
        intent=Intent(data["intent"]) if data.get("intent") else None,
        record_type=RecordType(data["record_type"]) if data.get("record_type") else None,
        time=_time(data.get("time")), district=data.get("district", ""), department=data.get("department", ""),
        topic=data.get("topic", ""), pending=[SubjectRef(**s) for s in data.get("pending", [])],
        pending_intent=Intent(data["pending_intent"]) if data.get("pending_intent") else None,
        pending_record_type=RecordType(data["pending_record_type"]) if data.get("pending_record_type") else None,
        pending_time=_time(data.get("pending_time")))


class SessionStore:
    """Sessions by id, with a time-to-live and a bound on how many are kept."""

    def __init__(self, path: Path, ttl_seconds: float = 1800, max_sessions: int = 10000) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self.max_sessions = max_sessions
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def load(self, session_id: str | None) -> tuple[str, Context, int, bool]:
        """The session's id, context and turns so far, and whether it was found; an unknown or expired id
        starts a new session."""
        if session_id:
            row = self._db().execute("SELECT context, turns FROM sessions WHERE id = ? AND used >= ?",
                                     (session_id, time.time() - self.ttl)).fetchone()
            if row is not None:
                return session_id, context_from_json(row[0]), int(row[1]), True
        return secrets.token_urlsafe(16), Context(), 0, False

    def save(self, session_id: str, context: Context, turns: int) -> None:
        """Store the context after a turn, dropping expired sessions and the oldest beyond the bound."""
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR REPLACE INTO sessions (id, used, turns, context) VALUES (?, ?, ?, ?)",
                       (session_id, now, turns, context_to_json(context)))
            db.execute("DELETE FROM sessions WHERE used < ?", (now - self.ttl,))
            db.execute("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY used DESC LIMIT -1 "
                       "OFFSET ?)", (self.max_sessions,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM sessions").fetchone()[0])
