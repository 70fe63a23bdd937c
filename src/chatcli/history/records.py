"""What the history holds, as values: conversations, stored messages, and their text.

Plain data and pure functions over it, shared by the store, the recorder and the
commands that show the history. Nothing here touches the database or prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatcli.errors import ChatcliError

TITLE_WORDS = 8


class HistoryError(ChatcliError):
    """The history database could not be read or written."""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: float
    updated_at: float
    profile: str | None
    base_url: str | None
    model: str | None
    message_count: int = 0


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


def new_conversation_id() -> str:
    """Twelve hex digits: short to type, and any unique prefix will do."""
    return os.urandom(6).hex()


def message_text(message: Mapping[str, Any]) -> str:
    """The searchable text of a message: its text parts, reasoning and tool arguments."""
    parts: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(p["text"] for p in content if isinstance(p, dict)
                     and isinstance(p.get("text"), str))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {} if isinstance(call, dict) else {}
        parts.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return "\n".join(parts)


def title_of(text: str) -> str:
    """A conversation's title: the first words of its first prompt."""
    words = text.split()
    title = " ".join(words[:TITLE_WORDS])
    return title + ("…" if len(words) > TITLE_WORDS else "") if title else "(untitled)"
