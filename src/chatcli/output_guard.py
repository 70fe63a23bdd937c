"""The one way text leaves chatcli: a stream that makes untrusted text safe for a terminal.

Every command writes through a ``GuardedStream``. When it is a terminal,
``write`` shows control characters escaped (``sanitize.visible``), so a new
command cannot forget to; to a pipe or file the text passes byte for byte.
Escape sequences chatcli makes itself (Rich's colours and cursor moves, its
own OSC 52 clipboard write) go through ``write_trusted``: the deliberate,
greppable way past the guard. Nothing here decides what to show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from chatcli.sanitize import visible, visible_json, whole_characters


class TextSink(Protocol):
    """Where text can be written: a guarded stream, a file, a ``StringIO``."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class GuardedStream:
    """A text stream wrapper: ``write`` is safe on a terminal, ``write_trusted`` is not."""

    def __init__(self, stream: TextIO, terminal: bool) -> None:
        self.stream = stream
        self.terminal = terminal

    def write(self, text: str) -> int:
        if self.terminal:
            text = visible(text)
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:  # lone surrogates: the text still goes, mended
            return self.stream.write(whole_characters(text))

    def write_trusted(self, text: str) -> int:
        """Write ``text`` as it is: only for escape sequences chatcli made itself."""
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.terminal

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.stream.close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.stream, "closed", False))

    def __getattr__(self, name: str) -> Any:  # the wrapped stream's own (``getvalue``…)
        return getattr(self.stream, name)


class TrustedSink:
    """The file a Rich console writes to: its output is already made safe segment by
    segment (``render.console``), so it passes the guard as chatcli's own."""

    def __init__(self, guarded: GuardedStream) -> None:
        self.guarded = guarded

    def write(self, text: str) -> int:
        return self.guarded.write_trusted(text)

    def flush(self) -> None:
        self.guarded.flush()

    def isatty(self) -> bool:
        return self.guarded.terminal

    def fileno(self) -> int:
        return self.guarded.fileno()

    @property
    def encoding(self) -> str:
        return self.guarded.encoding


def guard_stream(stream: Any, terminal: bool) -> GuardedStream:
    """``stream`` behind a guard (once: a guarded stream is returned as it is)."""
    if isinstance(stream, GuardedStream):
        return stream
    return GuardedStream(stream, terminal)


def json_text(data: Any, *, terminal: bool, indent: int | None = 2) -> str:
    """``data`` as JSON text (non-ASCII kept readable); for a terminal, what JSON may carry
    raw (C1, DEL, bidi, separators) is escaped as ``\\uXXXX``, so it stays valid JSON."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return visible_json(text) if terminal else text


def write_json(stream: GuardedStream, data: Any, *, indent: int | None = 2) -> None:
    """Write ``data`` as one JSON document and a newline."""
    stream.write(json_text(data, terminal=stream.terminal, indent=indent) + "\n")
    stream.flush()


def stream_is_terminal(stream: object, env: Mapping[str, str]) -> bool:
    """Rich's notion of a terminal, without importing Rich: TTY_COMPATIBLE, FORCE_COLOR
    (from ``config.terminal_variables``), else isatty."""
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = env.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False
