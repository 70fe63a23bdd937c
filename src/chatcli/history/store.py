"""The history database: open it, write to it, read from it.

One ``history.db`` (WAL, created private) holds conversations and their
messages in wire format, exactly as sent or received, so a conversation
replays into the next request unchanged. Each write is its own short
transaction, so two processes appending at once both land. The schema moves
forward by ``PRAGMA user_version``. Never stores the API key, nor the
credentials in a base URL.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from chatcli.errors import UsageError
from chatcli.history.opening import describe, open_database, schema_version
from chatcli.history.records import (
    AnswerUsage,
    Conversation,
    Entry,
    HistoryError,
    StoredMessage,
    conversation_from_row,
    entry_from_row,
    message_text,
    new_conversation_id,
    stored_object,
)
from chatcli.sanitize import whole_characters, without_userinfo

_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(message: Mapping[str, Any]) -> str:
    """A message as JSON text, readable as it is unless it holds lone surrogates (half of
    a character a gateway split): then escaped, so it still loads back the same."""
    text = json.dumps(message, ensure_ascii=False)
    return json.dumps(message) if _SURROGATE.search(text) else text


def _whole(text: str | None) -> str | None:
    """Text for a column: lone surrogates (which UTF-8 cannot hold) become U+FFFD."""
    return None if text is None else whole_characters(text)


class HistoryStore:
    """The history database; open it with ``HistoryStore.open(path)``.

    ``read_only`` says why the database cannot be written (None when it can):
    reading works all the same, and every write raises ``HistoryError``.
    ``notice`` is a warning about what is read, for the caller to show.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path, *,
                 read_only: str | None = None, notice: str | None = None) -> None:
        self._db = connection
        self.path = path
        self.read_only = read_only
        self.notice = notice

    @classmethod
    def open(cls, path: Path) -> HistoryStore:
        """Open the database at ``path``: created private, migrated if behind, read-only
        if it cannot be written."""
        opened = open_database(path)
        return cls(opened.connection, path, read_only=opened.read_only, notice=opened.notice)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken up front so writers queue, not fail."""
        if self.read_only is not None:
            raise HistoryError(f"history database {self.path} cannot be written"
                               f" ({self.read_only})")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(describe(self.path, exc)) from exc
        except (ValueError, TypeError, OverflowError) as exc:  # data no column can hold
            raise HistoryError(f"history database {self.path}: could not store this"
                               f" ({type(exc).__name__}: {exc})") from exc

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    # -- writing ----------------------------------------------------------

    def create_conversation(self, title: str, *, profile: str | None, base_url: str | None,
                            model: str | None, model_alias: str | None = None) -> str:
        """A new conversation's id; its base URL is kept without credentials."""
        conversation_id = new_conversation_id()
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, profile,"
                " base_url, model, model_alias) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, _whole(title), now, now, _whole(profile),
                 None if base_url is None else _whole(without_userinfo(base_url)),
                 _whole(model), _whole(model_alias)))
        return conversation_id

    def append(self, conversation_id: str, message: Mapping[str, Any], *,
               status: str = "complete", usage: Mapping[str, Any] | None = None,
               finish_reason: str | None = None, trace_id: str | None = None,
               time_to_first_token: float | None = None, duration: float | None = None,
               model: str | None = None, asked_model: str | None = None,
               sources: Sequence[str] | None = None) -> int:
        """Append one message (and index its text) in a transaction of its own; return its
        row id. ``model`` is the one an answer came from, ``asked_model`` the one a request
        asked for (the conversation's, from then on); ``sources``, of a user message, what
        its ``-f`` context came from."""
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, message, status, usage,"
                " finish_reason, trace_id, time_to_first_token, duration, created_at, model,"
                " sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, _whole(str(message.get("role", ""))), _json(message),
                 _whole(status), json.dumps(usage) if usage else None, _whole(finish_reason),
                 _whole(trace_id), time_to_first_token, duration, now, _whole(model),
                 _whole(json.dumps(list(sources))) if sources else None))
            row_id = int(cursor.lastrowid or 0)
            self._index(db, conversation_id, row_id, message)
            db.execute("UPDATE conversations SET updated_at = ?, model = COALESCE(?, model)"
                       " WHERE id = ?", (now, _whole(asked_model), conversation_id))
        return row_id

    @staticmethod
    def _index(db: sqlite3.Connection, conversation_id: str, row_id: int,
               message: Mapping[str, Any]) -> None:
        text = whole_characters(message_text(message))
        if text:
            db.execute("INSERT INTO message_text (text, conversation_id, message_id)"
                       " VALUES (?, ?, ?)", (text, conversation_id, row_id))

    def set_outcome(self, row_id: int, outcome: Mapping[str, Any]) -> None:
        """What became of a stored answer afterwards (a shell command run or not)."""
        with self._write() as db:
            db.execute("UPDATE messages SET outcome = ? WHERE id = ?",
                       (json.dumps(dict(outcome)), row_id))

    def mark(self, row_id: int, status: str) -> None:
        """Change a stored message's status (a user message whose request got no answer)."""
        with self._write() as db:
            db.execute("UPDATE messages SET status = ? WHERE id = ?", (_whole(status), row_id))

    def put_system(self, conversation_id: str, message: Mapping[str, Any]) -> bool:
        """Make ``message`` the conversation's system message, first, as it is sent: the
        first row replaced if it is one, else put before the rest. True if it was added."""
        with self._write() as db:
            rows = db.execute("SELECT id, role FROM messages WHERE conversation_id = ?"
                              " ORDER BY id", (conversation_id,)).fetchall()
            if rows and rows[0][1] == "system":
                db.execute("UPDATE messages SET message = ? WHERE id = ?",
                           (_json(message), rows[0][0]))
                db.execute("DELETE FROM message_text WHERE message_id = ?", (rows[0][0],))
                self._index(db, conversation_id, rows[0][0], message)
                return False
            now = time.time()
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, message, created_at)"
                " VALUES (?, 'system', ?, ?)", (conversation_id, _json(message), now))
            self._index(db, conversation_id, int(cursor.lastrowid or 0), message)
            for old_id, _ in rows:  # the rest move after it, in their order
                moved = db.execute(
                    "INSERT INTO messages (conversation_id, role, message, status, usage,"
                    " finish_reason, trace_id, time_to_first_token, duration, created_at, model,"
                    " sources) SELECT conversation_id, role, message, status, usage,"
                    " finish_reason, trace_id, time_to_first_token, duration, created_at,"
                    " model, sources"
                    " FROM messages WHERE id = ?", (old_id,))
                db.execute("UPDATE message_text SET message_id = ? WHERE message_id = ?",
                           (moved.lastrowid, old_id))
                db.execute("DELETE FROM messages WHERE id = ?", (old_id,))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                       (now, conversation_id))
        return True

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

    def _conversations(self, where: str, args: Sequence[Any]) -> list[Conversation]:
        rows = self._read(
            "SELECT c.id, c.title, c.created_at, c.updated_at, c.profile, c.base_url, c.model,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),"
            " last.role, last.status, c.model_alias"
            " FROM conversations c LEFT JOIN messages last ON last.id ="
            " (SELECT MAX(id) FROM messages m WHERE m.conversation_id = c.id)"
            f" {where}", args)
        return [conversation_from_row(row) for row in rows]

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """Conversations, most recently updated first."""
        return self._conversations("ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?",
                                   (-1 if limit is None else limit,))

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
        return self._conversations("WHERE c.id = ?", (rows[0][0],))[0]

    def transcript(self, conversation_id: str) -> list[Entry]:
        """Every stored row of a conversation, in order; a row that is not a message
        is a ``DamagedMessage``."""
        rows = self._read(
            "SELECT message, status, created_at, usage, finish_reason, trace_id,"
            " time_to_first_token, duration, model, outcome, sources FROM messages"
            " WHERE conversation_id = ?"
            " ORDER BY id", (conversation_id,))
        return [entry_from_row(number, row) for number, row in enumerate(rows, start=1)]

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation as it replays: its messages, damaged rows and user messages
        that got no answer left out."""
        return [e for e in self.transcript(conversation_id)
                if isinstance(e, StoredMessage) and not e.unanswered]

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

    def answers(self, since: float = 0.0) -> list[AnswerUsage]:
        """Every stored answer since ``since`` (epoch seconds) that reported its usage."""
        rows = self._read(
            "SELECT m.created_at, m.conversation_id, c.model, m.model, c.profile, m.usage"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.role = 'assistant' AND m.usage IS NOT NULL AND m.created_at >= ?"
            " ORDER BY m.id", (since,))
        found = []
        for created, conversation, model, answered_by, profile, raw in rows:
            usage = stored_object(raw)
            if usage is not None and isinstance(created, int | float):
                found.append(AnswerUsage(float(created), str(conversation), _name(model),
                                         _name(answered_by), _name(profile), usage))
        return found


def _name(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
