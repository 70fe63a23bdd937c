"""A sample ``--functions`` file: one public function per shape the schema maker knows.

Private names, imported functions, aliases and classes must not become tools.
"""

from __future__ import annotations

from json import dumps
from typing import Any, Literal, Optional


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather for a city.

    This second paragraph is not part of the description.

    Args:
        city: The city's name,
            in English.
        unit (str): The temperature unit.

    Returns:
        A sentence about the weather.
    """
    return f"{city}: 21 degrees {unit}"


def every_type(
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    items: list,
    mapping: dict,
    names: list[str],
    scores: dict[str, float],
    level: Literal[1, 2, 3],
    maybe: Optional[int],  # noqa: UP045 - the old spelling must work too
    raw,
    either: str | None = None,
    nested: list[dict[str, int]] | None = None,
    anything: Any = None,
    *,
    limit: int = 5,
) -> dict[str, Any]:
    """Echo every argument back, to show what the model sent."""
    return {"text": text, "count": count, "ratio": ratio, "flag": flag, "items": items,
            "mapping": mapping, "names": names, "scores": scores, "level": level,
            "maybe": maybe, "raw": raw, "either": either, "nested": nested,
            "anything": anything, "limit": limit}


def no_arguments() -> None:
    """Returns nothing at all."""


def fails(reason: str) -> str:
    """Always raises, with the reason given."""
    raise ValueError(reason)


def _private_helper() -> str:
    return dumps("not a tool")


alias = get_weather


class NotATool:
    """Classes are left alone."""
