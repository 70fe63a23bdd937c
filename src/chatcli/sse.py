"""Server-sent events framing, decoded from raw bytes.

Only framing lives here: lines end at CR, LF or CRLF (never at U+2028, which
is why we do not use ``iter_lines()``), ``:`` lines are comments, several
``data:`` lines join with ``\\n``, and a blank line dispatches. What the data
means is ``events.py``'s job.
"""

from __future__ import annotations

from typing import NamedTuple


class SSEEvent(NamedTuple):
    """One dispatched event: its joined data and the optional ``event:`` type."""

    data: str
    event: str | None = None
    id: str | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events they complete."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # a line not yet terminated
        self._skip_lf = False  # the last byte seen was CR: a following LF is its pair
        self._data: list[bytes] = []
        self._event: str | None = None
        self._id: str | None = None
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._skip_lf and chunk[:1] == b"\n":
            # CRLF split across two reads (fixture crlf.sse, cut at every byte).
            chunk = chunk[1:]
        self._skip_lf = False
        if not chunk:
            return []
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)  # no line ends yet: no copying of long lines
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending = []
        lines = chunk.splitlines(keepends=True)
        last = lines[-1]
        if not last.endswith((b"\n", b"\r")):
            self._pending.append(lines.pop())
        elif last.endswith(b"\r"):
            self._skip_lf = True
        events: list[SSEEvent] = []
        for line in lines:
            self._take_line(line.rstrip(b"\r\n"), events)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: finish a last line and event left without a blank line."""
        events: list[SSEEvent] = []
        if self._pending:
            self._take_line(b"".join(self._pending), events)
            self._pending = []
        self._dispatch(events)
        return events

    def _take_line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value[:1] == b" " else value)
            self._has_data = True
            return
        if line[:1] == b":":
            return  # comment or keep-alive (fixture keepalive.sse)
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":  # "data" with no colon: an empty data line
            self._data.append(b"")
            self._has_data = True
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode("utf-8", "replace")
        # "retry" and unknown fields are ignored, as the SSE spec says.

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._has_data:
            raw = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            events.append(SSEEvent(raw.decode("utf-8", "replace"), self._event, self._id))
        self._data = []
        self._has_data = False
        self._event = None
