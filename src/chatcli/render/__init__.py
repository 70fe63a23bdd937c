"""Renderers: how a turn looks on a terminal, in a pipe, or as JSON.

Each satisfies ``turn.Renderer``. ``plain`` and ``json_modes`` import nothing
heavy; ``terminal`` (Rich, Markdown, Pygments) is imported only when a
terminal is the destination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReasoningMode = Literal["auto", "show", "hide"]


@dataclass(frozen=True)
class RenderOptions:
    """What every renderer needs to know besides the events themselves."""

    reasoning: ReasoningMode = "auto"
    choices: int = 1
    model: str = ""
