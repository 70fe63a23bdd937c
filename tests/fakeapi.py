"""A scripted OpenAI-compatible HTTP server for tests.

Tests queue replies per path with ``FakeAPI.add``; each request pops the next
reply for its path and is recorded in ``FakeAPI.requests``. Replies replay
exact bytes (``SSE``), JSON bodies, arbitrary bodies, dropped connections
(``HangUp``) or streams that pause until the test says so (``Gate``).
The ``sse_bytes``/``chunk``/``text_stream``/... builders make realistic payloads.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NoReturn, TypeAlias, TypeVar

__all__ = [
    "CHAT_PATH",
    "JSON",
    "MODELS_PATH",
    "SSE",
    "STREAMS_DIR",
    "FakeAPI",
    "Gate",
    "HangUp",
    "Raw",
    "Recorded",
    "Repeat",
    "Reply",
    "chunk",
    "completion",
    "load_stream",
    "models",
    "sse_bytes",
    "text_stream",
    "tool_delta",
    "usage_chunk",
]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
STREAMS_DIR = Path(__file__).parent / "streams"
UNSCRIPTED_STATUS = 599

Framing: TypeAlias = Literal["chunked", "close"]
Headers: TypeAlias = Mapping[str, str] | None

_CREATED = 1730000000
_STOP_JOIN_SECONDS = 5.0


# --------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)


# --------------------------------------------------------------------------
# Reply kinds
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SSE:
    """Replays ``body`` byte for byte.

    ``writes`` sets the exact write boundaries (they must join to ``body``);
    ``per_byte`` writes one byte at a time. With ``framing="chunked"`` every
    write is one HTTP chunk (empty writes are skipped: a zero-length chunk
    would end the body); with ``"close"`` there is no length and the server
    closes the connection at the end.
    """

    body: bytes
    writes: Sequence[bytes] | None = None
    per_byte: bool = False
    framing: Framing = "chunked"
    content_type: str = "text/event-stream"
    status: int = 200
    headers: Headers = None

    def __post_init__(self) -> None:
        if self.writes is not None and b"".join(self.writes) != self.body:
            raise ValueError("SSE.writes must join to exactly SSE.body")
        if self.writes is not None and self.per_byte:
            raise ValueError("use either SSE.writes or SSE.per_byte, not both")

    def pieces(self) -> list[bytes]:
        """The body split at the write boundaries the server will use."""
        if self.per_byte:
            return [self.body[i : i + 1] for i in range(len(self.body))]
        if self.writes is not None:
            return list(self.writes)
        return [self.body]


@dataclass(frozen=True)
class JSON:
    """A JSON body with Content-Length."""

    obj: Any
    status: int = 200
    headers: Headers = None


@dataclass(frozen=True)
class Raw:
    """An arbitrary body with Content-Length; no Content-Type if it is ''."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: Headers = None


@dataclass(frozen=True)
class HangUp:
    """Sends chunked SSE headers and ``before``, then drops the connection.

    The terminating zero-length chunk never comes, so the client sees the
    connection close mid-body. With ``no_response=True`` the server closes
    the connection without sending a status line at all.
    """

    before: bytes = b""
    status: int = 200
    no_response: bool = False
    headers: Headers = None

    def __post_init__(self) -> None:
        if self.no_response and self.before:
            raise ValueError("HangUp(no_response=True) sends nothing, so before must be empty")


@dataclass(frozen=True, eq=False)
class Gate:
    """Writes ``first``, then waits for ``release()`` before writing ``rest``.

    ``reached`` is set once ``first`` (and the headers) have been written.
    ``FakeAPI.stop`` opens every gate; the server then drops the connection
    instead of writing ``rest``.
    """

    first: bytes
    rest: bytes = b""
    status: int = 200
    framing: Framing = "chunked"
    content_type: str = "text/event-stream"
    headers: Headers = None
    reached: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _opened: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def release(self) -> None:
        """Let the server write ``rest``."""
        self._opened.set()

    @property
    def released(self) -> bool:
        return self._opened.is_set()

    def wait_reached(self, timeout: float = 10.0) -> None:
        """Block until the server has written ``first``; fail after ``timeout``."""
        if not self.reached.wait(timeout):
            raise AssertionError(f"server never reached the gate within {timeout}s")


@dataclass(frozen=True)
class Repeat:
    """Writes ``first``, then ``piece`` every ``interval`` seconds until the client goes
    away or the API stops: a server that keeps a stream alive and never finishes it."""

    first: bytes
    piece: bytes = b": ping\n\n"
    interval: float = 0.05
    status: int = 200
    content_type: str = "text/event-stream"
    headers: Headers = None


Reply: TypeAlias = SSE | JSON | Raw | HangUp | Gate | Repeat
R = TypeVar("R", SSE, JSON, Raw, HangUp, Gate, Repeat)


