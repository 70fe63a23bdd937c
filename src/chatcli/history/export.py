"""A stored conversation as people read it: plain text per message, a JSON document, Markdown.

Any shape is shown, however odd: stored text is not trusted to be well formed, and a
damaged row is shown as damaged. Nothing here writes; the commands do, through the
guarded streams.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from chatcli.history.records import Conversation, DamagedMessage, Entry, tool_functions

PREVIEW = 500  # characters of a damaged row shown as text


def when(stamp: float) -> str:
    """A stored time as ``2026-12-07 10:30`` (local time)."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def document(conversation: Conversation, entries: Sequence[Entry]) -> dict[str, Any]:
    """The JSON shape of ``history show --json``, ``export --format json`` and ``/save``."""
    return {"conversation": asdict(conversation), "messages": [asdict(e) for e in entries]}


def titled(conversation: Conversation) -> str:
    """A conversation as lists show it: its name, if it has one, before its title."""
    name = conversation.name
    return f"{name}: {conversation.title}" if name else conversation.title


def preview(raw: str) -> str:
    """A damaged row's raw text, cut to what a reader wants to see."""
    if len(raw) <= PREVIEW:
        return raw
    return f"{raw[:PREVIEW]}… ({len(raw):,} characters in all)"


def plain_text(message: dict[str, Any]) -> str:
    """A message for reading: its text, placeholders for attachments, its tool calls.
    Any shape is shown, however odd: stored text is not trusted to be well formed."""
    parts: list[str] = []
    if message.get("reasoning_content"):
        parts.append(f"(thinking) {message['reasoning_content']}")
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            text = part.get("text") if isinstance(part, dict) else None
            parts.append((text if isinstance(text, str) else "") if kind == "text"
                         else f"[{kind or 'part'}]")
    elif content is not None:
        parts.append(str(content))
    for function in tool_functions(message):
        parts.append(f"tool call {function.get('name')}({function.get('arguments', '')})")
    if message.get("role") == "tool":
        parts.insert(0, f"(result of {message.get('tool_call_id', '?')})")
    return "\n".join(parts)


def outcome_note(outcome: dict[str, Any] | None) -> str:
    """What became of a generated command, for reading: "(run: exit status 0)"."""
    if not outcome:
        return ""
    if not outcome.get("ran"):
        return " (not run)"
    return f" (run: exit status {outcome.get('exit_status', '?')})"


def markdown_export(conversation: Conversation, entries: Sequence[Entry]) -> str:
    """The conversation as a Markdown document: a heading per message, damaged rows fenced."""

    lines = [f"# {conversation.title}", "",
             f"- conversation: `{conversation.id}`",
             f"- created: {when(conversation.created_at)}",
             f"- model: {conversation.model or '-'}", ""]
    for entry in entries:
        if isinstance(entry, DamagedMessage):
            fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", entry.raw)),
                                         default=0))
            lines += [f"## Damaged message {entry.number} ({entry.reason})", "",
                      fence, entry.raw, fence, ""]
            continue
        role = str(entry.message.get("role", "?")).capitalize()
        status = "" if entry.status == "complete" else f" ({entry.status})"
        lines += [f"## {role}{status}{outcome_note(entry.outcome)}", "",
                  plain_text(entry.message), ""]
    return "\n".join(lines)
