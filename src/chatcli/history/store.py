"""The history database: open it, write to it, read from it.

One ``history.db`` (WAL, created private) holds conversations and their
messages in wire format, exactly as sent or received, so a conversation
replays into the next request unchanged. Each write is its own short
transaction, so two processes appending at once both land. The schema moves
forward by ``PRAGMA user_version``. Never stores the API key, nor the
credentials in a base URL. Messages form a tree (``branches``): a conversation
replays the path to its ``head``, and each message appended follows the head.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from chatcli.errors import UsageError
from chatcli.history import spent, summaries
from chatcli.history.branches import Tree, last_exchange, tree_of
from chatcli.history.copying import copy_branch, refuse_taken
from chatcli.history.opening import describe, open_database, schema_version
from chatcli.history.records import (
    AnswerUsage,
    Conversation,
    DamagedMessage,
    Entry,
    HistoryError,
    StoredMessage,
    checked_name,
    conversation_from_row,
    entry_from_row,
    message_text,
    new_conversation_id,
)
from chatcli.history.records import (
    column_text as _whole,
)
from chatcli.history.records import (
    message_json as _json,
)
from chatcli.sanitize import whole_characters, without_userinfo

T = TypeVar("T")


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

    def create_conversation(self, title: str, *, profile: str | None, base_url: str | None,
                            model: str | None, model_alias: str | None = None,
                            name: str | None = None) -> str:
        """A new conversation's id; its base URL is kept without credentials."""
        conversation_id, now = new_conversation_id(), time.time()
        name = None if name is None else checked_name(name)
        with self._write() as db:
            if name is not None:
                refuse_taken(db, name, conversation_id)
            db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, profile,"
                " base_url, model, model_alias, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, _whole(title), now, now, _whole(profile),
                 None if base_url is None else _whole(without_userinfo(base_url)),
                 _whole(model), _whole(model_alias), name))
        return conversation_id

    def rename(self, conversation_id: str, name: str) -> str:
        """Give a conversation ``name`` (checked, and free); return it as kept."""
        name = checked_name(name)
        with self._write() as db:
            refuse_taken(db, name, conversation_id)
            db.execute("UPDATE conversations SET name = ? WHERE id = ?", (name, conversation_id))
        return name

    def refuse_taken(self, name: str) -> str:
        """``name`` as it would be kept, or a usage error if it is bad or taken."""
        name = checked_name(name)
        try:
            refuse_taken(self._db, name, None)
        except sqlite3.Error as exc:
            raise HistoryError(describe(self.path, exc)) from exc
        return name

    def append(self, conversation_id: str, message: Mapping[str, Any], *,
               status: str = "complete", usage: Mapping[str, Any] | None = None,
               finish_reason: str | None = None, trace_id: str | None = None,
               time_to_first_token: float | None = None, duration: float | None = None,
               model: str | None = None, asked_model: str | None = None,
               sources: Sequence[str] | None = None, parent: int | None = None) -> int:
        """Append one message (and index its text) in a transaction of its own; return its
        row id. ``model`` is the one an answer came from, ``asked_model`` the one a request
        asked for (the conversation's, from then on); ``sources``, of a user message, what
        its ``-f`` context came from. It follows the head, unless ``parent`` names the row
        it follows (0: it starts the conversation), which starts a branch; either way it
        is the head from then on."""
        now = time.time()
        with self._write() as db:
            after = self._head(db, conversation_id) if parent is None else parent
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, message, status, usage,"
                " finish_reason, trace_id, time_to_first_token, duration, created_at, model,"
                " sources, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, _whole(str(message.get("role", ""))), _json(message),
                 _whole(status), json.dumps(usage) if usage else None, _whole(finish_reason),
                 _whole(trace_id), time_to_first_token, duration, now, _whole(model),
                 _whole(json.dumps(list(sources))) if sources else None, after))
            row_id = int(cursor.lastrowid or 0)
            self._index(db, conversation_id, row_id, message)
            db.execute("UPDATE conversations SET updated_at = ?, model = COALESCE(?, model),"
                       " head = ? WHERE id = ?",
                       (now, _whole(asked_model), row_id, conversation_id))
        return row_id

    @staticmethod
    def _head(db: sqlite3.Connection, conversation_id: str) -> int:
        """The row a message appended now follows (0: none, it starts the conversation), as
        ``branches.tree_of`` reads it, without reading every message."""
        head, latest, present = db.execute(
            "SELECT c.head, (SELECT MAX(id) FROM messages m WHERE m.conversation_id = c.id),"
            " EXISTS (SELECT 1 FROM messages m WHERE m.id = c.head AND m.conversation_id = c.id)"
            " FROM conversations c WHERE c.id = ?", (conversation_id,)).fetchone() or (
                None, None, 0)
        if head == 0:
            return 0
        return int(head) if present and head is not None else int(latest or 0)

    def set_head(self, conversation_id: str, row: int | None) -> None:
        """Make the branch ending at ``row`` the current one (None: start afresh)."""
        with self._write() as db:
            db.execute("UPDATE conversations SET head = ? WHERE id = ?",
                       (row or 0, conversation_id))

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

    def rewrite_answer(self, conversation_id: str, row_id: int, message: Mapping[str, Any],
                       *, status: str, usage: Mapping[str, Any] | None,
                       finish_reason: str | None, duration: float | None) -> None:
        """Put ``message`` in a stored answer's place (``--more`` joined the parts)."""
        with self._write() as db:
            db.execute("UPDATE messages SET message = ?, status = ?, usage = ?,"
                       " finish_reason = ?, duration = ? WHERE id = ?",
                       (_json(message), _whole(status), json.dumps(usage) if usage else None,
                        _whole(finish_reason), duration, row_id))
            db.execute("DELETE FROM message_text WHERE message_id = ?", (row_id,))
            self._index(db, conversation_id, row_id, message)

    def put_system(self, conversation_id: str, message: Mapping[str, Any]) -> bool:
        """Make ``message`` the system message of the current branch, first, as it is sent:
        its first row replaced if it is one, else put before it. True if it was added."""
        with self._write() as db:
            tree = self._tree(db, conversation_id)
            path = tree.path()
            first = tree.entries.get(path[0]) if path else None
            if first is not None and first.message is not None and (
                    first.message.get("role") == "system"):
                db.execute("UPDATE messages SET message = ? WHERE id = ?",
                           (_json(message), path[0]))
                db.execute("DELETE FROM message_text WHERE message_id = ?", (path[0],))
                self._index(db, conversation_id, path[0], message)
                return False
            now = time.time()
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, message, created_at, parent_id)"
                " VALUES (?, 'system', ?, ?, 0)", (conversation_id, _json(message), now))
            row_id = int(cursor.lastrowid or 0)
            self._index(db, conversation_id, row_id, message)
            if path:  # the branch's first message now follows it
                db.execute("UPDATE messages SET parent_id = ? WHERE id = ?", (row_id, path[0]))
            db.execute("UPDATE conversations SET updated_at = ?, head = ? WHERE id = ?",
                       (now, path[-1] if path else row_id, conversation_id))
        return True

    def fork(self, conversation_id: str, name: str | None = None) -> str:
        """A new conversation holding a copy of the current branch of ``conversation_id``
        (which stays as it is); return the new one's id."""
        name = None if name is None else checked_name(name)
        new_id, now = new_conversation_id(), time.time()
        with self._write() as db:
            if name is not None:
                refuse_taken(db, name, new_id)
            copy_branch(db, conversation_id, new_id, self._tree(db, conversation_id).path(),
                        now=now, name=name)
        return new_id

    def add_summary(self, conversation_id: str, replaces: Sequence[int],
                    messages: Sequence[Mapping[str, Any]], *, model: str | None,
                    usage: Mapping[str, Any] | None) -> None:
        """Keep messages that stand for ``replaces`` (rows) when the conversation replays."""
        with self._write() as db:
            summaries.add(db, conversation_id, replaces, messages, model=_whole(model),
                          usage=usage, now=time.time())

    def replayed(self, messages: Sequence[StoredMessage],
                 conversation_id: str) -> list[StoredMessage]:
        """A branch's messages with the summaries that apply in place of what they replace."""
        found = self._read_with(lambda db: summaries.summaries(db, conversation_id))
        return summaries.with_summaries(messages, found) if found else list(messages)

    def delete(self, conversation_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM summaries WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM message_text WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def drop_last_exchange(self, conversation_id: str) -> int:
        """Take the current branch back to before its last user message; return how many
        messages went. Those another branch goes on from stay, for that branch."""
        with self._write() as db:
            undone = last_exchange(self._tree(db, conversation_id))
            if undone is None:
                return 0
            gone, head = undone
            db.executemany("DELETE FROM message_text WHERE message_id = ?", [(i,) for i in gone])
            db.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in gone])
            db.execute("UPDATE conversations SET head = ? WHERE id = ?",
                       (head or 0, conversation_id))
        return len(gone)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    def _read_with(self, read: Callable[[sqlite3.Connection], list[T]]) -> list[T]:
        """``read(connection)``; nothing from a table an older read-only database lacks."""
        try:
            return read(self._db)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise HistoryError(f"history database {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    def _conversations(self, where: str, args: Sequence[Any]) -> list[Conversation]:
        rows = self._read(
            "SELECT c.id, c.title, c.created_at, c.updated_at, c.profile, c.base_url, c.model,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),"
            " last.role, last.status, c.model_alias, c.name"
            " FROM conversations c LEFT JOIN messages last ON last.id = COALESCE(c.head,"
            " (SELECT MAX(id) FROM messages m WHERE m.conversation_id = c.id))"
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
        """The conversation named ``prefix``, else the one whose id is or starts with it."""
        named = self._read("SELECT id FROM conversations WHERE name = ?", (prefix.strip(),))
        if named:
            return self._conversations("WHERE c.id = ?", (named[0][0],))[0]
        cleaned = prefix.strip().lower()
        if not cleaned or any(c not in "0123456789abcdef" for c in cleaned):
            raise UsageError(f"no conversation {prefix!r}: no conversation has that name, and"
                             " ids are hexadecimal (see `chatcli history list`)")
        rows = self._read("SELECT id FROM conversations WHERE id >= ? AND id < ? LIMIT 2",
                          (cleaned, cleaned + "g"))
        if not rows:
            raise UsageError(f"no conversation {prefix!r} (see `chatcli history list`)")
        if len(rows) > 1:
            raise UsageError(f"conversation id {prefix!r} is ambiguous; give more of it")
        return self._conversations("WHERE c.id = ?", (rows[0][0],))[0]

    def tree(self, conversation_id: str) -> Tree:
        """Every stored row of a conversation, as the tree of its branches."""
        try:
            return self._tree(self._db, conversation_id)
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc

    @staticmethod
    def _tree(db: sqlite3.Connection, conversation_id: str) -> Tree:
        rows = db.execute(
            "SELECT id, parent_id, message, status, created_at, usage, finish_reason, trace_id,"
            " time_to_first_token, duration, model, outcome, sources FROM messages"
            " WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        head = db.execute("SELECT head FROM conversations WHERE id = ?",
                          (conversation_id,)).fetchone()
        entries = {row[0]: entry_from_row(number, row[2:], row[0])
                   for number, row in enumerate(rows, start=1)}
        return tree_of([(row[0], row[1]) for row in rows], entries,
                       head[0] if head is not None else None)

    def transcript(self, conversation_id: str) -> list[Entry]:
        """The stored rows of the conversation's current branch, in order; a row that is not
        a message is a ``DamagedMessage``, numbered by its place in the branch."""
        tree = self.tree(conversation_id)
        entries = [tree.entries[row] for row in tree.path()]
        return [replace(e, number=n) if isinstance(e, DamagedMessage) else e
                for n, e in enumerate(entries, start=1)]

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation as it replays: its messages, damaged rows and user messages
        that got no answer left out."""
        return self.replayed([e for e in self.transcript(conversation_id)
                              if isinstance(e, StoredMessage) and not e.unanswered],
                             conversation_id)

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
        """Every stored answer (and summary made) since ``since`` (epoch seconds) that
        reported its usage."""
        rows = self._read_with(lambda db: spent.answer_rows(db, since))
        return spent.answers(rows + self._read_with(lambda db: summaries.usage_rows(db, since)))
