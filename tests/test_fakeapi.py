"""Tests of the fake API server and of the stream fixtures themselves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeapi import (
    CHAT_PATH,
    JSON,
    MODELS_PATH,
    SSE,
    STREAMS_DIR,
    UNSCRIPTED_STATUS,
    FakeAPI,
    Gate,
    HangUp,
    Raw,
    chunk,
    completion,
    load_stream,
    models,
    sse_bytes,
    text_stream,
    tool_delta,
    usage_chunk,
)

FIXTURES = sorted(path.stem for path in STREAMS_DIR.glob("*.sse"))
REQUIRED = {
    "role_first", "usage_empty_choices", "keepalive", "crlf", "cr", "multiline_data", "utf8",
    "u2028", "reasoning_content", "reasoning_field", "think_tags", "parallel_tool_calls",
    "tool_args_variants", "tool_missing_index", "tool_first_index_1", "error_mid_stream",
    "no_done", "truncated", "no_trailing_blank", "n2", "refusal", "length",
    "system_fingerprint", "malformed_chunk",
}  # fmt: skip


@pytest.fixture
def client(fakeapi: FakeAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fakeapi.base_url, timeout=10) as c:
        yield c


def raw_pieces(client: httpx.Client, path: str = "/chat/completions") -> list[bytes]:
    """POST and return the body exactly as it came off the wire, piece by piece."""
    with client.stream("POST", path, json={"stream": True}) as resp:
        assert resp.status_code == 200
        return list(resp.iter_raw())


def read_at_least(pieces: Iterator[bytes], size: int) -> bytes:
    """Pull pieces until ``size`` bytes arrived (a write may come in several pieces)."""
    got = b""
    while len(got) < size:
        got += next(pieces)
    return got


def boundaries(pieces: list[bytes]) -> set[int]:
    offsets, at = set(), 0
    for piece in pieces:
        at += len(piece)
        offsets.add(at)
    return offsets


# -- SSE replies ------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_sse_replays_fixture_bytes_exactly(
    fakeapi: FakeAPI, client: httpx.Client, name: str
) -> None:
    body = load_stream(name)
    fakeapi.add(SSE(body))
    assert b"".join(raw_pieces(client)) == body


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_sse_framing(fakeapi: FakeAPI, client: httpx.Client, framing: Any) -> None:
    body = load_stream("role_first")
    fakeapi.add(SSE(body, framing=framing, headers={"x-request-id": "req_123"}))
    with client.stream("POST", "/chat/completions") as resp:
        assert resp.headers["content-type"] == "text/event-stream"
        assert resp.headers["x-request-id"] == "req_123"
        assert "content-length" not in resp.headers
        chunked = resp.headers.get("transfer-encoding") == "chunked"
        assert chunked == (framing == "chunked")
        assert (resp.headers.get("connection") == "close") == (framing == "close")
        assert resp.read() == body


def test_per_byte_writes_arrive_one_byte_at_a_time(fakeapi: FakeAPI, client: httpx.Client) -> None:
    body = load_stream("utf8")
    fakeapi.add(SSE(body, per_byte=True))
    pieces = raw_pieces(client)
    assert b"".join(pieces) == body
    assert len(pieces) == len(body)


def test_writes_split_a_utf8_character(fakeapi: FakeAPI, client: httpx.Client) -> None:
    body = load_stream("utf8")
    cut = body.index("😀".encode()) + 2  # inside the 4-byte emoji
    writes = [body[:cut], body[cut:]]
    fakeapi.add(SSE(body, writes=writes))
    pieces = raw_pieces(client)
    assert b"".join(pieces) == body
    assert cut in boundaries(pieces)


def test_writes_must_join_to_body() -> None:
    with pytest.raises(ValueError, match="join"):
        SSE(b"data: x\n\n", writes=[b"data: x\n"])


def test_close_framing_per_byte(fakeapi: FakeAPI, client: httpx.Client) -> None:
    body = load_stream("crlf")
    fakeapi.add(SSE(body, per_byte=True, framing="close"))
    assert b"".join(raw_pieces(client)) == body


def test_sse_with_error_status(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(SSE(b'data: {"error": {"message": "bad"}}\n\n', status=400))
    with client.stream("POST", "/chat/completions") as resp:
        assert resp.status_code == 400
        assert resp.read() == b'data: {"error": {"message": "bad"}}\n\n'


# -- other replies and recording ---------------------------------------------------


def test_requests_are_recorded(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(JSON(completion("hi")))
    payload = {"model": "m", "messages": [{"role": "user", "content": "héllo"}]}
    resp = client.post(
        "/chat/completions?api-version=2024-10-21",
        json=payload,
        headers={"Authorization": "Bearer sk-test", "X-Custom": "1"},
    )
    assert resp.json()["choices"][0]["message"]["content"] == "hi"
    [req] = fakeapi.requests
    assert (req.method, req.path, req.query) == ("POST", CHAT_PATH, "api-version=2024-10-21")
    assert req.json() == payload
    assert req.header("authorization") == "Bearer sk-test"
    assert req.header("x-custom") == "1"
    assert req.header("content-type") == "application/json"
    assert req.header("x-missing") is None


def test_chunked_request_body_is_recorded(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(JSON({}))
    client.post("/chat/completions", content=iter([b'{"a":', b" 1}"]))
    [req] = fakeapi.requests
    assert req.header("transfer-encoding") == "chunked"
    assert req.json() == {"a": 1}


def test_replies_are_fifo_per_path(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(JSON({"n": 1}))
    fakeapi.add(JSON(models(["a", "b"])), path=MODELS_PATH)
    fakeapi.add(JSON({"n": 2}))
    assert client.post("/chat/completions").json() == {"n": 1}
    assert client.get("/models").json()["data"][1]["id"] == "b"
    assert client.post("/chat/completions").json() == {"n": 2}
    assert [(r.method, r.path) for r in fakeapi.requests] == [
        ("POST", CHAT_PATH),
        ("GET", MODELS_PATH),
        ("POST", CHAT_PATH),
    ]


def test_json_reply_with_status_and_headers(fakeapi: FakeAPI, client: httpx.Client) -> None:
    error = {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit"}}
    fakeapi.add(JSON(error, status=429, headers={"Retry-After": "7", "x-request-id": "r1"}))
    resp = client.post("/chat/completions")
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7"
    assert resp.headers["x-request-id"] == "r1"
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == error


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (422, b'{"detail": [{"msg": "field required"}]}', "application/json"),
        (500, b"Internal Server Error", "text/plain"),
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (503, b"", ""),
    ],
)
def test_raw_reply(
    fakeapi: FakeAPI, client: httpx.Client, status: int, body: bytes, content_type: str
) -> None:
    fakeapi.add(Raw(status, body, content_type))
    resp = client.post("/chat/completions")
    assert resp.status_code == status
    assert resp.content == body
    assert resp.headers.get("content-type") == (content_type or None)
    assert resp.headers["content-length"] == str(len(body))


def test_keep_alive_connection_serves_several_requests(
    fakeapi: FakeAPI, client: httpx.Client
) -> None:
    for n in range(3):
        fakeapi.add(SSE(text_stream([str(n)])))
    bodies = [b"".join(raw_pieces(client)) for _ in range(3)]
    assert [b'"content":"%d"' % n in body for n, body in enumerate(bodies)] == [True] * 3


# -- dropped connections and gates ---------------------------------------------------


def test_hang_up_mid_body(fakeapi: FakeAPI, client: httpx.Client) -> None:
    before = sse_bytes([chunk(role="assistant", content="partial")], done=False)
    fakeapi.add(HangUp(before))
    received: list[bytes] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", "/chat/completions") as resp,
    ):
        assert resp.status_code == 200
        for piece in resp.iter_raw():
            received.append(piece)
    assert b"".join(received) == before


def test_hang_up_without_response(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(HangUp(no_response=True))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions")
    assert len(fakeapi.requests) == 1


def test_gate_holds_the_rest_until_released(fakeapi: FakeAPI, client: httpx.Client) -> None:
    body = text_stream(["one", " two"])
    cut = body.index(b'"one"') + 10
    gate = fakeapi.add(Gate(body[:cut], body[cut:]))
    with client.stream("POST", "/chat/completions") as resp:
        pieces = resp.iter_raw()
        first = read_at_least(pieces, cut)
        gate.wait_reached()
        assert not gate.released
        assert first == body[:cut]
        gate.release()
        assert first + b"".join(pieces) == body


def test_stop_opens_gates_and_drops_their_connections() -> None:
    api = FakeAPI().start()
    gate = api.add(Gate(b": first\n\n", b"data: [DONE]\n\n"))
    with (
        httpx.Client(base_url=api.base_url, timeout=10) as own,
        own.stream("POST", "/chat/completions") as resp,
    ):
        pieces = resp.iter_raw()
        assert read_at_least(pieces, 9) == b": first\n\n"
        gate.wait_reached()
        api.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            list(pieces)
    assert gate.released
    assert api.problems() == []


def test_server_side_failure_is_reported() -> None:
    with FakeAPI() as api, httpx.Client(base_url=api.base_url, timeout=10) as c:
        api.add(JSON(object()))
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/chat/completions")
    [problem] = api.problems()
    assert problem.startswith("fake server error: TypeError: Object of type object")


# -- leftover checks (what the fakeapi fixture enforces) ---------------------------------


def test_unscripted_request_is_answered_and_reported() -> None:
    with FakeAPI() as api, httpx.Client(base_url=api.base_url, timeout=10) as c:
        resp = c.get("/models")
    assert resp.status_code == UNSCRIPTED_STATUS
    assert "unscripted request" in resp.json()["error"]["message"]
    assert [(r.method, r.path) for r in api.unscripted] == [("GET", MODELS_PATH)]
    assert api.requests == api.unscripted
    assert api.problems() == ["unscripted request: GET /v1/models"]


def test_unused_reply_is_reported() -> None:
    with FakeAPI() as api:
        api.add(SSE(b"data: [DONE]\n\n"))
        api.add(JSON({}), path=MODELS_PATH)
    assert set(api.pending()) == {CHAT_PATH, MODELS_PATH}
    problems = api.problems()
    assert len(problems) == 2
    assert all(p.startswith("unused scripted reply for /v1/") for p in problems)


def test_clean_run_has_no_problems(fakeapi: FakeAPI, client: httpx.Client) -> None:
    fakeapi.add(JSON(models(["m"])), path=MODELS_PATH)
    client.get("/models")
    assert fakeapi.problems() == []


# -- lifecycle ------------------------------------------------------------------------


def test_servers_start_and_stop_one_after_another() -> None:
    ports = set()
    for _ in range(20):
        with FakeAPI() as api, httpx.Client(timeout=10) as c:
            api.add(JSON({"ok": True}), path="/health")
            assert c.get(api.base_url.removesuffix("/v1") + "/health").json() == {"ok": True}
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", api.base_url)
            ports.add(api.port)
            api.stop()  # stop is idempotent
    assert ports


def test_stop_closes_idle_keep_alive_connections() -> None:
    with FakeAPI() as api, httpx.Client(base_url=api.base_url, timeout=10) as c:
        api.add(JSON({}))
        c.post("/chat/completions")  # the connection stays open in the pool
        api.stop()


def test_base_url_needs_a_started_server() -> None:
    with pytest.raises(RuntimeError):
        _ = FakeAPI().base_url


# -- builders -----------------------------------------------------------------------------


def data_lines(body: bytes) -> list[str]:
    return [line[6:] for line in body.decode().split("\n\n") if line.startswith("data: ")]


def test_chunk_shape() -> None:
    c = chunk(content="hi", system_fingerprint="fp_x")
    assert c["object"] == "chat.completion.chunk"
    assert (c["id"], c["created"], c["model"]) == ("chatcmpl-test", 1730000000, "test-model")
    assert c["system_fingerprint"] == "fp_x"
    assert c["choices"] == [
        {"index": 0, "delta": {"content": "hi"}, "logprobs": None, "finish_reason": None}
    ]
    assert chunk(finish_reason="stop", index=1)["choices"][0]["delta"] == {}
    call = tool_delta(0, "call_1", "f", "")
    function = {"name": "f", "arguments": ""}
    assert call == {"index": 0, "id": "call_1", "type": "function", "function": function}
    assert tool_delta(0, arguments="{}") == {"index": 0, "function": {"arguments": "{}"}}
    assert usage_chunk({"total_tokens": 3})["choices"] == []


def test_sse_bytes_layout() -> None:
    body = sse_bytes([": keep-alive\n\n", chunk(content="é")], eol="\r\n")
    assert body.startswith(b": keep-alive\n\ndata: {")
    assert body.endswith(b"}\r\n\r\ndata: [DONE]\r\n\r\n")
    assert "é".encode() in body
    assert not sse_bytes([], done=False)


def test_text_stream_layout() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    events = data_lines(text_stream(["a", "b"], finish_reason="length", usage=usage))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["a", "b"]
    assert chunks[3]["choices"][0]["finish_reason"] == "length"
    assert chunks[4] == usage_chunk(usage)


def test_completion_and_models() -> None:
    body = completion("hello", finish_reason="length")
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "hello",
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "length"
    assert [m["id"] for m in models(["x", "y"])["data"]] == ["x", "y"]


# -- stream fixtures ------------------------------------------------------------------------


def readme_names(streams_dir: Path) -> list[str]:
    text = (streams_dir / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^- `([a-z0-9_]+)` — \S", text, flags=re.MULTILINE)


def test_fixture_set_is_complete(streams_dir: Path) -> None:
    names = readme_names(streams_dir)
    assert len(names) == len(set(names)), "a fixture is described twice"
    assert sorted(names) == FIXTURES
    expected = sorted(p.name.removesuffix(".expected.json") for p in streams_dir.glob("*.json"))
    assert expected == FIXTURES
    assert set(FIXTURES) >= REQUIRED
    assert {p.suffix for p in streams_dir.iterdir()} == {".sse", ".json", ".md"}


def check_expected(data: Any) -> None:
    """Assert ``data`` follows the NAME.expected.json schema (see streams/README.md)."""
    assert isinstance(data, dict)
    assert list(data) == ["choices", "usage", "system_fingerprint", "outcome"]
    assert data["outcome"] in {"ok", "server_error", "protocol_error"}
    assert data["usage"] is None or isinstance(data["usage"], dict)
    assert data["system_fingerprint"] is None or isinstance(data["system_fingerprint"], str)
    assert isinstance(data["choices"], list) and data["choices"]
    indexes = [choice["index"] for choice in data["choices"]]
    assert indexes == sorted(set(indexes))
    for choice in data["choices"]:
        keys = ["index", "content", "reasoning", "refusal", "tool_calls", "finish_reason"]
        assert list(choice) == keys
        assert isinstance(choice["index"], int)
        for key in ("content", "reasoning", "refusal", "finish_reason"):
            assert choice[key] is None or (isinstance(choice[key], str) and choice[key])
        assert isinstance(choice["tool_calls"], list)
        for call in choice["tool_calls"]:
            assert list(call) == ["index", "id", "type", "function"]
            assert isinstance(call["index"], int) and isinstance(call["id"], str)
            assert call["type"] == "function"
            assert list(call["function"]) == ["name", "arguments"]
            assert all(isinstance(v, str) for v in call["function"].values())
        tool_indexes = [call["index"] for call in choice["tool_calls"]]
        assert tool_indexes == sorted(set(tool_indexes))


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_files_are_well_formed(streams_dir: Path, name: str) -> None:
    body = (streams_dir / f"{name}.sse").read_bytes()
    body.decode("utf-8")  # raises if the bytes are not UTF-8
    assert b"data:" in body
    expected = json.loads((streams_dir / f"{name}.expected.json").read_text(encoding="utf-8"))
    check_expected(expected)
    if expected["outcome"] != "ok":
        assert all(c["finish_reason"] is None for c in expected["choices"])


def test_schema_check_rejects_bad_expectations(streams_dir: Path) -> None:
    good = json.loads((streams_dir / "role_first.expected.json").read_text(encoding="utf-8"))
    check_expected(good)
    for broken in (
        {**good, "outcome": "fine"},
        {**good, "choices": [{**good["choices"][0], "content": ""}]},
        {k: v for k, v in good.items() if k != "usage"},
    ):
        with pytest.raises(AssertionError):
            check_expected(broken)
