"""Local OpenAI-compatible streaming server that replays a fixed token list.

``POST .../chat/completions`` with ``"stream": true`` answers with one SSE
event per token: a role-only first chunk, one content chunk per token (for a
tool-call shape: a chunk naming the call, then one ``tool_calls`` arguments
delta per token), a chunk with ``finish_reason: "stop"`` (``"tool_calls"``), a
usage chunk with empty ``choices``, then ``data: [DONE]``.  The whole body is
encoded once at start-up and sent as HTTP/1.1 chunked transfer in 64 KiB
writes, as fast as the socket takes it.  Non-streaming requests get one
``chat.completion`` object and ``GET .../models`` lists the single model.

Use `BenchServer` in-process (a daemon thread), or run this file to serve in
its own process: it prints the base URL (``http://127.0.0.1:PORT/v1``) on the
first stdout line and serves until stdin closes or it is terminated.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shapes import SHAPES, TOOL_SHAPES

WRITE_SIZE = 64 * 1024
MODEL = "bench-model"
CHUNK_ID = "chatcmpl-bench"
CREATED = 1_700_000_000
PROMPT_TOKENS = 12


def _event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion_tokens,
        "total_tokens": PROMPT_TOKENS + completion_tokens,
    }


def _arguments(index: int, text: str, name: str | None = None) -> dict[str, object]:
    function = {"name": name, "arguments": text} if name else {"arguments": text}
    call: dict[str, object] = {"index": index, "function": function}
    if name:
        call.update(id="call_bench", type="function")
    return {"tool_calls": [call]}


def sse_body(token_list: Sequence[str], tool_call: bool = False) -> bytes:
    """Return the complete SSE byte stream for ``token_list`` (as one tool call's
    arguments if ``tool_call``)."""
    parts = [_event(_chunk({"role": "assistant", "content": ""}))]
    if tool_call:
        parts.append(_event(_chunk(_arguments(0, "", "write_file"))))
        parts.extend(_event(_chunk(_arguments(0, tok))) for tok in token_list)
    else:
        parts.extend(_event(_chunk({"content": tok})) for tok in token_list)
    parts.append(_event(_chunk({}, "tool_calls" if tool_call else "stop")))
    usage_chunk = {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [],
        "usage": _usage(len(token_list)),
    }
    parts.append(_event(usage_chunk))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def completion_body(token_list: Sequence[str]) -> bytes:
    """Return the non-streaming ``chat.completion`` JSON for ``token_list``."""
    return json.dumps(
        {
            "id": CHUNK_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(token_list)},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(len(token_list)),
        }
    ).encode()


def _chunked(body: bytes) -> list[bytes]:
    frames = [
        b"%x\r\n%b\r\n" % (len(body[i : i + WRITE_SIZE]), body[i : i + WRITE_SIZE])
        for i in range(0, len(body), WRITE_SIZE)
    ]
    frames.append(b"0\r\n\r\n")
    return frames


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            body = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            self._send(200, "application/json", body.encode())
        else:
            self._send(404, "application/json", b'{"error":{"message":"not found"}}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.requests += 1
        if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            self._send(404, "application/json", b'{"error":{"message":"not found"}}')
            return
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, "application/json", b'{"error":{"message":"bad json"}}')
            return
        if not request.get("stream"):
            self._send(200, "application/json", self.server.completion)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for frame in self.server.frames:
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    frames: list[bytes]
    completion: bytes
    requests: int

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (reset, broken pipe) are normal here; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class BenchServer:
    """A `ThreadingHTTPServer` on 127.0.0.1, random port, serving ``token_list``."""

    def __init__(self, token_list: Sequence[str], tool_call: bool = False) -> None:
        self.token_list = list(token_list)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.frames = _chunked(sse_body(self.token_list, tool_call))
        self._httpd.completion = completion_body(self.token_list)
        self._httpd.requests = 0
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> int:
        return self._httpd.requests

    def __enter__(self) -> BenchServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000, help="tokens per reply")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="markdown")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    token_list = SHAPES[args.shape](args.tokens, args.seed)
    with BenchServer(token_list, tool_call=args.shape in TOOL_SHAPES) as server:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
