"""``chatcli history …``: list, show, search, export and delete stored conversations.

Reading commands work on a history that cannot be written; a damaged row is
shown as damaged, never fatal. Output goes through ``env`` (guarded streams).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.output_guard import json_text, write_json
from chatcli.session.conversation import history_path
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.history import Conversation, Entry, HistoryStore

PREVIEW = 500  # characters of a damaged row shown as text


def _store(env: Environment) -> HistoryStore:
    """The history, read-only if it cannot be written; a doubt about what is read is said."""
    from chatcli.history import HistoryStore

    store = HistoryStore.open(history_path())
    if store.notice is not None:
        env.warn(store.notice)
    return store


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def list_conversations(limit: int, as_json: bool, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    found = _store(env).conversations(limit)
    if as_json:
        write_json(env.stdout, [asdict(c) for c in found])
        return
    for conversation in found:
        env.stdout.write(f"{conversation.id}  {_when(conversation.updated_at)}"
                         f"  {conversation.message_count:>4} msgs  {conversation.model or '-'}"
                         f"  {conversation.title}\n")


def _document(conversation: Conversation, entries: Sequence[Entry]) -> dict[str, Any]:
    return {"conversation": asdict(conversation), "messages": [asdict(e) for e in entries]}


def show(prefix: str, as_json: bool, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    entries = store.transcript(conversation.id)
    if as_json:
        write_json(env.stdout, _document(conversation, entries))
        return
    env.stdout.write(f"{conversation.id}  {conversation.title}\n"
                     f"{_when(conversation.created_at)}  model {conversation.model or '-'}"
                     f"  profile {conversation.profile or '-'}\n")
    from chatcli.history import DamagedMessage

    for entry in entries:
        if isinstance(entry, DamagedMessage):
            env.stdout.write(f"\n[damaged message {entry.number}] ({entry.reason})\n"
                             f"{_preview(entry.raw)}\n")
            continue
        status = "" if entry.status == "complete" else f" ({entry.status})"
        env.stdout.write(f"\n[{entry.message.get('role', '?')}]{status}\n"
                         f"{_plain_text(entry.message)}\n")


def _preview(raw: str) -> str:
    if len(raw) <= PREVIEW:
        return raw
    return f"{raw[:PREVIEW]}… ({len(raw):,} characters in all)"


def _plain_text(message: dict[str, Any]) -> str:
    """A message for reading: its text, placeholders for attachments, its tool calls.
    Any shape is shown, however odd: stored text is not trusted to be well formed."""
    from chatcli.history.records import tool_functions

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


def search(text: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    for conversation, snippet in _store(env).search(text):
        env.stdout.write(f"{conversation.id}  {_when(conversation.updated_at)}"
                         f"  {conversation.title}\n    {snippet}\n")


def markdown_export(conversation: Conversation, entries: Sequence[Entry]) -> str:
    from chatcli.history import DamagedMessage

    lines = [f"# {conversation.title}", "",
             f"- conversation: `{conversation.id}`",
             f"- created: {_when(conversation.created_at)}",
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
        lines += [f"## {role}{status}", "", _plain_text(entry.message), ""]
    return "\n".join(lines)


def export(prefix: str, format: str, output: Path | None,
           env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    entries = store.transcript(conversation.id)
    if format == "json":
        terminal = output is None and env.stdout_is_terminal
        text = json_text(_document(conversation, entries), terminal=terminal) + "\n"
    else:
        text = markdown_export(conversation, entries)
    if output is None:
        env.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror}") from exc


def delete(prefix: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    store.delete(conversation.id)
    env.stderr.write(f"deleted {conversation.id} ({conversation.title})\n")


def print_path(env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    env.stdout.write(f"{history_path()}\n")
