"""Failures end to end: one line on stderr, the documented exit code, nothing lost."""

from __future__ import annotations

import email.utils
import json
import socket
import time

import pytest

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.errors import ServerError
from clirun import run_cli
from fakeapi import JSON, SSE, FakeAPI, Gate, HangUp, Raw, chunk, sse_bytes, text_stream

TRACE = "trace-abc"

BODIES = {
    "json_error": (b'{"error": {"message": "Bad thing happened", "type": "invalid_request_error",'
                   b' "code": "bad_thing"}}', "application/json", "Bad thing happened (bad_thing)"),
    "fastapi_detail": (b'{"detail": "Not authenticated"}', "application/json",
                       "Not authenticated"),
    "bare_string": (b"upstream said no", "text/plain", "upstream said no"),
    "html": (b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
             b"</body></html>", "text/html", "502 Bad Gateway"),
}


def cli(api: FakeAPI, *args: str) -> list[str]:
    return ["--base-url", api.base_url, "--trace-id", TRACE, *args]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 502, 503])
@pytest.mark.parametrize("shape", sorted(BODIES))
def test_error_status_and_body_shapes(fakeapi: FakeAPI, status: int, shape: str) -> None:
    body, content_type, message = BODIES[shape]
    fakeapi.add(Raw(status, body, content_type))
    result = run_cli(cli(fakeapi, "--retries", "0", "hi"))
    assert result.exit_code == (4 if status < 500 else 5)
    assert result.stdout == ""
    tried = f" — POST {fakeapi.base_url}/chat/completions" if status == 404 else ""
    assert result.stderr == f"chatcli: error: HTTP {status}: {message}{tried} (trace id {TRACE})\n"


def test_empty_error_body_uses_the_reason_phrase(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b"", ""))
    result = run_cli(cli(fakeapi, "--retries", "0", "hi"))
    assert (result.exit_code, result.stderr) == (
        4, f"chatcli: error: HTTP 404: Not Found — POST {fakeapi.base_url}/chat/completions"
           f" (trace id {TRACE})\n")


def test_server_request_id_is_reported(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, b'{"error": {"message": "nope"}}', "application/json",
                    headers={"x-request-id": "req_42"}))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.stderr == (
        f"chatcli: error: HTTP 400: nope (trace id {TRACE}, request id req_42)\n")


def test_rate_limit_retries_then_exits_6(fakeapi: FakeAPI) -> None:
    for _ in range(3):
        fakeapi.add(Raw(429, b'{"error": {"message": "slow down"}}', "application/json",
                        headers={"Retry-After": "0"}))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.exit_code == 6
    assert result.stderr == (f"chatcli: error: HTTP 429: slow down (after 3 attempts,"
                             f" trace id {TRACE})\n")
    assert len(fakeapi.requests) == 3
    assert {r.header("X-Trace-ID") for r in fakeapi.requests} == {TRACE}


def test_retry_after_as_http_date(fakeapi: FakeAPI) -> None:
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    fakeapi.add(Raw(429, b"busy", "text/plain", headers={"Retry-After": past}))
    fakeapi.add(SSE(text_stream(["fine"])))
    result = run_cli(cli(fakeapi, "hi"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "fine\n", "")


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_retryable_statuses_then_success_print_the_answer_once(fakeapi: FakeAPI,
                                                               status: int) -> None:
    fakeapi.add(Raw(status, b"try again", "text/plain", headers={"Retry-After": "0"}))
    fakeapi.add(Raw(status, b"try again", "text/plain", headers={"Retry-After": "0"}))
    fakeapi.add(SSE(text_stream(["Hello", " world"])))
    result = run_cli(cli(fakeapi, "hi"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "Hello world\n", "")


def test_4xx_is_not_retried(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, b"bad", "text/plain"))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.exit_code == 4
    assert len(fakeapi.requests) == 1


def test_verbose_retry_is_logged(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(503, b"busy", "text/plain", headers={"Retry-After": "0"}))
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(cli(fakeapi, "-v", "hi"))
    assert result.exit_code == 0
    assert f"retrying in 0.0s after: HTTP 503: busy (trace id {TRACE})" in result.stderr


def test_backoff_grows_with_jitter_and_honours_retry_after(fakeapi: FakeAPI) -> None:
    waits: list[float] = []
    fakeapi.add(Raw(503, b"", ""))
    fakeapi.add(Raw(502, b"", ""))
    fakeapi.add(Raw(429, b"", "", headers={"retry-after-ms": "1500"}))
    fakeapi.add(Raw(500, b"", "", headers={"Retry-After": "7"}))
    fakeapi.add(SSE(text_stream(["ok"])))
    settings = Settings(base_url=fakeapi.base_url, retries=4)
    with ChatClient(settings, sleep=waits.append, jitter=lambda: 0.5) as client:
        client.open_chat({"model": "m", "messages": []}).close()
    assert waits == [0.5, 1.0, 1.5, 7.0]


def test_retries_give_up_with_the_last_error(fakeapi: FakeAPI) -> None:
    waits: list[float] = []
    for _ in range(2):
        fakeapi.add(Raw(500, b"boom", "text/plain"))
    settings = Settings(base_url=fakeapi.base_url, retries=1)
    with ChatClient(settings, sleep=waits.append, jitter=lambda: 0.0) as client, \
            pytest.raises(ServerError) as caught:
        client.open_chat({"model": "m", "messages": []})
    assert caught.value.status == 500
    assert waits == [0.25]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_exits_7() -> None:
    port = free_port()
    result = run_cli(["--base-url", f"http://127.0.0.1:{port}/v1", "--retries", "0",
                      "--trace-id", TRACE, "hi"])
    assert result.exit_code == 7
    assert result.stderr.startswith("chatcli: error: connection refused")
    assert result.stderr.endswith(f"(trace id {TRACE})\n")


def test_server_closing_without_answer_is_retried(fakeapi: FakeAPI) -> None:
    fakeapi.add(HangUp(no_response=True))
    fakeapi.add(SSE(text_stream(["second try"])))
    result = run_cli(cli(fakeapi, "hi"))
    assert (result.exit_code, result.stdout) == (0, "second try\n")


def test_drop_mid_answer_keeps_what_arrived_and_exits_7(fakeapi: FakeAPI) -> None:
    fakeapi.add(HangUp(before=sse_bytes([chunk(role="assistant", content="Partial"),
                                         chunk(content=" answer")], done=False)))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.exit_code == 7
    assert result.stdout == "Partial answer\n"
    assert result.stderr.startswith("chatcli: error: connection dropped while receiving")
    assert len(fakeapi.requests) == 1  # never retried once the answer started


def test_drop_mid_answer_in_json_mode_prints_the_partial(fakeapi: FakeAPI) -> None:
    fakeapi.add(HangUp(before=sse_bytes([chunk(content="Partial")], done=False)))
    result = run_cli(cli(fakeapi, "-O", "json", "hi"))
    assert result.exit_code == 7
    body = json.loads(result.stdout)
    assert body["choices"][0]["message"]["content"] == "Partial"
    assert body["incomplete"] is True
    assert body["error"]["type"] == "NetworkError"
    assert body["error"]["exit_code"] == 7


def test_stall_longer_than_the_read_timeout_exits_8(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(content="Before the stall")], done=False),
                            rest=sse_bytes([chunk(finish_reason="stop")])))
    result = run_cli(cli(fakeapi, "--timeout", "0.3", "hi"))
    gate.release()
    assert result.exit_code == 8
    assert result.stdout == "Before the stall\n"
    assert result.stderr.startswith("chatcli: error: timed out waiting for data while receiving")


