"""Wire types for chat messages, and the request body built from them.

Names follow the API exactly (``tool_calls``, ``tool_call_id``,
``reasoning_content``). Nothing here reads files or the network: content
parts arrive ready-made from ``attachments.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict

from chatcli.config import Settings
from chatcli.dotted import deep_merge
from chatcli.errors import UsageError

Role = Literal["system", "developer", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset({"system", "developer", "user", "assistant", "tool"})
# An assistant message with none of these is no reply (the history keeps none either).
REPLY_KEYS = ("content", "reasoning_content", "tool_calls", "refusal")


class ImageURL(TypedDict):
    url: str
    detail: NotRequired[str]


class ContentPart(TypedDict, total=False):
    type: str
    text: str
    image_url: ImageURL


class FunctionCall(TypedDict):
    name: str
    arguments: str


class ToolCall(TypedDict):
    id: str
    type: str
    function: FunctionCall


class Message(TypedDict, total=False):
    role: Role
    content: str | list[ContentPart] | None
    name: str
    tool_calls: list[ToolCall]
    tool_call_id: str
    reasoning_content: str


def user_message(text: str, parts: Sequence[ContentPart] = ()) -> Message:
    """A user message: plain text, or text followed by parts (images)."""
    if not parts:
        return {"role": "user", "content": text}
    content: list[ContentPart] = [{"type": "text", "text": text}] if text else []
    content.extend(parts)
    return {"role": "user", "content": content}


def load_messages(raw: str, origin: str) -> list[Message]:
    """Messages from a JSON array in wire format (``--messages FILE``)."""
    data = load_json(raw, origin)
    if not isinstance(data, list):
        raise UsageError(f"{origin}: expected a JSON array of messages")
    for position, message in enumerate(data):
        if not isinstance(message, dict):
            raise UsageError(f"{origin}: message {position} is not an object")
        if message.get("role") not in ROLES:
            raise UsageError(
                f"{origin}: message {position} has role {message.get('role')!r};"
                f" expected one of {', '.join(sorted(ROLES))}"
            )
    return data


def load_json(raw: str, origin: str) -> Any:
    """JSON from a file or stdin the user named; anything unreadable is a usage error."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        raise UsageError(f"{origin}: not valid JSON: {exc}") from exc
    except RecursionError:
        raise UsageError(f"{origin}: nested too deeply to read") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_option(item: str) -> tuple[list[str], Any]:
    """``KEY=VALUE`` from ``-o``: the value as JSON when it parses, else a string
    (``NaN`` and ``Infinity`` are not JSON: they stay strings)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"option {item!r} must look like KEY=VALUE")
    try:
        parsed: Any = json.loads(value, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        parsed = value
    return [part for part in key.strip().split(".")], parsed


def options_to_fields(items: Sequence[str]) -> dict[str, Any]:
    """Several ``-o`` items as one nested dict; dotted keys nest."""
    fields: dict[str, Any] = {}
    for item in items:
        path, value = parse_option(item)
        if any(not part for part in path):
            raise UsageError(f"option {item!r} has an empty key part")
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        fields = deep_merge(fields, nested)
    return fields


def build_request(
    settings: Settings,
    messages: Sequence[Message],
    fields: Mapping[str, Any],
    *,
    stream: bool = True,
) -> dict[str, Any]:
    """The request body: model and messages, then profile params < flags < extra_body."""
    body: dict[str, Any] = {"model": settings.model, "messages": list(messages)}
    body = deep_merge(body, settings.params)
    body = deep_merge(body, fields)
    body["stream"] = stream
    if stream and settings.include_usage and "stream_options" not in fields:
        body["stream_options"] = {"include_usage": True}
    if not stream:
        body.pop("stream_options", None)
    return deep_merge(body, settings.extra_body)