def _describe(reply: Reply) -> str:
    if isinstance(reply, SSE):
        return f"SSE(status={reply.status}, {len(reply.body)} bytes, {reply.framing})"
    if isinstance(reply, JSON):
        return f"JSON(status={reply.status}, {jsonlib.dumps(reply.obj)[:60]})"
    if isinstance(reply, Raw):
        return f"Raw(status={reply.status}, {reply.body[:60]!r})"
    if isinstance(reply, HangUp):
        return f"HangUp(before={len(reply.before)} bytes, no_response={reply.no_response})"
    if isinstance(reply, Repeat):
        return f"Repeat(first={len(reply.first)} bytes, piece={reply.piece!r})"
    return f"Gate(first={len(reply.first)} bytes, rest={len(reply.rest)} bytes)"


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------


class _Dropped(Exception):
    """The reply ended by dropping the connection on purpose."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        api = self.server.api
        try:
            path, _, query = self.path.partition("?")
            record = Recorded(
                method=self.command,
                path=path,
                query=query,
                headers=tuple(self.headers.items()),
                body=self._read_body(),
            )
            try:
                self._reply(api._take(record))
            finally:
                api._done(record)
        except (_Dropped, ConnectionError):
            self.close_connection = True
        except Exception as exc:  # a bug in a reply or in this server
            self.close_connection = True
            api._note_error(f"{type(exc).__name__}: {exc}")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, reply: Reply) -> None:
        if isinstance(reply, SSE):
            self._begin(reply.status, reply.content_type, reply.headers, reply.framing)
            for piece in reply.pieces():
                self._write(piece, reply.framing)
            self._end(reply.framing)
        elif isinstance(reply, JSON):
            body = jsonlib.dumps(reply.obj).encode()
            self._begin(reply.status, "application/json", reply.headers, len(body))
            self.wfile.write(body)
        elif isinstance(reply, Raw):
            self._begin(reply.status, reply.content_type, reply.headers, len(reply.body))
            self.wfile.write(reply.body)
        elif isinstance(reply, Repeat):
            self._begin(reply.status, reply.content_type, reply.headers, "chunked")
            self._write(reply.first, "chunked")
            while not self.server.api.stopping:
                time.sleep(reply.interval)  # the server's own pace, not the test's
                try:
                    self._write(reply.piece, "chunked")
                except OSError:
                    self._drop()
            self._drop()
        elif isinstance(reply, HangUp):
            if not reply.no_response:
                self._begin(reply.status, "text/event-stream", reply.headers, "chunked")
                self._write(reply.before, "chunked")
            self._drop()
        else:
            self._begin(reply.status, reply.content_type, reply.headers, reply.framing)
            self._write(reply.first, reply.framing)
            reply.reached.set()
            reply._opened.wait()
            if self.server.api.stopping:
                self._drop()
            self._write(reply.rest, reply.framing)
            self._end(reply.framing)

    def _begin(
        self, status: int, content_type: str, extra: Headers, framing: Framing | int
    ) -> None:
        extra = dict(extra or {})
        given = {name.lower() for name in extra}
        self.send_response(status)
        if content_type and "content-type" not in given:
            self.send_header("Content-Type", content_type)
        if framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif framing == "close":
            self.send_header("Connection", "close")
        elif "content-length" not in given:
            self.send_header("Content-Length", str(framing))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _write(self, data: bytes, framing: Framing) -> None:
        if not data:
            return
        if framing == "chunked":
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def _end(self, framing: Framing) -> None:
        if framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.close_connection = True

    def _drop(self) -> NoReturn:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Dropped


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, api: FakeAPI) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fakeapi-conn",
            daemon=True,
        )
        self.api._track(thread, request)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.api._untrack(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped connections are normal; anything else is reported by the API."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):
            self.api._note_error(f"{type(exc).__name__}: {exc}")


class FakeAPI:
    """A scripted OpenAI-compatible server on 127.0.0.1 (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply]] = {}
        self._gates: list[Gate] = []
        self._requests: list[Recorded] = []
        self._unscripted: list[Recorded] = []
        self._errors: list[str] = []
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._responders: dict[str, Callable[[Recorded, int], Reply]] = {}
        self.in_flight = 0  # requests being answered now
        self.seen_in_flight: list[int] = []  # in flight as each request arrived, itself counted

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeAPI:
        if self._server is not None:
            raise RuntimeError("FakeAPI already started")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.005},
            name="fakeapi",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, open all gates, drop open connections, join threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        server.shutdown()
        thread.join(_STOP_JOIN_SECONDS)
        with self._lock:
            gates = list(self._gates)
            conns = list(self._conns.items())
        for gate in gates:
            gate.release()
        for _, sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for conn_thread, _ in conns:
            conn_thread.join(_STOP_JOIN_SECONDS)
        server.server_close()

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeAPI not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------

    def add(self, reply: R, path: str = CHAT_PATH) -> R:
        """Queue ``reply`` for the next request to ``path``; returns ``reply``."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        with self._lock:
            self._queues.setdefault(path, deque()).append(reply)
            if isinstance(reply, Gate):
                self._gates.append(reply)
        return reply

    def answer_all(self, respond: Callable[[Recorded, int], Reply],
                   path: str = CHAT_PATH) -> None:
        """Answer each request to ``path`` that finds no scripted reply with
        ``respond(request, in_flight)`` (``in_flight`` counts the request itself); it runs
        on the server's thread for that request, so it may block."""
        with self._lock:
            self._responders[path] = respond

    @property
    def requests(self) -> list[Recorded]:
        """Every request received so far, scripted or not, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def unscripted(self) -> list[Recorded]:
        """Requests that found no scripted reply (answered with status 599)."""
        with self._lock:
            return list(self._unscripted)

    def pending(self) -> dict[str, list[Reply]]:
        """Scripted replies not used yet, by path."""
        with self._lock:
            return {path: list(queue) for path, queue in self._queues.items() if queue}

    def problems(self) -> list[str]:
        """What a test left wrong: unused replies, unscripted requests, server errors."""
        found = [
            f"unused scripted reply for {path}: {_describe(reply)}"
            for path, replies in self.pending().items()
            for reply in replies
        ]
        found += [f"unscripted request: {r.method} {r.path}" for r in self.unscripted]
        with self._lock:
            found += [f"fake server error: {message}" for message in self._errors]
        return found

    # -- used by the server threads -----------------------------------------

    def _take(self, record: Recorded) -> Reply:
        with self._lock:
            self._requests.append(record)
            self.in_flight += 1
            self.seen_in_flight.append(self.in_flight)
            queue = self._queues.get(record.path)
            if queue:
                return queue.popleft()
            respond, in_flight = self._responders.get(record.path), self.in_flight
            if respond is None:
                self._unscripted.append(record)
        if respond is not None:
            return respond(record, in_flight)
        message = f"unscripted request: {record.method} {record.path}"
        body = jsonlib.dumps({"error": {"message": message, "type": "fakeapi_unscripted"}})
        return Raw(UNSCRIPTED_STATUS, body.encode(), "application/json")

    def _done(self, record: Recorded) -> None:
        with self._lock:
            self.in_flight -= 1

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _track(self, thread: threading.Thread, sock: socket.socket) -> None:
        with self._lock:
            self._conns[thread] = sock

    def _untrack(self, thread: threading.Thread) -> None:
        with self._lock:
            self._conns.pop(thread, None)


# --------------------------------------------------------------------------
# Payload builders
# --------------------------------------------------------------------------


def load_stream(name: str) -> bytes:
    """The exact bytes of ``tests/streams/NAME.sse``."""
    return (STREAMS_DIR / f"{name}.sse").read_bytes()


def _dumps(obj: Any) -> str:
    return jsonlib.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def sse_bytes(
    chunks: Sequence[Mapping[str, Any] | str], done: bool = True, eol: str = "\n"
) -> bytes:
    """``data: {json}`` events (strings go in verbatim), then ``data: [DONE]``."""
    out = [c if isinstance(c, str) else f"data: {_dumps(c)}{eol}{eol}" for c in chunks]
    if done:
        out.append(f"data: [DONE]{eol}{eol}")
    return "".join(out).encode()


def tool_delta(
    index: int,
    call_id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
) -> dict[str, Any]:
    """One ``delta.tool_calls`` entry; the first fragment of a call has id and name."""
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    entry: dict[str, Any] = {"index": index}
    if call_id is not None:
        entry.update(id=call_id, type="function")
    entry["function"] = function
    return entry


def chunk(
    content: str | None = None,
    reasoning_content: str | None = None,
    role: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    index: int = 0,
    usage: Mapping[str, Any] | None = None,
    *,
    reasoning: str | None = None,
    refusal: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``chat.completion.chunk``; ``extra`` keys go on the chunk itself."""
    delta: dict[str, Any] = {}
    for key, value in (
        ("role", role),
        ("content", content),
        ("reasoning_content", reasoning_content),
        ("reasoning", reasoning),
        ("refusal", refusal),
        ("tool_calls", tool_calls),
    ):
        if value is not None:
            delta[key] = value
    out: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": "test-model",
        "choices": [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ],
    }
    if usage is not None:
        out["usage"] = dict(usage)
    out.update(extra)
    return out


def usage_chunk(usage: Mapping[str, Any]) -> dict[str, Any]:
    """The final ``include_usage`` chunk: empty ``choices`` plus ``usage``."""
    out = chunk(usage=usage)
    out["choices"] = []
    return out


def text_stream(
    pieces: Sequence[str],
    finish_reason: str = "stop",
    usage: Mapping[str, Any] | None = None,
) -> bytes:
    """Role chunk, one chunk per piece, finish chunk, optional usage, [DONE]."""
    chunks = [chunk(role="assistant", content="")]
    chunks += [chunk(content=piece) for piece in pieces]
    chunks.append(chunk(finish_reason=finish_reason))
    if usage is not None:
        chunks.append(usage_chunk(usage))
    return sse_bytes(chunks)


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    reasoning_content: str | None = None,
    usage: Mapping[str, Any] | None = None,
    model: str = "test-model",
) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": dict(usage)
        if usage is not None
        else {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def models(ids: Sequence[str]) -> dict[str, Any]:
    """A ``GET /v1/models`` list."""
    return {
        "object": "list",
        "data": [
            {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "test"}
            for model_id in ids
        ],
    }
