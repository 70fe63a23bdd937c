"""How many tokens a request will take, estimated before it is sent.

No tokenizer is loaded by default (``tokenizer = "tiktoken"`` counts the text of
OpenAI's families exactly: ``session.tokenizer``): a request's size is estimated as
one token per four characters of text (English prose and code run at 3.5 to 4.5 with
the common BPE vocabularies), plus four per message for the role and separators, a fixed 765 per
image (a high-detail 1024x1024 image) and one per four bytes of an attached file
or audio. It is an estimate and is only ever said as "about"; the server's
``usage`` is what counts once an answer is in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

OUTPUT_RESERVE = 4096  # tokens an answer is assumed to take when max_tokens is not set
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 765


def text_tokens(text: str) -> int:
    """About how many tokens ``text`` is."""
    return -(-len(text) // CHARS_PER_TOKEN)


def message_tokens(message: Mapping[str, Any],
                   text: Callable[[str], int] = text_tokens) -> int:
    """About how many tokens one message takes in a request; ``text`` counts its text
    (a model's own vocabulary, ``session.tokenizer``), else it is estimated."""
    total = MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += text(content)
    elif isinstance(content, list):
        total += sum(_part_tokens(part, text) for part in content if isinstance(part, Mapping))
    for key in ("reasoning_content", "name", "tool_call_id", "refusal"):
        value = message.get(key)
        if isinstance(value, str):
            total += text(value)
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        total += text(json.dumps(calls, ensure_ascii=False))
    return total


def request_tokens(messages: Iterable[Mapping[str, Any]],
                   tools: Any = None) -> int:
    """About how many tokens the messages (and the tool definitions) take."""
    total = sum(message_tokens(m) for m in messages if isinstance(m, Mapping))
    if tools:
        total += text_tokens(json.dumps(tools, ensure_ascii=False))
    return total


def _part_tokens(part: Mapping[str, Any], text: Callable[[str], int]) -> int:
    kind = part.get("type")
    if kind == "text":
        return text(str(part.get("text") or ""))
    if kind == "image_url":
        return IMAGE_TOKENS
    payload = part.get(kind) if isinstance(kind, str) else None
    if isinstance(payload, Mapping):
        data = payload.get("file_data") or payload.get("data") or ""
        return len(str(data)) * 3 // 4 // CHARS_PER_TOKEN  # base64 to bytes, bytes to tokens
    return 0


def output_reserve(body: Mapping[str, Any], max_output: int | None) -> int:
    """What the answer may take: the request's own cap, else the reserve (at most what the
    model can give)."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return min(max_output, OUTPUT_RESERVE) if max_output else OUTPUT_RESERVE
