"""Whether a server's error says the request was over the model's context window.

Servers say it in their own words: OpenAI's ``context_length_exceeded`` and "maximum
context length is N tokens", vLLM's "However, you requested N tokens", Anthropic
through gateways ("prompt is too long: N tokens > M maximum"), Gemini's "input token
count (N) exceeds the maximum number of tokens allowed (M)", Mistral's "too large
for model with M maximum context length", llama.cpp's "exceeds the available
context size". The window and the size asked, where the words give them, help the
next attempt fit.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SIGNS = re.compile(
    r"context_length_exceeded|maximum context length|context length exceeded"
    r"|prompt is too long|exceeds? the (?:available |maximum )?context"
    r"|context (?:window|size) (?:has been |was )?exceeded|too large for model with"
    r"|exceeds the maximum number of tokens|reduce the length of the messages"
    r"|input (?:is )?too long|too many (?:input )?tokens", re.IGNORECASE)
LIMITS = (
    re.compile(r"maximum context length is (\d+)", re.IGNORECASE),
    re.compile(r"tokens? > (\d+) maximum", re.IGNORECASE),
    re.compile(r"maximum number of tokens allowed \((\d+)\)", re.IGNORECASE),
    re.compile(r"with (\d+) maximum context length", re.IGNORECASE),
    re.compile(r"context (?:size|window|length)(?: of| is|:)? \(?(\d+)", re.IGNORECASE),
)
ASKED = (
    re.compile(r"(?:resulted in|requested|contains|prompt is too long:) (\d+) tokens",
               re.IGNORECASE),
    re.compile(r"input token count \((\d+)\)", re.IGNORECASE),
)


class Overflow(NamedTuple):
    """The window the server named and the size it counted (None where not said)."""

    limit: int | None
    asked: int | None


def context_overflow(message: str) -> Overflow | None:
    """The overflow ``message`` reports, or None when it is about something else."""
    if not SIGNS.search(message):
        return None
    return Overflow(_first(LIMITS, message), _first(ASKED, message))


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return None
