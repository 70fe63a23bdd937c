"""What ``chatcli batch`` runs: items read one line at a time, or one per file.

A line is a prompt as it stands, or a JSON object with ``prompt`` and/or
``messages``, and optionally ``id``, ``vars`` (template variables), ``system``,
``model`` and any other request field (deep-merged into the request). A line
that cannot be an item is an item all the same, one that fails with its reason,
so every line of the input has its place in the output. Lines are read as they
are needed: a batch of a million lines holds only those in flight.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KNOWN_KEYS = ("id", "prompt", "messages", "vars", "system", "model")


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch; ``problem``: why it cannot be sent (it fails with it)."""

    index: int  # its place in the input, from 0
    id: str
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    vars: dict[str, str] = field(default_factory=dict)
    system: str | None = None
    model: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # other request fields
    files: tuple[str, ...] = ()  # --files: the file, as -f context
    problem: str | None = None
    source: str = ""  # the line (or path) it came from, for the state file's key

    @property
    def key(self) -> str:
        """What a finished item is known by in the state file: its id and what it asked."""
        digest = hashlib.sha256(self.source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return f"{self.id}\t{digest}"


def items_from_lines(lines: Iterable[str]) -> Iterator[BatchItem]:
    """An item per line that is not blank; its id is its own, else its line number."""
    index = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        yield parsed(line, index, str(number))
        index += 1


def items_from_files(paths: Iterable[str]) -> Iterator[BatchItem]:
    """``--files``: an item per file, the file as ``-f`` context and its path as the id."""
    for index, path in enumerate(paths):
        yield BatchItem(index, path, files=(path,), source=f"file {path}")


def matching_files(patterns: Iterable[str]) -> list[str]:
    """The files the ``--files`` globs name, sorted, each once (``**`` goes down)."""
    found: dict[str, None] = {}
    for pattern in patterns:
        base = Path(pattern)
        anchor = Path(base.anchor) if base.is_absolute() else Path()
        relative = str(base.relative_to(anchor)) if base.is_absolute() else pattern
        hits = sorted(anchor.glob(relative)) if any(c in pattern for c in "*?[") else [base]
        for hit in hits:
            if hit.is_file():
                found[str(hit)] = None
    return list(found)


def parsed(line: str, index: int, number: str) -> BatchItem:
    """The item one line holds; a JSON object only when the line starts with ``{``."""
    if not line.lstrip().startswith("{"):
        return BatchItem(index, number, prompt=line, source=line)
    try:
        value = json.loads(line)
    except ValueError as exc:
        return BatchItem(index, number, problem=f"line {number}: not a JSON object ({exc})",
                         source=line)
    if not isinstance(value, dict):
        return BatchItem(index, number, problem=f"line {number}: not a JSON object",
                         source=line)
    return _from_object(value, index, number, line)


def _from_object(value: Mapping[str, Any], index: int, number: str, line: str) -> BatchItem:
    given = value.get("id")
    item_id = str(given) if isinstance(given, str | int) and str(given).strip() else number
    problem = _problem(value)
    if problem is not None:
        return BatchItem(index, item_id, problem=f"line {number}: {problem}", source=line)
    variables = value.get("vars") or {}
    return BatchItem(
        index, item_id, prompt=value.get("prompt"), messages=value.get("messages"),
        vars={str(k): _text(v) for k, v in variables.items()},
        system=value.get("system"), model=value.get("model"),
        fields={k: v for k, v in value.items() if k not in KNOWN_KEYS}, source=line)


def _problem(value: Mapping[str, Any]) -> str | None:
    prompt, messages = value.get("prompt"), value.get("messages")
    if prompt is None and messages is None:
        return 'neither "prompt" nor "messages"'
    if prompt is not None and not isinstance(prompt, str):
        return '"prompt" is not a string'
    if messages is not None and not (isinstance(messages, list) and messages and all(
            isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)):
        return '"messages" is not a list of messages with a role'
    for key in ("system", "model"):
        if value.get(key) is not None and not isinstance(value.get(key), str):
            return f'"{key}" is not a string'
    if not isinstance(value.get("vars") or {}, dict):
        return '"vars" is not an object'
    if "stream" in value or "n" in value:
        return '"stream" and "n" are chatcli\'s to set in a batch'
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
