"""Renderers: how a turn looks on a terminal, in a pipe, or as JSON.

Each satisfies ``turn.Renderer``. ``plain`` and ``json_modes`` import nothing
heavy; ``terminal`` (Rich, Markdown, Pygments) is imported only when a
terminal is the destination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ReasoningMode = Literal["auto", "show", "hide"]


@dataclass(frozen=True)
class RenderOptions:
    """What every renderer needs to know besides the events themselves."""

    reasoning: ReasoningMode = "auto"
    choices: int = 1
    model: str = ""
    logprobs: bool = False  # colour the answer's tokens by probability (rich only)
    top_logprobs: int = 0  # list alternatives for the least likely tokens (rich only)


def sources(message: dict[str, Any]) -> list[str]:
    """Numbered ``url_citation`` sources of a message, one line each: ``[1] title — url``."""
    lines: list[str] = []
    for item in message.get("annotations") or ():
        if not isinstance(item, dict) or item.get("type") != "url_citation":
            continue
        cite = item.get("url_citation")
        cite = cite if isinstance(cite, dict) else item  # some gateways flatten the object
        url, title = cite.get("url"), cite.get("title")
        if not isinstance(url, str) or not url:
            continue
        label = f"{title} — {url}" if isinstance(title, str) and title else url
        lines.append(f"[{len(lines) + 1}] {label}")
    return lines


def spoken_text(message: dict[str, Any]) -> str:
    """The transcript of spoken output, shown as the answer when there is no text."""
    audio = message.get("audio")
    transcript = audio.get("transcript") if isinstance(audio, dict) else None
    return transcript if isinstance(transcript, str) else ""
