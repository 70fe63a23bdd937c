"""Errors name what was tried: the URL (never its credentials), a /v1 hint for a 404 on a
base URL without it, how many attempts were spent, and a line on stderr for each retry."""

from __future__ import annotations

import re
import socket
import sys

from clirun import process_env, run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, Raw, models, text_stream

TRACE = "trace-tried"
SLOW_DOWN = b'{"error": {"message": "slow down"}}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def root_of(api: FakeAPI) -> str:
    """The fake server's address without the ``/v1`` path."""
    return f"http://127.0.0.1:{api.port}"


def test_connection_refused_names_the_url_it_tried() -> None:
    port = free_port()
    result = run_cli(["--base-url", f"http://127.0.0.1:{port}/v1", "--retries", "0",
                      "--trace-id", TRACE, "--no-history", "hi"])
    assert result.exit_code == 7
    assert result.stdout == ""
    line, = result.stderr.splitlines()
    assert line.startswith("chatcli: error: connection refused (")
    assert line.endswith(f" — POST http://127.0.0.1:{port}/v1/chat/completions"
                         f" (trace id {TRACE})")


def test_credentials_in_the_url_are_never_shown() -> None:
    port = free_port()
    write_config(f'base_url = "http://alice:hunter2-secret@127.0.0.1:{port}/v1"\n'
                 "retries = 0\n")
    result = run_cli(["--trace-id", TRACE, "--no-history", "hi"])
    assert result.exit_code == 7
    assert f"— POST http://127.0.0.1:{port}/v1/chat/completions (trace id {TRACE})\n" \
        in result.stderr
    assert "alice" not in result.stderr
    assert "hunter2" not in result.stderr


def test_404_names_the_url_without_credentials(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b"", ""))
    url = f"http://bob:pa55word-x@127.0.0.1:{fakeapi.port}/v1"
    result = run_cli(["--base-url", url, "--retries", "0", "--trace-id", TRACE,
                      "--no-history", "hi"])
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == (f"chatcli: error: HTTP 404: Not Found — POST"
                             f" http://127.0.0.1:{fakeapi.port}/v1/chat/completions"
                             f" (trace id {TRACE})\n")


def test_404_without_v1_in_the_base_url_suggests_it(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b'{"detail": "Not Found"}', "application/json"),
                path="/chat/completions")
    result = run_cli(["--base-url", root_of(fakeapi), "--retries", "0", "--trace-id", TRACE,
                      "--no-history", "hi"])
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.splitlines() == [
        f"chatcli: error: HTTP 404: Not Found — POST {root_of(fakeapi)}/chat/completions"
        f" (trace id {TRACE})",
        f"did you mean {root_of(fakeapi)}/v1?",
    ]


def test_models_404_without_v1_suggests_it(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b"", ""), path="/models")
    result = run_cli(["models", "--base-url", root_of(fakeapi) + "/", "--retries", "0",
                      "--trace-id", TRACE])
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.splitlines() == [
        f"chatcli: error: HTTP 404: Not Found — GET {root_of(fakeapi)}/models"
        f" (trace id {TRACE})",
        f"did you mean {root_of(fakeapi)}/v1?",
    ]


def test_404_with_v1_gets_no_hint(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b"", ""))
    result = run_cli(["--base-url", fakeapi.base_url, "--retries", "0", "--no-history", "hi"])
    assert result.exit_code == 4
    assert len(result.stderr.splitlines()) == 1


TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "200", "LINES": "40"}


def shown(text: str) -> list[str]:
    """Lines as a terminal shows them: escape sequences and carriage returns left out."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", text).splitlines()


def test_spent_retries_are_counted_and_each_retry_is_a_line(fakeapi: FakeAPI) -> None:
    for _ in range(3):
        fakeapi.add(Raw(429, SLOW_DOWN, "application/json", headers={"Retry-After": "0"}))
    result = run_cli(["--base-url", fakeapi.base_url, "--retries", "2", "--trace-id", TRACE,
                      "--no-history", "-O", "plain", "hi"], env=TERMINAL)
    assert (result.exit_code, result.stdout) == (6, "")
    assert shown(result.stderr) == [
        f"chatcli: retrying in 0.0s (attempt 2 of 3): HTTP 429: slow down (trace id {TRACE})",
        f"chatcli: retrying in 0.0s (attempt 3 of 3): HTTP 429: slow down (trace id {TRACE})",
        f"chatcli: error: HTTP 429: slow down (after 3 attempts, trace id {TRACE})",
    ]
    assert len(fakeapi.requests) == 3


def test_in_a_pipe_only_the_error_counts_the_attempts(fakeapi: FakeAPI) -> None:
    for _ in range(3):
        fakeapi.add(Raw(429, SLOW_DOWN, "application/json", headers={"Retry-After": "0"}))
    result = run_cli(["--base-url", fakeapi.base_url, "--retries", "2", "--trace-id", TRACE,
                      "--no-history", "hi"])
    assert (result.exit_code, result.stdout) == (6, "")
    assert result.stderr == (f"chatcli: error: HTTP 429: slow down (after 3 attempts,"
                             f" trace id {TRACE})\n")


def test_models_shows_its_retries(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(503, b"busy", "text/plain", headers={"Retry-After": "0"}), path="/v1/models")
    fakeapi.add(JSON(models(["gpt-x"])), path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url, "--retries", "1",
                      "--trace-id", TRACE], env=TERMINAL)
    assert (result.exit_code, result.stdout) == (0, "gpt-x\n")
    assert shown(result.stderr) == [
        f"chatcli: retrying in 0.0s (attempt 2 of 2): HTTP 503: busy (trace id {TRACE})"]


def test_a_retry_on_a_terminal_is_one_dim_line(fakeapi: FakeAPI) -> None:
    import pexpect

    fakeapi.add(Raw(429, SLOW_DOWN, "application/json", headers={"Retry-After": "0"}))
    fakeapi.add(SSE(text_stream(["fine"])))
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "--base-url", fakeapi.base_url,
                                           "--trace-id", TRACE, "--no-history", "hi"],
                          env=process_env({"TERM": "xterm-256color"}), dimensions=(40, 200),
                          timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    screen = child.before.decode()
    assert (f"\x1b[2mchatcli: retrying in 0.0s (attempt 2 of 3): HTTP 429: slow down"
            f" (trace id {TRACE})\x1b[0m\r\n") in screen
    assert "fine" in screen
