"""``chatcli history …``: list, show, search, export and delete stored conversations."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.cli.conversation import history_path
from chatcli.cli.output import Environment
from chatcli.errors import UsageError
from chatcli.output_guard import json_text, write_json

if TYPE_CHECKING:
    from chatcli.history import Conversation, HistoryStore, StoredMessage


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


def _document(conversation: Conversation, messages: list[StoredMessage]) -> dict[str, Any]:
    return {"conversation": asdict(conversation), "messages": [asdict(m) for m in messages]}


def show(prefix: str, as_json: bool, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    messages = store.messages(conversation.id)
    if as_json:
        write_json(env.stdout, _document(conversation, messages))
        return
    env.stdout.write(f"{conversation.id}  {conversation.title}\n"
                     f"{_when(conversation.created_at)}  model {conversation.model or '-'}"
                     f"  profile {conversation.profile or '-'}\n")
    for stored in messages:
        status = "" if stored.status == "complete" else f" ({stored.status})"
        env.stdout.write(f"\n[{stored.message.get('role', '?')}]{status}\n"
                         f"{_plain_text(stored.message)}\n")


def _plain_text(message: dict[str, Any]) -> str:
    """A message for reading: its text, placeholders for attachments, its tool calls."""
    parts: list[str] = []
    if message.get("reasoning_content"):
        parts.append(f"(thinking) {message['reasoning_content']}")
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            parts.append(part.get("text", "") if kind == "text" else f"[{kind or 'part'}]")
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        parts.append(f"tool call {function.get('name')}({function.get('arguments', '')})")
    if message.get("role") == "tool":
        parts.insert(0, f"(result of {message.get('tool_call_id', '?')})")
    return "\n".join(parts)


def search(text: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    for conversation, snippet in _store(env).search(text):
        env.stdout.write(f"{conversation.id}  {_when(conversation.updated_at)}"
                         f"  {conversation.title}\n    {snippet}\n")


def markdown_export(conversation: Conversation, messages: list[StoredMessage]) -> str:
    lines = [f"# {conversation.title}", "",
             f"- conversation: `{conversation.id}`",
             f"- created: {_when(conversation.created_at)}",
             f"- model: {conversation.model or '-'}", ""]
    for stored in messages:
        role = str(stored.message.get("role", "?")).capitalize()
        status = "" if stored.status == "complete" else f" ({stored.status})"
        lines += [f"## {role}{status}", "", _plain_text(stored.message), ""]
    return "\n".join(lines)


def export(prefix: str, format: str, output: Path | None,
           env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    messages = store.messages(conversation.id)
    if format == "json":
        terminal = output is None and env.stdout_is_terminal
        text = json_text(_document(conversation, messages), terminal=terminal) + "\n"
    else:
        text = markdown_export(conversation, messages)
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
