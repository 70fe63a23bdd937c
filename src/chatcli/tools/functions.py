"""Python functions as tools: each public function of a file, described from its own code.

The schema comes from the signature's type hints and the docstring (first
paragraph, Google-style ``Args:``), so a function is its own documentation.
Functions run in this process, in a worker thread of ``runner.py``: one that
never returns can be abandoned but not stopped. Loading a file runs its code,
which is what naming it on the command line asks for.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import inspect
import itertools
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from chatcli.errors import UsageError
from chatcli.tools.definitions import Cancellation, check_tool_name

_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean",
                           list: "array", dict: "object"}
_ARGS_HEADER = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$")
_SECTION_HEADER = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
_ARG_ENTRY = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_serial = itertools.count(1)


class FunctionTool:
    """A Python function called with the model's arguments as keyword arguments."""

    def __init__(self, function: Callable[..., Any], nullable: frozenset[str] = frozenset()):
        self.function = function
        # Parameters typed ``X | None`` without a default are optional for the model;
        # the function still needs a value, so it gets None.
        self.nullable = nullable

    def run(self, arguments: dict[str, Any], cancellation: Cancellation) -> str:
        keywords = dict.fromkeys(self.nullable)
        keywords.update(arguments)
        return result_text(self.function(**keywords))


def result_text(value: Any) -> str:
    """A string as is; anything else as JSON when it can be, else its ``str``."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


class _NoBytecodeLoader(importlib.machinery.SourceFileLoader):
    """Loads a source file without leaving a ``__pycache__`` beside the user's file."""

    def set_data(self, path: str, data: Any, *, _mode: int = 0o666) -> None:
        return None


def load_functions_file(path: str) -> list[tuple[dict[str, Any], FunctionTool]]:
    """A definition and a tool for every public function defined in the file at ``path``."""
    origin = f"functions file {path}"
    if not Path(path).is_file():
        raise UsageError(f"{origin}: no such file")
    name = f"_chatcli_functions_{next(_serial)}"
    loader = _NoBytecodeLoader(name, str(Path(path).resolve()))
    spec = importlib.util.spec_from_file_location(name, loader.path, loader=loader)
    if spec is None:
        raise UsageError(f"{origin}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look their module up there
    try:
        loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise UsageError(f"{origin}: importing it failed: {type(exc).__name__}: {exc}") from exc
    found = [value for key, value in vars(module).items()
             if not key.startswith("_") and inspect.isfunction(value)
             and value.__module__ == name and value.__name__ == key]
    if not found:
        raise UsageError(f"{origin}: defines no public functions")
    return [function_tool(function, origin) for function in found]


def function_tool(function: Callable[..., Any],
                  origin: str = "function") -> tuple[dict[str, Any], FunctionTool]:
    """The tool definition (``{"type": "function", ...}``) and the tool for one function."""
    name = check_tool_name(function.__name__, origin)
    where = f"{origin}: {name}()"
    try:
        hints = typing.get_type_hints(function)
    except Exception as exc:
        raise UsageError(f"{where}: its type hints cannot be resolved: {exc}") from exc
    description, documented = parse_docstring(inspect.getdoc(function) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    nullable: set[str] = set()
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise UsageError(f"{where}: parameter {_spelled(parameter)} cannot come from a tool"
                             " call; name the function with a leading _ to leave it out")
        schema, optional = type_schema(hints.get(parameter.name, str),
                                       f"{where}: parameter {parameter.name}")
        if parameter.name in documented:
            schema["description"] = documented[parameter.name]
        if parameter.default is not parameter.empty:
            if _is_plain_json(parameter.default):
                schema["default"] = parameter.default
        elif optional:
            nullable.add(parameter.name)
        else:
            required.append(parameter.name)
        properties[parameter.name] = schema
    parameters = {"type": "object", "properties": properties, "required": required,
                  "additionalProperties": False}
    definition = {"type": "function",
                  "function": {"name": name, "description": description,
                               "parameters": parameters}}
    return definition, FunctionTool(function, frozenset(nullable))


def type_schema(hint: Any, where: str) -> tuple[dict[str, Any], bool]:
    """The JSON Schema for one type hint, and whether the hint allows None."""
    if hint is Any:
        return {}, False
    if isinstance(hint, type) and hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}, False
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return _literal_schema(args), False
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        allows_none = len(present) < len(args)
        if len(present) == 1:
            schema, _ = type_schema(present[0], where)
        else:
            schema = {"anyOf": [type_schema(arg, where)[0] for arg in present]}
        return (_with_null(schema) if allows_none else schema), allows_none
    if origin is list and len(args) == 1:
        return {"type": "array", "items": type_schema(args[0], where)[0]}, False
    if origin is dict and len(args) == 2 and args[0] is str:
        return {"type": "object", "additionalProperties": type_schema(args[1], where)[0]}, False
    raise UsageError(f"{where}: the type {_type_name(hint)} has no JSON Schema here; use str,"
                     " int, float, bool, list, dict, list[X], dict[str, X], Literal or X | None")


def _literal_schema(values: Sequence[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"enum": list(values)}
    kinds = {_literal_kind(value) for value in values}
    if len(kinds) == 1 and None not in kinds:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _literal_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "string" if isinstance(value, str) else None


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _spelled(parameter: inspect.Parameter) -> str:
    if parameter.kind is parameter.VAR_POSITIONAL:
        return f"*{parameter.name}"
    if parameter.kind is parameter.VAR_KEYWORD:
        return f"**{parameter.name}"
    return f"{parameter.name} (positional-only)"


def _is_plain_json(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else repr(hint)


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph as one line, and parameter descriptions from ``Args:``."""
    lines = doc.splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _ARGS_HEADER.match(line.strip()):
            break
        summary.append(line.strip())
    documented: dict[str, str] = {}
    start = next((i for i, line in enumerate(lines) if _ARGS_HEADER.match(line.strip())), None)
    if start is not None:
        documented = _parse_args_section(lines[start + 1:])
    return " ".join(summary), documented


def _parse_args_section(lines: list[str]) -> dict[str, str]:
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    indent: int | None = None
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent or (depth == 0 and _SECTION_HEADER.match(line)):
            break
        entry = _ARG_ENTRY.match(line.strip()) if depth == indent else None
        if entry:
            current = entries[entry.group(1)] = [entry.group(2).strip()]
        elif current is not None:
            current.append(line.strip())
    return {name: " ".join(part for part in parts if part) for name, parts in entries.items()}