def test_ok_status_with_html_is_a_protocol_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"<html><body>login page</body></html>", "text/html"))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.exit_code == 9
    assert result.stderr == ("chatcli: error: the response is not an event stream"
                             f" (Content-Type: text/html) (trace id {TRACE})\n")


def test_json_answer_to_a_streaming_request_is_understood(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"id": "x", "object": "chat.completion", "created": 1, "model": "m",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": "whole"}}]}))
    result = run_cli(cli(fakeapi, "hi"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "whole\n", "")


def test_json_error_object_with_status_200_is_a_server_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "quota exhausted", "code": "insufficient_quota"}}))
    result = run_cli(cli(fakeapi, "--no-stream", "hi"))
    assert result.exit_code == 5
    assert result.stderr == ("chatcli: error: error in the response: quota exhausted"
                             f" (insufficient_quota) (trace id {TRACE})\n")


def test_redirects_are_not_followed(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(301, b"", "", headers={"Location": "http://elsewhere.test/v1/chat"}))
    result = run_cli(cli(fakeapi, "hi"))
    assert result.exit_code == 4
    assert "redirected to http://elsewhere.test/v1/chat (not followed" in result.stderr


def test_debug_adds_the_traceback(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, b"bad", "text/plain"))
    result = run_cli(cli(fakeapi, "--debug", "hi"))
    assert result.exit_code == 4
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.endswith(f"chatcli: error: HTTP 400: bad (trace id {TRACE})\n")


def test_verbose_logs_request_and_response_with_the_key_redacted(fakeapi: FakeAPI,
                                                                 tmp_path: object) -> None:
    fakeapi.add(JSON({"id": "gpt-4o-mini"}), path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(SSE(text_stream(["ok"])))
    image = "data:image/png;base64," + "A" * 500
    result = run_cli(cli(fakeapi, "-v", "--api-key", "sk-secret-key-9876", "-i", image, "hi"))
    assert result.exit_code == 0
    err = result.stderr
    assert "sk-secret-key-9876" not in err
    assert "> authorization: Bearer sk-…9876" in err
    assert f"> POST {fakeapi.base_url}/chat/completions" in err
    assert f"> x-trace-id: {TRACE}" in err
    assert "data:image/png;base64,…(522 chars)" in err
    assert "< HTTP/1.1 200 OK" in err
    assert "< content-type: text/event-stream" in err
    assert result.stdout == "ok\n"


def test_invalid_base_url_is_a_config_error() -> None:
    result = run_cli(["--base-url", "ftp://example.com/v1", "hi"])
    assert result.exit_code == 3
    assert result.stderr == ("chatcli: error: base URL 'ftp://example.com/v1' must start with"
                             " http:// or https://\n")


def test_a_string_error_keeps_its_message_field(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(500, b'{"error": "SyntaxError", "message": "Bad control character in'
                    b' string literal"}', "application/json"))
    result = run_cli(["--base-url", fakeapi.base_url, "--retries", "0", "--trace-id", "t", "hi"])
    assert result.exit_code == 5
    assert result.stderr == ("chatcli: error: HTTP 500: SyntaxError: Bad control character in"
                             " string literal (trace id t)\n")
