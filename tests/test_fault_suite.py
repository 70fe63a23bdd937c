"""More of the network's failure modes, each through the real entry point."""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import process_env, run_cli, wait_until_polling
from fakeapi import SSE, FakeAPI, chunk, sse_bytes, text_stream


def test_a_gzip_encoded_stream(fakeapi: FakeAPI) -> None:
    body = gzip.compress(text_stream(["compressed ", "answer"]))
    fakeapi.add(SSE(body, headers={"Content-Encoding": "gzip"}))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "compressed answer\n", "")


def test_an_event_stream_with_the_wrong_content_type(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["still SSE"]), content_type="text/plain; charset=utf-8"))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout) == (0, "still SSE\n")


def test_a_single_ten_megabyte_event(fakeapi: FakeAPI) -> None:
    big = "x" * (10 * 1024 * 1024)
    fakeapi.add(SSE(sse_bytes([chunk(content=big), chunk(finish_reason="stop")])))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["choices"][0]["message"]["content"] == big


def test_a_slow_drip_one_byte_at_a_time(fakeapi: FakeAPI) -> None:
    pieces = ["drip ", "by ", "drip, ", "中文 ", "🙂"]
    fakeapi.add(SSE(text_stream(pieces), per_byte=True))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout) == (0, "".join(pieces) + "\n")


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: new connections hang in the handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the queue; further handshakes get no answer
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_connect_that_never_completes_is_a_timeout() -> None:
    with unanswered_port() as port:
        result = run_cli(["--base-url", f"http://127.0.0.1:{port}/v1", "--connect-timeout",
                          "0.3", "--retries", "0", "hi"])
    assert result.exit_code == 8, result.stderr
    assert result.stderr.startswith("chatcli: error: timed out connecting")


def test_ctrl_c_while_connecting() -> None:
    with unanswered_port() as port:
        child = subprocess.Popen(
            [sys.executable, "-m", "chatcli", "--base-url", f"http://127.0.0.1:{port}/v1",
             "--connect-timeout", "60", "-v", "--no-history", "hi"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=process_env())
        assert child.stderr is not None
        # -v logs the request line just before the connection is opened.
        for line in child.stderr:
            if line.startswith(b"> POST "):
                break
        # A signal that lands between Python's last check and the poll() of connect waits
        # for the poll to end (CPython's race, not chatcli's): signal once it is polling.
        wait_until_polling(child.pid)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert out == b""
    assert err.decode().splitlines()[-1] == "chatcli: interrupted"


@pytest.mark.parametrize("size", [1, 3])
def test_a_read_timeout_before_any_byte(fakeapi: FakeAPI, size: int) -> None:
    from fakeapi import Gate

    gate = fakeapi.add(Gate(first=b": " + b"x" * size + b"\n\n", rest=text_stream(["late"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--timeout", "0.3", "--retries", "0",
                      "hi"])
    gate.release()
    assert result.exit_code == 8
    assert "timed out waiting for data" in result.stderr


def test_ctrl_c_during_a_tool_call(fakeapi: FakeAPI) -> None:

    from fakeapi import tool_delta

    fixtures = Path(__file__).resolve().parent / "tools_fixtures"
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_h", "lookup", '{"query": "x"}')]),
        chunk(finish_reason="tool_calls"),
    ])))
    hang = f"lookup={sys.executable} {fixtures / 'command_tool.py'} hang"
    child = subprocess.Popen(
        [sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url, "--tools",
         str(fixtures / "definitions.json"), "--tool-cmd", hang, "--yes", "hi"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=process_env())
    assert child.stderr is not None
    for line in child.stderr:  # the call is summarised just before the tools run
        if line.startswith(b"tool call: lookup"):
            break
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert err.decode().splitlines()[-1] == "chatcli: interrupted"
    assert len(fakeapi.requests) == 1  # the loop stopped: no second round was sent


def test_rate_limited_with_an_http_date_until_retries_run_out(fakeapi: FakeAPI) -> None:
    import email.utils

    from fakeapi import Raw

    past = email.utils.formatdate(time.time() - 5, usegmt=True)
    for _ in range(3):
        fakeapi.add(Raw(429, b'{"error": {"message": "slow down", "code": 429}}',
                        "application/json", headers={"Retry-After": past}))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"])
    assert result.exit_code == 6
    assert result.stderr == ("chatcli: error: HTTP 429: slow down (429)"
                             " (after 3 attempts, trace id t)\n")
    assert len(fakeapi.requests) == 3
