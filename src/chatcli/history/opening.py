"""Opening ``history.db``: for writing when the system allows it, for reading when not.

A database whose schema is current is only read while it is opened: the
migration (a write transaction) and the switch to WAL run only when needed, so
a full disk or a read-only file still reads. When it cannot be opened for
writing, it is opened read-only (``mode=ro``), and as a last resort
``immutable=1``, which needs no ``-shm`` file. Nothing here prints.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from chatcli.history.records import HistoryError
from chatcli.paths import create_private_file

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
    # 2: the model the server said answered, on each answer (the conversation keeps the
    # one that was asked for).
    """
    ALTER TABLE messages ADD COLUMN model TEXT;
    """,
    # 3: what became of an answer outside the conversation (a generated shell command:
    # whether it was run, and its exit status), as JSON.
    """
    ALTER TABLE messages ADD COLUMN outcome TEXT;
    """,
    # 4: where a user message's inlined context came from (each -f: a file, a page, a
    # directory, a command), as a JSON list of lines.
    """
    ALTER TABLE messages ADD COLUMN sources TEXT;
    """,
    # 5: the alias the model was asked for by (-m fast), beside the model id it named.
    """
    ALTER TABLE conversations ADD COLUMN model_alias TEXT;
    """,
    # 6: names and branches. A conversation's name (unique, when given) and the last
    # message of its current branch (``head``); each message's parent (0: the first), so
    # an edited message can start a branch beside the one it replaces. The rows already
    # stored each follow the one before.
    """
    ALTER TABLE conversations ADD COLUMN name TEXT;
    CREATE UNIQUE INDEX conversations_by_name ON conversations(name);
    ALTER TABLE conversations ADD COLUMN head INTEGER;
    ALTER TABLE messages ADD COLUMN parent_id INTEGER;
    UPDATE messages SET parent_id = COALESCE((SELECT MAX(p.id) FROM messages p
        WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id), 0);
    UPDATE conversations SET head = (SELECT MAX(m.id) FROM messages m
        WHERE m.conversation_id = conversations.id);
    """,
    # 7: summaries (the ``compact`` context policy): the messages that stand for some rows
    # of a conversation when it is sent again, the rows themselves kept as they were; and
    # what making the summary cost.
    """
    CREATE TABLE summaries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        replaces TEXT NOT NULL,
        messages TEXT NOT NULL,
        model TEXT,
        usage TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX summaries_by_conversation ON summaries(conversation_id, id);
    """,
)


@dataclass
class Opened:
    """A connection, and why it cannot be written (None when it can)."""

    connection: sqlite3.Connection
    read_only: str | None = None
    notice: str | None = None  # what a reader should be told about what it sees


def describe(path: Path, exc: BaseException) -> str:
    """The one line a failure of the database at ``path`` is told in."""
    return f"history database {path}: {exc}"


def open_database(path: Path) -> Opened:
    """Open ``path`` (created private when missing), migrated if it is behind."""
    try:
        create_private_file(path)
    except OSError as exc:  # no database, and none can be made: an empty one to read
        return Opened(_empty(), f"cannot create it: {exc.strerror or exc}")
    connection: sqlite3.Connection | None = None
    try:
        connection = _connect(path, "mode=rw")
        _settle(connection)
        return Opened(connection, _unwritable(path))
    except sqlite3.Error as exc:
        if connection is not None:
            connection.close()
        if not _cannot_write(exc):  # locked, damaged, not a database: reading will not help
            raise HistoryError(describe(path, exc)) from exc
        return _read_only(path, exc)


# What a file, directory or disk that cannot be written makes SQLite say.
CANNOT_WRITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL",
                "SQLITE_PERM")


def _cannot_write(exc: sqlite3.Error) -> bool:
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name.startswith(CANNOT_WRITE)


def _text(data: bytes) -> str:
    """Stored text as ``str``: bytes that are not UTF-8 become U+FFFD, never an error."""
    return data.decode("utf-8", "replace")


def _connect(path: Path, query: str) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?{query}"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                 isolation_level=None, check_same_thread=False)
    connection.text_factory = _text
    try:
        # Settings of this connection alone: none of them writes to the file.
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        # In WAL mode NORMAL survives any crash of chatcli (only a power cut can lose the
        # last commits) and spares an fsync before every request.
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def schema_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def _settle(connection: sqlite3.Connection) -> None:
    """Switch to WAL and migrate, each only when needed: a current database is only read."""
    behind = schema_version(connection) < len(MIGRATIONS)
    if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        connection.execute("PRAGMA journal_mode = WAL")
    if behind:
        _migrate(connection)


def _migrate(connection: sqlite3.Connection) -> None:
    """Run the missing migrations in one write transaction (another process may be first)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(connection)
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be opened for writing (SQLite then silently reads only).

    Asked of ``access``, never by opening the file: closing any descriptor of the
    database drops every POSIX lock this process holds on it, and a lock lost
    that way lets another process delete a -wal still in use.
    """
    effective = os.access in os.supports_effective_ids
    if os.access(path, os.W_OK, effective_ids=effective):
        return None
    return "no write access to it"


def _empty() -> sqlite3.Connection:
    """An empty history in memory: what a database that was never written holds."""
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    connection.text_factory = _text
    _migrate(connection)
    return connection


def _read_only(path: Path, why: sqlite3.Error) -> Opened:
    """Open for reading: ``mode=ro``, else ``immutable=1`` (no -shm needed, no locks)."""
    for query in ("mode=ro", "mode=ro&immutable=1"):
        connection: sqlite3.Connection | None = None
        try:
            connection = _connect(path, query)
            version = schema_version(connection)
        except sqlite3.Error:
            if connection is not None:
                connection.close()
            continue
        if version == 0:  # never migrated: nothing stored yet
            connection.close()
            return Opened(_empty(), str(why))
        if version < len(MIGRATIONS):
            connection.close()
            raise HistoryError(f"history database {path} needs upgrading, and cannot be"
                               f" written: {why}")
        return Opened(connection, str(why), _unseen_changes(path, query))
    raise HistoryError(describe(path, why)) from why


def _unseen_changes(path: Path, query: str) -> str | None:
    """An immutable read sees only the main file: say so if the -wal holds more."""
    wal = path.with_name(path.name + "-wal")
    try:
        if "immutable" not in query or wal.stat().st_size == 0:
            return None
    except OSError:  # no -wal: the main file is all there is
        return None
    return (f"history database {path} is read without {wal.name}, which cannot be opened"
            " here; the latest changes may be missing")


def completion_words(path: Path, limit: int) -> list[str]:
    """What shell completion offers for a conversation: every name, then the ids of the
    ``limit`` most recent, newest first. The database is only read, and only if it is
    there (never made, never migrated, never waited for); anything wrong gives none."""
    if not path.is_file():
        return []
    words: list[str] = []
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True,
                                     timeout=0.2)
    except sqlite3.Error:
        return []
    connection.text_factory = _text
    try:
        for sql, args in (
                ("SELECT name FROM conversations WHERE name IS NOT NULL"
                 " ORDER BY updated_at DESC", ()),
                ("SELECT id FROM conversations ORDER BY updated_at DESC LIMIT ?", (limit,))):
            try:
                words += [str(w) for (w,) in connection.execute(sql, args) if w]
            except sqlite3.Error:  # an older database has no names
                continue
    finally:
        connection.close()
    return list(dict.fromkeys(w for w in words if w.isprintable()))
