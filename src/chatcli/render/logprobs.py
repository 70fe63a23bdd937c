"""Token probabilities from ``logprobs.content``, as data the terminal renderer colours.

Kept free of Rich, so that the thresholds and the choice of tokens to list are
tested on their own; ``terminal.py`` turns the styles into ``Text``.
"""

from __future__ import annotations

import math
from typing import Any

LIKELY = 0.9  # at or above: the default style
UNSURE = 0.5  # at or above: yellow; below: red
LEGEND: tuple[tuple[str, str], ...] = (
    ("token probability: ", "dim"), (f"≥ {LIKELY:g}", ""), (" · ", "dim"),
    (f"≥ {UNSURE:g}", "yellow"), (" · ", "dim"), (f"< {UNSURE:g}", "red"),
)


def probability(entry: Any) -> float | None:
    """``exp(logprob)`` of one entry, or None when it has no number."""
    value = entry.get("logprob") if isinstance(entry, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return math.exp(min(float(value), 0.0))
    return None


def style_for(chance: float | None) -> str:
    if chance is None or chance >= LIKELY:
        return ""
    return "yellow" if chance >= UNSURE else "red"


def token_styles(entries: list[Any]) -> list[tuple[str, str]]:
    """(token text, style) for every entry that carries a token."""
    return [(entry["token"], style_for(probability(entry))) for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("token"), str)]


def least_likely(entries: list[Any], count: int = 5) -> list[str]:
    """Lines for the ``count`` least likely tokens with their alternatives, in answer order."""
    ranked = sorted(
        ((chance, position) for position, entry in enumerate(entries)
         if (chance := probability(entry)) is not None and isinstance(entry.get("token"), str)),
    )[:count]
    lines = []
    for chance, position in sorted(ranked, key=lambda pair: pair[1]):
        entry = entries[position]
        alternatives = [
            f"{alt['token']!r} {_percent(probability(alt))}"
            for alt in entry.get("top_logprobs") or ()
            if isinstance(alt, dict) and isinstance(alt.get("token"), str)
            and alt.get("token") != entry["token"]
        ]
        line = f"{entry['token']!r} {_percent(chance)}"
        lines.append(f"{line} → {' · '.join(alternatives)}" if alternatives else line)
    return lines


def _percent(chance: float | None) -> str:
    return "?" if chance is None else f"{chance:.0%}"
