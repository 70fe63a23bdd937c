"""A small JSON Schema check for tool arguments, before any tool runs.

Models sometimes send arguments that do not fit the schema they were given;
catching that here lets the model read what was wrong and try again, instead
of a tool failing halfway. Only what tool schemas commonly use is checked:
``type``, ``enum``, ``required``, ``properties``, ``additionalProperties``,
``items`` and ``anyOf``/``oneOf``. Anything else passes, so a schema we do not
understand never blocks a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def schema_problems(value: Any, schema: Mapping[str, Any], where: str = "arguments") -> list[str]:
    """Every way ``value`` breaks ``schema``, one line each; empty when it fits."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        options = [b for b in branches if isinstance(b, Mapping)]
        if options and all(schema_problems(value, b, where) for b in options):
            return [f"{where}: matches none of the allowed shapes"]
    problems = _type_problems(value, schema.get("type"), where)
    if problems:
        return problems
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same(value, choice) for choice in enum):
        allowed = ", ".join(repr(choice) for choice in enum)
        return [f"{where}: {value!r} is not one of {allowed}"]
    if isinstance(value, dict):
        return _object_problems(value, schema, where)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        found: list[str] = []
        for position, item in enumerate(value):
            found.extend(schema_problems(item, items, f"{where}[{position}]"))
        return found
    return []


def _type_problems(value: Any, wanted: Any, where: str) -> list[str]:
    names = [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []
    known = [name for name in names if name in _TYPES]
    if not known or any(_is(value, name) for name in known):
        return []
    return [f"{where}: expected {' or '.join(known)}, got {_kind(value)}"]


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name != "boolean":
        return False  # JSON true is not a number, though Python's bool is an int
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[name])


def _kind(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is(value, name):
            return name
    return type(value).__name__


def _same(value: Any, choice: Any) -> bool:
    return bool(value == choice and isinstance(value, bool) == isinstance(choice, bool))


def _object_problems(value: dict[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    required = schema.get("required")
    for name in required if isinstance(required, list) else ():
        if name not in value:
            problems.append(f"{where}: missing required property {name!r}")
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        inner = f"{where}.{name}" if where != "arguments" else name
        if name in properties and isinstance(properties[name], Mapping):
            problems.extend(schema_problems(item, properties[name], inner))
        elif extra is False:
            problems.append(f"{where}: unknown property {name!r}")
        elif isinstance(extra, Mapping):
            problems.extend(schema_problems(item, extra, inner))
    return problems
