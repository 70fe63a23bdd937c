"""The history database: open it, write to it, read from it.

One ``history.db`` (WAL, created private) holds conversations and their
messages in wire format, exactly as sent or received, so a conversation
replays into the next request unchanged. Each write is its own short
transaction, so two processes appending at once both land. The schema moves
forward by ``PRAGMA user_version``. Never stores the API key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chatcli.errors import UsageError
from chatcli.history.records import (
    Conversation,
    HistoryError,
    StoredMessage,
    message_text,
    new_conversation_id,
)

BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations, messages, and a full-text index of message text.
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        profile TEXT,
        base_url TEXT,
        model TEXT
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        message TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete',
        usage TEXT,
        finish_reason TEXT,
        trace_id TEXT,
        time_to_first_token REAL,
        duration REAL,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    CREATE INDEX conversations_by_update ON conversations(updated_at);
    CREATE VIRTUAL TABLE message_text USING fts5(
        text, conversation_id UNINDEXED, message_id UNINDEXED
    );
    """,
)


class HistoryStore:
    """The history database; open it with ``HistoryStore.open(path)``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> HistoryStore:
        """Open (creating it private, and migrating it) the database at ``path``."""
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000,
                                         isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL survives any crash of chatcli (only a power cut can
            # lose the last commits) and spares an fsync before every request.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            store = cls(connection, path)
            store._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {path}: {exc}") from exc
        return store

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken up front so writers queue, not fail."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    # -- writing ----------------------------------------------------------

    def create_conversation(self, title: str, *, profile: str | None, base_url: str | None,
                            model: str | None) -> str:
        conversation_id = new_conversation_id()
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, profile,"
                " base_url, model) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, title, now, now, profile, base_url, model))
        return conversation_id

    def append(self, conversation_id: str, message: Mapping[str, Any], *,
               status: str = "complete", usage: Mapping[str, Any] | None = None,
               finish_reason: str | None = None, trace_id: str | None = None,
               time_to_first_token: float | None = None, duration: float | None = None,
               model: str | None = None) -> None:
        """Append one message (and index its text) in a transaction of its own."""
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, message, status, usage,"
                " finish_reason, trace_id, time_to_first_token, duration, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, str(message.get("role", "")),
                 json.dumps(message, ensure_ascii=False), status,
                 json.dumps(usage) if usage else None, finish_reason, trace_id,
                 time_to_first_token, duration, now))
            text = message_text(message)
            if text:
                db.execute("INSERT INTO message_text (text, conversation_id, message_id)"
                           " VALUES (?, ?, ?)", (text, conversation_id, cursor.lastrowid))
            db.execute("UPDATE conversations SET updated_at = ?, model = COALESCE(?, model)"
                       " WHERE id = ?", (now, model, conversation_id))

    def delete(self, conversation_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM message_text WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def drop_last_exchange(self, conversation_id: str) -> int:
        """Remove the last user message and everything after it; return how many went."""
        with self._write() as db:
            row = db.execute("SELECT MAX(id) FROM messages WHERE conversation_id = ?"
                             " AND role = 'user'", (conversation_id,)).fetchone()
            if row[0] is None:
                return 0
            gone = db.execute("SELECT id FROM messages WHERE conversation_id = ? AND id >= ?",
                              (conversation_id, row[0])).fetchall()
            ids = [r[0] for r in gone]
            db.executemany("DELETE FROM message_text WHERE message_id = ?", [(i,) for i in ids])
            db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    # -- reading ----------------------------------------------------------

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """Conversations, most recently updated first."""
        rows = self._read(
            "SELECT c.id, c.title, c.created_at, c.updated_at, c.profile, c.base_url, c.model,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
            " FROM conversations c ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?",
            (-1 if limit is None else limit,))
        return [Conversation(*row) for row in rows]

    def latest(self) -> Conversation | None:
        found = self.conversations(limit=1)
        return found[0] if found else None

    def resolve(self, prefix: str) -> Conversation:
        """The conversation whose id is ``prefix`` or starts with it."""
        cleaned = prefix.strip().lower()
        if not cleaned or any(c not in "0123456789abcdef" for c in cleaned):
            raise UsageError(f"no conversation {prefix!r} (ids are hexadecimal)")
        rows = self._read("SELECT id FROM conversations WHERE id >= ? AND id < ? LIMIT 2",
                          (cleaned, cleaned + "g"))
        if not rows:
            raise UsageError(f"no conversation {prefix!r} (see `chatcli history list`)")
        if len(rows) > 1:
            raise UsageError(f"conversation id {prefix!r} is ambiguous; give more of it")
        return next(c for c in self.conversations() if c.id == rows[0][0])

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        rows = self._read(
            "SELECT message, status, created_at, usage, finish_reason, trace_id,"
            " time_to_first_token, duration FROM messages WHERE conversation_id = ?"
            " ORDER BY id", (conversation_id,))
        return [StoredMessage(json.loads(r[0]), r[1], r[2], json.loads(r[3]) if r[3] else None,
                              *r[4:]) for r in rows]

    def search(self, text: str, limit: int = 50) -> list[tuple[Conversation, str]]:
        """Conversations whose messages match ``text`` (FTS5), with a snippet of each match."""
        query = " ".join('"' + word.replace('"', '""') + '"' for word in text.split())
        if not query:
            raise UsageError("search needs some words")
        rows = self._read(
            "SELECT conversation_id, snippet(message_text, 0, '[', ']', '…', 12)"
            " FROM message_text WHERE message_text MATCH ? ORDER BY rank LIMIT ?",
            (query, limit))
        by_id = {c.id: c for c in self.conversations()}
        seen: dict[str, str] = {}
        for conversation_id, snippet in rows:
            seen.setdefault(conversation_id, " ".join(snippet.split()))
        return [(by_id[cid], snippet) for cid, snippet in seen.items() if cid in by_id]
