"""Writes that make a conversation from another, or keep names apart: the SQL of
``HistoryStore.fork`` and of the name check, run inside the store's transaction.

Apart from ``store`` so that it stays one module of reasonable size; nothing here
opens, commits or prints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from chatcli.errors import UsageError


def refuse_taken(db: sqlite3.Connection, name: str, owner: str | None) -> None:
    """A usage error if a conversation other than ``owner`` has ``name``."""
    row = db.execute("SELECT id FROM conversations WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] != owner:
        raise UsageError(f"the name {name!r} is taken by conversation {row[0]}",
                         hint="Names are unique: choose another, or rename that one"
                              " with `chatcli history rename ID NAME`.")


def copy_branch(db: sqlite3.Connection, source: str, new_id: str, rows: Sequence[int], *,
                now: float, name: str | None) -> None:
    """Conversation ``new_id``: ``source``'s facts, and copies of its ``rows`` (a branch's
    path, in order) each following the one before, with their searchable text. The copies
    carry no ``usage``: what those answers cost was spent once, and is counted (in
    ``chatcli usage``, in budgets) with the original alone."""
    db.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at, profile, base_url,"
        " model, model_alias, name) SELECT ?, title, ?, ?, profile, base_url, model,"
        " model_alias, ? FROM conversations WHERE id = ?", (new_id, now, now, name, source))
    parent = 0
    for row in rows:
        cursor = db.execute(
            "INSERT INTO messages (conversation_id, role, message, status, usage,"
            " finish_reason, trace_id, time_to_first_token, duration, created_at, model,"
            " outcome, sources, parent_id) SELECT ?, role, message, status, NULL,"
            " finish_reason, trace_id, time_to_first_token, duration, created_at, model,"
            " outcome, sources, ? FROM messages WHERE id = ?", (new_id, parent, row))
        parent = int(cursor.lastrowid or 0)
        db.execute("INSERT INTO message_text (text, conversation_id, message_id)"
                   " SELECT text, ?, ? FROM message_text WHERE message_id = ?",
                   (new_id, parent, row))
    db.execute("UPDATE conversations SET head = ? WHERE id = ?", (parent, new_id))
