"""One exchange: send the request, decode the stream, accumulate, render, record.

Events are accumulated before they are rendered, so a failing renderer loses
nothing; on any failure or Ctrl-C the partial reply is handed to the renderer
and the recorder before the error goes up to the CLI's boundary. This module
never prints: output belongs to the ``Renderer`` it is given.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from chatcli.endpoint.client import ChatClient, ResponseStream
from chatcli.errors import ChatcliError, ProtocolError, RequestError
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.error_bodies import StreamError
from chatcli.protocol.events import (
    ChunkParser,
    Event,
    Meta,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from chatcli.protocol.messages import Message
from chatcli.protocol.result import Status, TurnResult
from chatcli.protocol.sse import BOM, SSEDecoder, SSEEvent
from chatcli.protocol.text_pieces import UNCLOSED


class Renderer(Protocol):
    """Shows a turn as it happens; implemented in ``render/``."""

    def start(self) -> None:
        """The request is on its way; nothing has arrived."""

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        """Events of one chunk, already accumulated, with the chunk's JSON text as received
        (None for events made at the end of the stream). With one choice asked for, the
        first choice to arrive comes as choice 0, whatever its index."""

    def flush(self) -> None:
        """One network read has been handled: make what was written visible."""

    def finish(self, result: TurnResult) -> None:
        """The answer is complete."""

    def abort(self, result: TurnResult) -> None:
        """The turn failed or was interrupted; keep what was shown, say no more."""


class Unseen:
    """A renderer that shows nothing, for a turn whose answer is for a program (a summary,
    a probe, a batch item); those that collect what arrives override ``on_events``."""

    def start(self) -> None:
        pass

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        pass

    def abort(self, result: TurnResult) -> None:
        pass


class Recorder(Protocol):
    """Keeps the conversation; implemented by the history store."""

    def record_request(self, messages: Sequence[Message], body: Mapping[str, Any]) -> None: ...

    def record_reply(self, result: TurnResult) -> None: ...


_CONTENT_EVENTS = (TextDelta, ReasoningDelta, ToolCallDelta)
_SSE_STARTS = (b"data:", b"event:", b"id:", b"retry:", b":")


class Turn:
    """State of one running exchange; ``run_turn`` is the way to use it.

    ``body`` is the request: it says whether several choices were asked for
    (``n``) and how many ``top_logprobs``.
    """

    def __init__(self, renderer: Renderer, clock: Callable[[], float],
                 body: Mapping[str, Any] | None = None) -> None:
        self.renderer = renderer
        self.clock = clock
        self.started = clock()
        self.first_token: float | None = None
        self.accumulator = Accumulator()
        body = body or {}
        top = body.get("top_logprobs")
        self.parser = ChunkParser(top_logprobs=top if type(top) is int and top >= 0 else None)
        n = body.get("n")
        # One choice asked for: the first one to arrive is shown, whatever its index.
        self._primary: int | None = None if type(n) is not int or n <= 1 else 0
        self.done = False
        self.saw_event = False

    def take(self, events: list[Event], raw: str | None) -> None:
        if not events and raw is None:
            return
        add = self.accumulator.add
        for event in events:
            add(event)
        if self.first_token is None and any(isinstance(e, _CONTENT_EVENTS) for e in events):
            self.first_token = self.clock() - self.started
        if self._primary is None:
            self._primary = next((e.choice for e in events if not isinstance(e, Usage | Meta)),
                                 None)
        if self._primary:
            events = [_as_primary(event, self._primary) for event in events]
        self.renderer.on_events(events, raw)

    def pump(self, stream: ResponseStream) -> None:
        chunks = stream.iter_bytes()
        head, is_json = _sniff(chunks, stream.content_type)
        if is_json:
            self._take_json(_bounded(head, chunks, MAX_JSON_BODY), stream.content_type)
            return
        decoder = SSEDecoder()
        for piece in _prepend(head, chunks):
            if self._take_sse(decoder.feed(piece)):
                break
            self.renderer.flush()
        else:
            self._take_sse(decoder.flush())
        self.take(self.parser.flush(), None)
        if not self.done and not self.accumulator.finished:
            if not self.saw_event:
                kind = stream.content_type or "none"
                raise ProtocolError(f"the response is not an event stream (Content-Type: {kind})")
            raise ProtocolError("the stream ended before the answer was complete"
                                " (no finish_reason and no [DONE])")

    def _take_sse(self, events: list[SSEEvent]) -> bool:
        """Take decoded events; True once ``[DONE]`` has arrived."""
        for sse in events:
            if sse.data == "[DONE]":
                self.done = True
                return True
            self.saw_event = True
            try:
                parsed = self.parser.parse(sse.data, sse.event)
            except StreamError as exc:
                if exc.events:  # what the erroring chunk brought before its error
                    self.take(exc.events, sse.data)
                raise
            self.take(parsed, sse.data)
        return False

    def _take_json(self, raw: bytes, content_type: str) -> None:
        # Fixture-free quirk: some servers ignore "stream": true and answer JSON.
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(
                f"the response is neither an event stream nor JSON (Content-Type: {content_type})"
            ) from exc
        except RecursionError:
            raise ProtocolError("the response is JSON nested too deeply to read") from None
        if not isinstance(body, dict):
            raise ProtocolError("the response is JSON but not an object")
        try:
            events = self.parser.parse_completion(body)
        except StreamError as exc:
            if exc.events:
                self.take(exc.events, text)
            raise
        self.take(events, text)
        self.done = True

    def result(self, status: Status, stream: ResponseStream | None,
               error: BaseException | None = None) -> TurnResult:
        return TurnResult(
            completion=self.accumulator.completion(),
            status=status,
            trace_id=stream.trace_id if stream else None,
            request_id=stream.request_id if stream else None,
            time_to_first_token=self.first_token,
            duration=self.clock() - self.started,
            error=error,
            warnings=[f"choice {index}: {UNCLOSED}" if index else UNCLOSED
                      for index, state in self.accumulator.choices.items() if state.think_unclosed],
            notes=list(self.parser.notes),
        )


def _sniff(chunks: Iterator[bytes], content_type: str) -> tuple[bytes, bool]:
    """Read until the first bytes tell SSE from JSON: (the bytes read, whether JSON).

    The bytes decide, whatever the Content-Type says: a correct stream labelled
    ``application/json`` is still SSE. The Content-Type is asked only when the
    bytes decide nothing. A leading BOM and blank space are dropped.
    """
    head, start = b"", True
    for piece in chunks:
        head += piece
        if start:
            if len(head) < len(BOM) and BOM.startswith(head):
                continue  # fixture bom.sse, dripped one byte at a time
            start, head = False, head.removeprefix(BOM)
        head = head.lstrip(b" \t\r\n")
        if head[:1] == b"{" or head.startswith(_SSE_STARTS):
            return head, head[:1] == b"{"
        if head and (len(head) > 8 or not any(s.startswith(head) for s in _SSE_STARTS)):
            break  # neither: let the Content-Type say
    kind = content_type.lower()
    return head, "json" in kind and "event-stream" not in kind


MAX_JSON_BODY = 64 * 1024 * 1024  # a non-streamed answer is read this far and no further


def _bounded(head: bytes, rest: Iterator[bytes], limit: int) -> bytes:
    """A whole JSON body, or a protocol error once it passes ``limit`` bytes."""
    pieces: list[bytes] = []
    size = 0
    for piece in _prepend(head, rest):
        size += len(piece)
        if size > limit:
            raise ProtocolError(f"the JSON response is larger than {limit // 1_048_576} MiB;"
                                " not read further")
        pieces.append(piece)
    return b"".join(pieces)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _as_primary(event: Event, primary: int) -> Event:
    """``event`` with choices ``primary`` and 0 swapped, so renderers show ``primary`` first.

    Fixture choice_index_1.sse: a relay answering ``n=1`` with a lone choice numbered 1.
    """
    if isinstance(event, Usage | Meta) or event.choice not in (0, primary):
        return event
    swapped = 0 if event.choice == primary else primary
    if isinstance(event, ToolCallDelta):
        return dataclasses.replace(event, choice=swapped)
    return event._replace(choice=swapped)


def run_turn(
    client: ChatClient,
    body: Mapping[str, Any],
    renderer: Renderer,
    *,
    recorder: Recorder | None = None,
    trace_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TurnResult:
    """Run one exchange to the end; on failure the partial result goes to the renderer first."""
    turn = Turn(renderer, clock, body)
    if recorder is not None:
        recorder.record_request(body.get("messages", []), body)
    renderer.start()
    stream: ResponseStream | None = None
    try:
        stream = client.open_chat(body, trace_id)
        with stream:
            turn.pump(stream)
    except ChatcliError as exc:
        if isinstance(exc, RequestError) and stream is not None:
            exc.trace_id = exc.trace_id or stream.trace_id
            exc.request_id = exc.request_id or stream.request_id
        _fail(turn, "error", stream, exc, recorder)
        raise
    except (KeyboardInterrupt, BrokenPipeError) as exc:
        _fail(turn, "interrupted", stream, exc, recorder)
        raise
    result = turn.result("complete", stream)
    if recorder is not None:
        recorder.record_reply(result)
    renderer.finish(result)
    return result


def _fail(turn: Turn, status: Status, stream: ResponseStream | None, exc: BaseException,
          recorder: Recorder | None) -> None:
    result = turn.result(status, stream, exc)
    try:
        if recorder is not None:
            recorder.record_reply(result)
    finally:
        if not isinstance(exc, BrokenPipeError):  # nowhere left to show anything
            turn.renderer.abort(result)
