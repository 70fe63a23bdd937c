"""Summaries: messages that stand for some rows of a conversation when it is sent again.

The ``compact`` context policy asks a model to summarise the turns that no longer fit
and sends the summary in their place. The rows stay as they were (``history show``
shows them all); a summary names the rows it replaces, and a conversation replays
with the newest summaries whose rows are all on its current branch put in their
place, where the first of them was. A summary made on one branch is not used on
another that left it before its last row. The SQL runs inside the store's
transactions; nothing here opens, commits or prints.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatcli.history.records import StoredMessage


@dataclass(frozen=True)
class Summary:
    """One stored summary: the rows it replaces and the messages sent instead."""

    replaces: tuple[int, ...]
    messages: list[dict[str, Any]]
    created_at: float


def add(db: sqlite3.Connection, conversation_id: str, replaces: Sequence[int],
        messages: Sequence[Mapping[str, Any]], *, model: str | None,
        usage: Mapping[str, Any] | None, now: float) -> None:
    db.execute("INSERT INTO summaries (conversation_id, replaces, messages, model, usage,"
               " created_at) VALUES (?, ?, ?, ?, ?, ?)",
               (conversation_id, json.dumps(sorted(set(replaces))),
                json.dumps(list(messages), ensure_ascii=False), model,
                json.dumps(dict(usage)) if usage else None, now))


def summaries(db: sqlite3.Connection, conversation_id: str) -> list[Summary]:
    """The conversation's summaries, newest first; a damaged one is passed over."""
    found = []
    for replaces, messages, created in db.execute(
            "SELECT replaces, messages, created_at FROM summaries WHERE conversation_id = ?"
            " ORDER BY id DESC", (conversation_id,)):
        rows, sent = _loads(replaces), _loads(messages)
        if (isinstance(rows, list) and rows and all(type(r) is int for r in rows)
                and isinstance(sent, list) and sent
                and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in sent)):
            found.append(Summary(tuple(rows), sent, float(created or 0.0)))
    return found


def with_summaries(messages: Sequence[StoredMessage],
                   found: Sequence[Summary]) -> list[StoredMessage]:
    """``messages`` (a branch as it replays) with each summary that applies in place of
    the rows it replaces."""
    replayed = list(messages)
    for summary in found:  # newest first: a later summary takes in the earlier ones
        wanted = set(summary.replaces)
        on_branch = {row for m in replayed for row in m.rows}
        if not wanted <= on_branch:
            continue
        places = [i for i, m in enumerate(replayed) if wanted & set(m.rows)]
        covered = {row for i in places for row in replayed[i].rows}
        if not covered <= wanted:
            continue  # a message here stands for more than this summary does
        stand_ins = [StoredMessage(m, "complete", summary.created_at, rows=summary.replaces)
                     for m in summary.messages]
        first = places[0]
        replayed = [m for i, m in enumerate(replayed) if i not in places]
        replayed[first:first] = stand_ins
    return replayed


def usage_rows(db: sqlite3.Connection, since: float) -> list[tuple[Any, ...]]:
    """What making each summary cost, in the shape ``HistoryStore.answers`` reads."""
    return db.execute(
        "SELECT s.created_at, s.conversation_id, c.model, s.model, c.profile, s.usage"
        " FROM summaries s JOIN conversations c ON c.id = s.conversation_id"
        " WHERE s.usage IS NOT NULL AND s.created_at >= ? ORDER BY s.id", (since,)).fetchall()


def _loads(text: object) -> object:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None

