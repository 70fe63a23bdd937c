"""A tool call's arguments: kept cheaply as they form, shown pretty, safe and bounded.

``json.dumps`` turns ``\\u009b`` or ``\\u202e`` escapes back into the characters, in
the panel read before approving a call, so the text is made safe after it; a huge
argument shows its first lines and its size. Free of Rich: ``terminal.py`` draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from chatcli.render.line_buffer import LineBuffer
from chatcli.sanitize import visible, visible_json

MAX_CHARS = 20_000  # characters of arguments shown at most


@dataclass
class ToolView:
    """A tool call as it forms: its name, and its arguments kept cheap to show."""

    name: str = ""
    arguments: LineBuffer = field(default_factory=LineBuffer)
    size: int = 0  # characters of the arguments as the model sent them


@dataclass(frozen=True)
class ShownArguments:
    text: str
    json: bool  # the text is pretty-printed JSON
    note: str  # what was left out, or ""


def shown_arguments(arguments: str, max_lines: int, size: int | None = None,
                    max_chars: int = MAX_CHARS) -> ShownArguments:
    """At most ``max_lines`` lines and ``max_chars`` characters of ``arguments``, pretty
    if they are JSON; ``size`` is their length as the model sent them."""
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
        text, is_json = visible_json(json.dumps(parsed, indent=2, ensure_ascii=False)), True
    except (ValueError, RecursionError):  # not JSON, or nested past what json can take
        text, is_json = arguments, False
    text = visible(text)
    head = _head(text, max_lines, max_chars)
    if len(head) == len(text):
        return ShownArguments(text, is_json, "")
    total = len(arguments) if size is None else size
    return ShownArguments(head, is_json,
                          f"… {total:,} characters in all; the whole call is in the history")


def _head(text: str, max_lines: int, max_chars: int) -> str:
    """The first ``max_lines`` lines of ``text``, at most ``max_chars`` characters."""
    end = min(len(text), max_chars)
    newline = -1
    for _ in range(max_lines):
        newline = text.find("\n", newline + 1, end)
        if newline < 0:
            return text[:end]
    return text[:newline] if text[newline + 1:].strip() else text
