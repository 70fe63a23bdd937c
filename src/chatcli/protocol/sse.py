"""Server-sent events framing, decoded from raw bytes.

Only framing lives here: lines end at CR, LF or CRLF (never at U+2028, which
is why we do not use ``iter_lines()``), ``:`` lines are comments, several
``data:`` lines join with ``\\n``, a blank line dispatches, and a leading
UTF-8 BOM is dropped. What the data means is ``events.py``'s job.
"""

from __future__ import annotations

from typing import NamedTuple

from chatcli.errors import ProtocolError

BOM = b"\xef\xbb\xbf"
MAX_EVENT_BYTES = 32 * 1024 * 1024  # far above any real chunk (a 10 MB event is tested)


class SSEEvent(NamedTuple):
    """One dispatched event: its joined data and the optional ``event:`` type."""

    data: str
    event: str | None = None
    id: str | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events they complete.

    ``max_event_bytes`` caps what one unfinished line and event may hold: a
    server that never ends a line is a protocol error, not a memory error.
    """

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._pending: list[bytes] = []  # a line not yet terminated
        self._pending_size = 0
        self._skip_lf = False  # the last byte seen was CR: a following LF is its pair
        self._head: bytes | None = b""  # the first bytes, while they may be a BOM; then None
        self._data: list[bytes] = []
        self._data_size = 0
        self._event: str | None = None
        self._id: str | None = None
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events that ``chunk`` completes; raises ProtocolError past the cap."""
        if self._head is not None:
            chunk = self._drop_bom(chunk)
        if self._skip_lf and chunk[:1] == b"\n":
            # CRLF split across two reads (fixture crlf.sse, cut at every byte).
            chunk = chunk[1:]
        self._skip_lf = False
        if not chunk:
            return []
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)  # no line ends yet: no copying of long lines
            self._pending_size += len(chunk)
            self._check_size()
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending = []
        lines = chunk.splitlines(keepends=True)
        last = lines[-1]
        self._pending_size = 0
        if not last.endswith((b"\n", b"\r")):
            self._pending.append(lines.pop())
            self._pending_size = len(last)
        elif last.endswith(b"\r"):
            self._skip_lf = True
        events: list[SSEEvent] = []
        for line in lines:
            self._take_line(line.rstrip(b"\r\n"), events)
        self._check_size()
        return events

    def flush(self) -> list[SSEEvent]:
        """End of stream: finish a last line and event left without a blank line."""
        events: list[SSEEvent] = []
        if self._head:  # a stream of one or two bytes that began like a BOM
            self._pending.append(self._head)
        self._head = None
        if self._pending:
            self._take_line(b"".join(self._pending), events)
            self._pending = []
            self._pending_size = 0
        self._dispatch(events)
        return events

    def _drop_bom(self, chunk: bytes) -> bytes:
        """Hold the first bytes until they are known to be a BOM (dropped) or not.

        Fixture bom.sse: the SSE spec ignores one leading BOM; a byte drip may split it.
        """
        assert self._head is not None
        head = self._head + chunk
        if len(head) < len(BOM) and BOM.startswith(head):
            self._head = head
            return b""
        self._head = None
        return head[len(BOM):] if head.startswith(BOM) else head

    def _check_size(self) -> None:
        size = self._pending_size + self._data_size
        if size > self._max:
            raise ProtocolError(f"an event in the stream grew past {_size(self._max)} without"
                                " ending; that is the most chatcli holds for one event")

    def _take_line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(b"data:"):
            value = line[5:]
            value = value[1:] if value[:1] == b" " else value
            self._data.append(value)
            self._data_size += len(value)
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
        self._data_size = 0
        self._has_data = False
        self._event = None


def _size(count: int) -> str:
    """A byte count as people say it: ``32 MiB``, ``4 KiB`` or ``1000 bytes``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
