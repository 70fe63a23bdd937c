"""Optional fields of a chunk, cleaned: usage counts and logprob entries that do not parse.

A server's usage or logprobs can be malformed after a good answer (a count of
400 digits, details that are a string, more alternatives than asked for). What
does not parse is dropped and said through ``note`` (shown with ``-v``), so the
answer's exit code stands. Pure functions over JSON values; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatcli.protocol.text_pieces import whole

_MAX_COUNT, _NUMBER = 2**53, (int, float)  # past 2**53 a count has lost precision: none


def _is_count(value: Any, kinds: tuple[type, ...] = (int,)) -> bool:  # (int, float): amounts
    return type(value) in kinds and 0 <= value < _MAX_COUNT


def clean_usage(usage: Any, note: Callable[[str], None]) -> dict[str, Any]:
    """Counts are whole numbers in a sane range; ``*_details``, objects of such counts."""
    clean: dict[str, Any] = {}
    if not isinstance(usage, dict):
        note("ignored usage that is not an object")
        return clean
    for key, value in usage.items():
        if isinstance(value, dict):  # *_details: counts, and amounts such as a cost
            value = {k: v for k, v in value.items() if v is None or _is_count(v, _NUMBER)}
            if len(value) != len(usage[key]):
                note(f"ignored parts of usage.{key} that are not counts")
        elif value is not None and (key.endswith("_details") or not (
                _is_count(value) if key.endswith("_tokens")
                else isinstance(value, str | bool) or _is_count(value, _NUMBER))):
            note(f"ignored usage.{key}: not a count")
            continue
        clean[key] = whole(value) if isinstance(value, str) else value
    return clean


def clean_logprobs(entries: list[Any], top: int | None,
                    note: Callable[[str], None]) -> tuple[Any, ...]:
    """Entries with a string token and, if any, a logprob that is a finite number ≤ 0;
    ``top_logprobs`` cleaned alike and cut to the number asked for (``top``)."""
    clean = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            note("ignored a logprobs entry without a token")
            continue
        item = {**entry, "token": whole(entry["token"])}
        value = item.get("logprob")
        if value is not None and not (type(value) in (int, float) and -_MAX_COUNT < value <= 0):
            note("ignored a logprob that is not a number ≤ 0")
            del item["logprob"]
        alternatives = item.get("top_logprobs")
        if top != -1 and alternatives is not None:  # -1: these are alternatives already
            if not isinstance(alternatives, list):
                note("ignored top_logprobs that are not a list")
                alternatives = []
            elif top is not None and len(alternatives) > top:
                note("ignored top_logprobs beyond the number asked for")
                alternatives = alternatives[:top]
            item["top_logprobs"] = list(clean_logprobs(alternatives, -1, note))
        clean.append(item)
    return tuple(clean)
