"""Every reply shape the benchmark can serve, by name, and which are tool calls.

``markdown`` and ``plain`` are whole answers (`markdown_tokens`); ``code``,
``paragraph`` and ``toolargs`` are one long open block each (`long_blocks`).
"""

from __future__ import annotations

from collections.abc import Callable

from long_blocks import TOOL_SHAPES, code_tokens, paragraph_tokens, tool_argument_tokens
from markdown_tokens import plain_tokens, tokens

SHAPES: dict[str, Callable[[int, int], list[str]]] = {
    "markdown": tokens,
    "plain": plain_tokens,
    "code": code_tokens,
    "paragraph": paragraph_tokens,
    "toolargs": tool_argument_tokens,
}

__all__ = ["SHAPES", "TOOL_SHAPES"]
