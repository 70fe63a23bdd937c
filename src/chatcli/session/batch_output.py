"""Where a batch's results go: JSON Lines on stdout (in input order with ``--ordered``),
or one file per item (``--out-dir``); and the state file that lets a rerun skip what
is done.

An item's line (or file) is written and flushed before the state file says it is
done, so a batch killed at any moment has never marked as finished what it did not
put out. Only the main thread writes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from chatcli.output_guard import write_json

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StateFile:
    """The keys of the items a batch finished, one per line; appended as they finish."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                self.done = {line.rstrip("\n") for line in lines if line.strip()}
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")

    def finished(self, key: str) -> None:
        self._file.write(key + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.done.add(key)

    def close(self) -> None:
        self._file.close()


class BatchOutput:
    """Writes each item's record as it comes, or in input order (``ordered``)."""

    def __init__(self, stdout: Any, *, ordered: bool, out_dir: Path | None,
                 as_json: bool, state: StateFile | None) -> None:
        self.stdout, self.ordered, self.out_dir = stdout, ordered, out_dir
        self.as_json, self.state = as_json, state
        self._waiting: dict[int, tuple[dict[str, Any], str | None]] = {}
        self._next = 0
        self._names: set[str] = set()
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)

    def put(self, index: int, record: dict[str, Any] | None, key: str | None = None) -> None:
        """Item ``index``'s record (None: nothing to write, it was done before)."""
        if not self.ordered:
            if record is not None:
                self._write(record, key)
            return
        self._waiting[index] = (record, key) if record is not None else ({}, None)
        while self._next in self._waiting:
            waiting, waiting_key = self._waiting.pop(self._next)
            if waiting:
                self._write(waiting, waiting_key)
            self._next += 1

    def flush_rest(self) -> None:
        """The batch stopped early: what waits for an item that never came goes out now."""
        for index in sorted(self._waiting):
            waiting, key = self._waiting.pop(index)
            if waiting:
                self._write(waiting, key)

    def _write(self, record: Mapping[str, Any], key: str | None) -> None:
        if self.out_dir is None:
            write_json(self.stdout, dict(record), indent=None)
        elif record.get("status") == "ok":
            self._write_file(record)
        if key is not None and self.state is not None and record.get("status") == "ok":
            self.state.finished(key)

    def _write_file(self, record: Mapping[str, Any]) -> None:
        assert self.out_dir is not None
        suffix = ".json" if self.as_json else ".md"
        name = self._name(str(record.get("id", record.get("index"))), suffix)
        path = self.out_dir / name
        if self.as_json:
            text = json.dumps(dict(record), ensure_ascii=False, indent=2) + "\n"
        else:
            answer = str(record.get("answer") or "")
            text = answer if answer.endswith("\n") or not answer else answer + "\n"
        partial = path.with_name(path.name + ".part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # whole or not there: a kill never leaves half a file

    def _name(self, item_id: str, suffix: str) -> str:
        """A file name for the id: only safe characters, and never one already used."""
        base = _UNSAFE.sub("_", item_id).strip("._") or "item"
        name, number = base + suffix, 1
        while name in self._names:
            number += 1
            name = f"{base}-{number}{suffix}"
        self._names.add(name)
        return name
