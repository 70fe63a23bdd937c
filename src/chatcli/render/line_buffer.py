"""Streamed text kept as finished lines and an unfinished last line.

Appending costs what the new text costs; the finished lines and the last
characters can be read without joining everything received so far, so a live
view of a megabyte-long block stays cheap. Safe to read from another thread
while one thread appends. It never decides what the text means or how it looks.
"""

from __future__ import annotations

import threading


class LineBuffer:
    """Complete lines (each ending in ``\\n``) and the pieces of the line still open."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._open: list[str] = []  # pieces of the unfinished last line
        self._open_chars = 0
        self.chars = 0  # characters in the complete lines
        self._lock = threading.Lock()

    def append(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            if "\n" not in text:
                self._open.append(text)
                self._open_chars += len(text)
                return
            first, *middle, last = text.split("\n")
            self._open.append(first)
            finished = ["".join(self._open) + "\n", *(line + "\n" for line in middle)]
            self._lines.extend(finished)
            self.chars += sum(map(len, finished))
            self._open = [last] if last else []
            self._open_chars = len(last)

    def __bool__(self) -> bool:
        return bool(self._lines) or self._open_chars > 0

    def count(self) -> int:
        """How many complete lines there are."""
        return len(self._lines)

    def lines(self, start: int = 0, stop: int | None = None) -> list[str]:
        """A copy of complete lines ``start:stop``."""
        with self._lock:
            return self._lines[start:stop]

    def drop(self, count: int) -> None:
        """Forget the first ``count`` complete lines."""
        with self._lock:
            self.chars -= sum(map(len, self._lines[:count]))
            del self._lines[:count]

    def open_line(self) -> str:
        """The unfinished last line."""
        with self._lock:
            return "".join(self._open)

    def text(self) -> str:
        """Everything held, joined."""
        with self._lock:
            return "".join(self._lines) + "".join(self._open)

    def clear(self) -> str:
        """Everything held, which is then forgotten."""
        with self._lock:
            text = "".join(self._lines) + "".join(self._open)
            self._lines, self._open, self._open_chars, self.chars = [], [], 0, 0
            return text

    def window(self, max_lines: int, max_chars: int) -> tuple[str, bool]:
        """The last ``max_lines`` lines, at most ``max_chars`` characters of them, and
        whether that is less than everything held."""
        with self._lock:
            tail = last_chars(self._open, max_chars)
            lines = self._lines[-max_lines:] if max_lines > 0 else []
            text = last_chars(lines, max_chars - len(tail)) + tail
            return text, len(text) < self.chars + self._open_chars


def last_chars(pieces: list[str], count: int) -> str:
    """The last ``count`` characters of ``pieces`` joined, reading only those."""
    taken: list[str] = []
    for piece in reversed(pieces):
        if count <= 0:
            break
        taken.append(piece[-count:])
        count -= len(taken[-1])
    return "".join(reversed(taken))
