"""Nested tables by dotted path: merge one over another, look a path up, take one out.

``-o a.b=1``, ``/set``, ``/unset``, profiles' ``params`` and ``extra_body`` all
speak in dotted paths over nested dicts; these are the three operations, each
returning new dicts (nothing is changed in place).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MISSING = object()  # what ``lookup`` gives for a path that is not there


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``extra`` over ``base``, merging nested tables key by key."""
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def lookup(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at a dotted path, or ``MISSING``."""
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def without(data: Mapping[str, Any], path: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` without the dotted path, and without tables left empty."""
    copy = dict(data)
    head = path[0]
    if head in copy and len(path) == 1:
        del copy[head]
    elif isinstance(copy.get(head), Mapping):
        copy[head] = without(copy[head], path[1:])
        if not copy[head]:
            del copy[head]
    return copy
