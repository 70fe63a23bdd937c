"""What the history holds, as values: conversations, stored messages, and their text.

Plain data and pure functions over it, shared by the store, the recorder and the
commands that show the history. Rows are decoded here and never trusted: a
value of the wrong kind becomes None, and a message that is not one becomes a
``DamagedMessage``. Nothing here touches the database or prints.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from chatcli.errors import ChatcliError, UsageError
from chatcli.sanitize import whole_characters, without_userinfo

TITLE_CHARS = 80
TITLE_WORDS = 8
NAME_CHARS = 60
HEX = frozenset("0123456789abcdef")


class HistoryError(ChatcliError):
    """The history database could not be read or written."""


@dataclass(frozen=True)
class Conversation:
    """A conversation's facts; its base URL never carries credentials, however made."""

    id: str
    title: str
    created_at: float
    updated_at: float
    profile: str | None
    base_url: str | None
    model: str | None  # the model asked for
    message_count: int = 0
    state: str = "complete"  # "failed" or "interrupted": its last request got no answer
    model_alias: str | None = None  # the alias typed for ``model``, if one was
    name: str | None = None  # given with --name, /rename or ``history rename``; unique

    def __post_init__(self) -> None:
        if self.base_url is not None:
            object.__setattr__(self, "base_url", without_userinfo(self.base_url))


@dataclass(frozen=True)
class AnswerUsage:
    """One stored answer's token usage, with what prices it: for costs and budgets."""

    created_at: float
    conversation_id: str
    model: str | None  # the model asked for (the conversation's)
    answered_by: str | None  # the model the server said answered
    profile: str | None
    usage: dict[str, Any]


@dataclass(frozen=True)
class StoredMessage:
    """A message as kept: the wire message and what is known about its making."""

    message: dict[str, Any]
    status: str
    created_at: float
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    trace_id: str | None = None
    time_to_first_token: float | None = None
    duration: float | None = None
    model: str | None = None  # of an answer: the model the server said answered
    outcome: dict[str, Any] | None = None  # e.g. {"ran": true, "exit_status": 0}
    sources: list[str] | None = None  # of a user message: ["-f notes.md", "-f src/ (3 files)"]
    rows: tuple[int, ...] = ()  # the rows it stands for: its own, or those a summary replaced

    @property
    def unanswered(self) -> bool:
        """A user message whose request failed before any answer: kept, never replayed."""
        return self.message.get("role") == "user" and self.status != "complete"


@dataclass(frozen=True)
class DamagedMessage:
    """A stored row that is not a message (not JSON, or no role): shown, never sent."""

    number: int  # its place in the conversation, from 1
    reason: str
    raw: str
    created_at: float
    status: str = "damaged"
    message: None = None


Entry: TypeAlias = StoredMessage | DamagedMessage


def new_conversation_id() -> str:
    """Twelve hex digits: short to type, and any unique prefix will do."""
    return os.urandom(6).hex()


def message_text(message: Mapping[str, Any]) -> str:
    """The searchable text of a message: its text parts and tool calls (of any shape)."""
    parts: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(p["text"] for p in content if isinstance(p, dict)
                     and isinstance(p.get("text"), str))
    for function in tool_functions(message):
        parts.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return "\n".join(parts)


def tool_functions(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``function`` of each tool call, ``{}`` where a call has none of the right shape."""
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return []
    functions = [call.get("function") if isinstance(call, dict) else None for call in calls]
    return [f if isinstance(f, dict) else {} for f in functions]


def title_of(text: str) -> str:
    """A conversation's title: the first words of its first prompt."""
    words = text.split()
    title = " ".join(words[:TITLE_WORDS])
    cut = len(words) > TITLE_WORDS or len(title) > TITLE_CHARS  # one long "word" too
    title = title[:TITLE_CHARS].rstrip()
    return title + ("…" if cut else "") if title else "(untitled)"


def checked_name(name: str) -> str:
    """A conversation's name as kept (trimmed), or a usage error saying what is wrong."""
    cleaned = name.strip()
    if not cleaned:
        raise UsageError("a conversation name cannot be empty")
    if len(cleaned) > NAME_CHARS:
        raise UsageError(f"a conversation name has at most {NAME_CHARS} characters")
    if any(not c.isprintable() for c in cleaned):
        raise UsageError(f"a conversation name is one line of printable text, not {name!r}")
    if set(cleaned.lower()) <= HEX:
        raise UsageError(f"{cleaned!r} would read as a conversation id; a name needs a"
                         " character that is not a hexadecimal digit")
    return cleaned


# -- rows as stored ------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def stored_object(value: Any) -> dict[str, Any] | None:
    """A stored JSON object (usage, outcome); anything else (not JSON, not an object) is
    none."""
    if value is None:
        return None
    try:
        usage = json.loads(_text(value))
    except (ValueError, RecursionError):
        return None
    return usage if isinstance(usage, dict) else None


def _lines(value: Any) -> list[str] | None:
    """A stored JSON list of strings (sources); anything else is none."""
    if value is None:
        return None
    try:
        items = json.loads(_text(value))
    except (ValueError, RecursionError):
        return None
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, str)] or None


def conversation_from_row(row: Sequence[Any]) -> Conversation:
    """id, title, created_at, updated_at, profile, base_url, model, message count, and the
    role and status of its last message, the model's alias and the name."""
    conversation_id, title, created, updated, profile, base_url, model, count, role, status = (
        row[:10])
    alias = row[10] if len(row) > 10 else None
    name = row[11] if len(row) > 11 else None
    state = "complete"
    if role == "user" and status in ("error", "interrupted"):
        state = "failed" if status == "error" else "interrupted"
    return Conversation(_text(conversation_id), _text(title) or "(untitled)",
                        _float(created) or 0.0, _float(updated) or 0.0, _str(profile),
                        _str(base_url), _str(model), count if isinstance(count, int) else 0,
                        state, _str(alias), _str(name))


def entry_from_row(number: int, row: Sequence[Any], row_id: int | None = None) -> Entry:
    """message, status, created_at, usage, finish_reason, trace_id, time to first token,
    duration, model, outcome and sources (absent from older queries): a ``StoredMessage``,
    or a ``DamagedMessage`` when the message is not one."""
    raw, status, created, usage, finish_reason, trace_id, first, duration, model = row[:9]
    outcome = row[9]
    sources = _lines(row[10]) if len(row) > 10 else None
    created_at = _float(created) or 0.0
    text = _text(raw)
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return DamagedMessage(number, "not JSON", text, created_at)
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        return DamagedMessage(number, "not a message object", text, created_at)
    return StoredMessage(message, _str(status) or "complete", created_at, stored_object(usage),
                         _str(finish_reason), _str(trace_id), _float(first), _float(duration),
                         _str(model), stored_object(outcome), sources,
                         () if row_id is None else (row_id,))


_SURROGATE = re.compile("[\ud800-\udfff]")


def message_json(message: Mapping[str, Any]) -> str:
    """A message as JSON text, readable as it is unless it holds lone surrogates (half of
    a character a gateway split): then escaped, so it still loads back the same."""
    text = json.dumps(message, ensure_ascii=False)
    return json.dumps(message) if _SURROGATE.search(text) else text


def column_text(text: str | None) -> str | None:
    """Text for a column: lone surrogates (which UTF-8 cannot hold) become U+FFFD."""
    return None if text is None else whole_characters(text)
