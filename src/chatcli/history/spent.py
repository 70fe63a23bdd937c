"""What stored answers cost in tokens: the rows ``HistoryStore.answers`` reads, as values.

Costs and budgets (``session.spending``) price these; a summary made for the
``compact`` policy is read the same way (``summaries.usage_rows``). Nothing here
opens, commits or prints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from chatcli.history.records import AnswerUsage, stored_object


def answer_rows(db: sqlite3.Connection, since: float) -> list[tuple[Any, ...]]:
    """created_at, conversation, model asked, model answering, profile, usage."""
    return db.execute(
        "SELECT m.created_at, m.conversation_id, c.model, m.model, c.profile, m.usage"
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE m.role = 'assistant' AND m.usage IS NOT NULL AND m.created_at >= ?"
        " ORDER BY m.id", (since,)).fetchall()


def answers(rows: Sequence[Sequence[Any]]) -> list[AnswerUsage]:
    """The rows whose usage is an object, as ``AnswerUsage`` values."""
    found = []
    for created, conversation, model, answered_by, profile, raw in rows:
        usage = stored_object(raw)
        if usage is not None and isinstance(created, int | float):
            found.append(AnswerUsage(float(created), str(conversation), _name(model),
                                     _name(answered_by), _name(profile), usage))
    return found


def _name(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
