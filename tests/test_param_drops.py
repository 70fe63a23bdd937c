"""Refused request fields: found in 400 answers, retried once without, remembered per model.

Also the error bodies of every shape a gateway sends, each to one clean line
and the right exception class (and, through the CLI, the right exit code).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.endpoint.param_drops import (
    ESSENTIAL,
    Drop,
    DropRetry,
    ParamDrops,
    apply_drops,
    drop_note,
    error_param,
    rejected_field,
    target_key,
)
from chatcli.errors import RequestError, RequestRejected, ServerError
from chatcli.protocol.error_bodies import describe_error_body
from clirun import run_cli
from fakeapi import SSE, FakeAPI, Raw, chunk, sse_bytes, text_stream

BODY: dict[str, Any] = {"model": "o9", "messages": [{"role": "user", "content": "hi"}],
                        "stream": True, "temperature": 0.5, "top_p": 0.9, "max_tokens": 50,
                        "stream_options": {"include_usage": True}, "parallel_tool_calls": False,
                        "foo": 1, "tools": []}

RENAME_MESSAGE = ("Unsupported parameter: 'max_tokens' is not supported with this model. Use"
                  " 'max_completion_tokens' instead.")


def openai_error(message: str, param: Any = None, code: Any = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                 "param": param, "code": code}}).encode()


# --- which field a refusal names ------------------------------------------------------------

@pytest.mark.parametrize(("message", "param", "drop"), [
    (RENAME_MESSAGE, "max_tokens", Drop("max_tokens", "max_completion_tokens")),
    (RENAME_MESSAGE, None, Drop("max_tokens", "max_completion_tokens")),
    ("Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1)"
     " value is supported.", "temperature", Drop("temperature")),
    ("temperature does not support 0.5 with this model. Only the default (1) value is supported.",
     "None", Drop("temperature")),
    ("stream_options is not supported", None, Drop("stream_options")),
    ("parallel_tool_calls is not supported", None, Drop("parallel_tool_calls")),
    ("top_p is not supported for this model", None, Drop("top_p")),
    ("Unrecognized request argument supplied: foo", None, Drop("foo")),
    ("foo: Extra inputs are not permitted", None, Drop("foo")),
    ("Unsupported parameter", "stream_options.include_usage", Drop("stream_options")),
])
def test_the_refused_field(message: str, param: Any, drop: Drop) -> None:
    assert rejected_field(BODY, param, message) == drop


@pytest.mark.parametrize(("message", "param"), [
    ("max_tokens is too large: 9000. This model supports at most 4096 tokens.", "max_tokens"),
    ("Invalid value for temperature: must be at most 2", "temperature"),
    ("'messages' is not supported in this form", "messages"),
    ("Unsupported parameter: 'tools' is not supported with this model.", "tools"),
    ("stream is not supported", None),
    ("Unsupported parameter: 'logprobs'", "logprobs"),  # not in the body
    ("this model is not supported on your plan", None),  # names no field
])
def test_no_drop(message: str, param: Any) -> None:
    assert rejected_field(BODY, param, message) is None


def test_a_rename_onto_a_field_already_sent_becomes_a_plain_drop() -> None:
    body = {**BODY, "max_completion_tokens": 10}
    message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    assert rejected_field(body, None, message) == Drop("max_tokens")
    assert apply_drops(body, [Drop("max_tokens", "max_completion_tokens")])[0][
        "max_completion_tokens"] == 10


@pytest.mark.parametrize(("parsed", "param"), [
    ({"error": {"param": "temperature"}}, "temperature"),
    ({"error": {"param": "None"}}, None),
    ({"error": {"param": None}}, None),
    ({"error": {"param": ""}}, None),
    ({"error": "plain"}, None),
    ("text", None),
    (None, None),
])
def test_error_param(parsed: Any, param: str | None) -> None:
    assert error_param(parsed) == param


def test_apply_drops_never_touches_essentials_and_reports_what_changed() -> None:
    drops = [Drop(name) for name in ESSENTIAL] + [Drop("absent"), Drop("max_tokens", "mct")]
    body, done = apply_drops(BODY, drops)
    assert done == [Drop("max_tokens", "mct")]
    assert body == {**{k: v for k, v in BODY.items() if k != "max_tokens"}, "mct": 50}
    assert "max_tokens" in BODY


# --- the file ---------------------------------------------------------------------------------

def test_store_remembers_atomically_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "param_drops.json"
    store = ParamDrops(path)
    assert store.for_model("k", "m") == []
    assert store.remember("k", "m", Drop("temperature"))
    assert store.remember("k", "m", Drop("max_tokens", "max_completion_tokens"))
    assert store.remember("k", "other", Drop("top_p"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["param_drops.json"]
    assert ParamDrops(path).for_model("k", "m") == [
        Drop("temperature"), Drop("max_tokens", "max_completion_tokens")]
    assert json.loads(path.read_text())["targets"]["k"]["other"] == {"top_p": None}
    assert store.forget() == 3
    assert not path.exists()
    assert store.forget() == 0


@pytest.mark.parametrize("text", ["not json", "[]", '{"targets": 3}',
                                  '{"targets": {"k": {"m": ["x"]}}}'])
def test_a_damaged_file_counts_as_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "param_drops.json"
    path.write_text(text)
    store = ParamDrops(path)
    assert store.for_model("k", "m") == []
    assert store.remember("k", "m", Drop("top_p"))
    assert store.for_model("k", "m") == [Drop("top_p")]


def test_an_unwritable_file_is_said_and_the_request_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    notes: list[str] = []
    retry = DropRetry(ParamDrops(blocker / "param_drops.json"), "k", "m", notes.append)
    error = RequestRejected("top_p is not supported", status=400)
    assert retry.after(BODY, error) == {k: v for k, v in BODY.items() if k != "top_p"}
    assert notes == ["the endpoint rejected 'top_p'; sent again without it"
                     " (not remembered: the drops file could not be written)"]


def test_keys_and_notes() -> None:
    assert target_key("work", "https://x/v1") == "profile:work"
    assert target_key(None, "https://x/v1/") == "https://x/v1"
    assert drop_note(Drop("max_tokens", "max_completion_tokens"), None) == (
        "the endpoint rejected 'max_tokens'; sent again as 'max_completion_tokens'")


# --- through the client -----------------------------------------------------------------------

def client(api: FakeAPI, path: Path, notes: list[str], *, strict: bool = False,
           profile: str | None = "work") -> ChatClient:
    settings = Settings(base_url=api.base_url, profile=profile, retries=0)
    return ChatClient(settings, drops=ParamDrops(path), on_drop=notes.append, strict=strict)


def send(chat: ChatClient, body: dict[str, Any]) -> bytes:
    with chat, chat.open_chat(body, "trace-1") as stream:
        return stream.read()


def test_drop_and_retry_then_remembered_for_the_next_client(fakeapi: FakeAPI,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "param_drops.json"
    fakeapi.add(Raw(400, openai_error("Unsupported value: 'temperature' does not support 0.5"
                                      " with this model.", "temperature", "unsupported_value"),
                    "application/json"))
    fakeapi.add(SSE(text_stream(["ok"])))
    notes: list[str] = []
    assert b"ok" in send(client(fakeapi, path, notes), BODY)
    first, second = (r.json() for r in fakeapi.requests)
    assert first == BODY
    assert second == {k: v for k, v in BODY.items() if k != "temperature"}
    assert {r.header("X-Trace-ID") for r in fakeapi.requests} == {"trace-1"}
    assert notes == ["the endpoint rejected 'temperature'; sent again without it (remembered"
                     " for profile work, model o9; `chatcli config forget-drops` clears this)"]

    fakeapi.add(SSE(text_stream(["again"])))
    later: list[str] = []
    send(client(fakeapi, path, later), BODY)
    assert fakeapi.requests[2].json() == second  # no 400 round trip this time
    assert later == []


def test_rename_and_a_second_field_each_once(fakeapi: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "param_drops.json"
    fakeapi.add(Raw(400, openai_error("Unsupported parameter: 'max_tokens' is not supported with"
                                      " this model. Use 'max_completion_tokens' instead.",
                                      "max_tokens", "unsupported_parameter"), "application/json"))
    fakeapi.add(Raw(400, b'{"error": {"message": "stream_options is not supported", "code": 400,'
                         b' "param": "None"}}', "application/json"))
    fakeapi.add(SSE(text_stream(["ok"])))
    notes: list[str] = []
    send(client(fakeapi, path, notes, profile=None), BODY)
    bodies = [r.json() for r in fakeapi.requests]
    assert "max_tokens" in bodies[0] and "max_completion_tokens" not in bodies[0]
    assert bodies[1]["max_completion_tokens"] == 50 and "max_tokens" not in bodies[1]
    assert "stream_options" in bodies[1] and "stream_options" not in bodies[2]
    assert [n.split(";")[:2] for n in notes] == [
        ["the endpoint rejected 'max_tokens'", " sent again as 'max_completion_tokens' (remembered"
         f" for {fakeapi.base_url.rstrip('/')}, model o9"],
        ["the endpoint rejected 'stream_options'", " sent again without it (remembered"
         f" for {fakeapi.base_url.rstrip('/')}, model o9"]]


def test_the_same_field_refused_twice_is_reported(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(Raw(400, openai_error("Unsupported parameter: 'top_p'", "top_p"),
                    "application/json"))
    fakeapi.add(Raw(400, openai_error("Unsupported parameter: 'top_p'", "top_p"),
                    "application/json"))
    with pytest.raises(RequestRejected, match="top_p"):
        send(client(fakeapi, tmp_path / "d.json", []), {**BODY, "top_p": 1})
    # The second refusal names a field no longer sent: no third request.
    assert len(fakeapi.requests) == 2


def test_strict_sends_everything_and_reports_the_400(fakeapi: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "param_drops.json"
    ParamDrops(path).remember("profile:work", "o9", Drop("foo"))
    fakeapi.add(Raw(400, openai_error("Unrecognized request argument supplied: foo"),
                    "application/json"))
    notes: list[str] = []
    with pytest.raises(RequestRejected) as caught:
        send(client(fakeapi, path, notes, strict=True), BODY)
    assert caught.value.status == 400
    assert caught.value.describe() == (
        "HTTP 400: Unrecognized request argument supplied: foo (invalid_request_error)"
        " (trace id trace-1)")
    assert fakeapi.requests[0].json() == BODY  # the remembered drop is not applied either
    assert notes == []
    assert ParamDrops(path).for_model("profile:work", "o9") == [Drop("foo")]


def test_forgotten_drops_are_sent_again(fakeapi: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "param_drops.json"
    ParamDrops(path).remember("profile:work", "o9", Drop("foo"))
    assert ParamDrops(path).forget() == 1
    fakeapi.add(SSE(text_stream(["ok"])))
    send(client(fakeapi, path, []), BODY)
    assert fakeapi.requests[0].json() == BODY


def test_a_server_error_is_never_a_drop(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(Raw(500, openai_error("temperature is not supported", "temperature"),
                    "application/json"))
    with pytest.raises(ServerError):
        send(client(fakeapi, tmp_path / "d.json", []), BODY)
    assert len(fakeapi.requests) == 1


# --- error bodies of every shape --------------------------------------------------------------

SHAPES: list[tuple[bytes, str, str]] = [
    (openai_error("Bad thing", "None", "bad_thing"), "application/json", "Bad thing (bad_thing)"),
    (openai_error("Bad thing", None, 40001), "application/json", "Bad thing (40001)"),
    (b'{"error": {"message": "Model busy", "code": "503"}}', "application/json",
     "Model busy (503)"),
    (b'{"detail": "Not authenticated"}', "application/json", "Not authenticated"),
    (b'{"detail": [{"loc": ["body", "foo"], "msg": "Extra inputs are not permitted",'
     b' "type": "extra_forbidden"}, {"loc": ["body", "messages", 0, "role"],'
     b' "msg": "Input should be \'user\'"}]}', "application/json",
     "foo: Extra inputs are not permitted; messages.0.role: Input should be 'user'"),
    (b'{"detail": ["just text"]}', "application/json", "just text"),
    (b'"upstream said no"', "application/json", "upstream said no"),
    (b'{"error": "quota\\nexceeded"}', "application/json", "quota exceeded"),
    (b"plain\n  text\n", "text/plain", "plain text"),
    (b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
     "text/html", "502 Bad Gateway"),
    (b"<html><body><h1>Forbidden</h1><p>go away</p></body></html>", "text/html", "Forbidden"),
]


@pytest.mark.parametrize(("raw", "content_type", "line"), SHAPES)
def test_error_body_shapes(raw: bytes, content_type: str, line: str) -> None:
    assert describe_error_body(raw, content_type) == line


@pytest.mark.parametrize(("status", "cls", "code"), [(400, RequestRejected, 4),
                                                      (422, RequestRejected, 4),
                                                      (503, ServerError, 5)])
@pytest.mark.parametrize(("raw", "content_type", "line"), SHAPES[:6])
def test_error_shapes_end_to_end(fakeapi: FakeAPI, status: int, cls: type[RequestError],
                                 code: int, raw: bytes, content_type: str, line: str) -> None:
    fakeapi.add(Raw(status, raw, content_type))
    with pytest.raises(RequestError) as caught:
        send(client(fakeapi, Path("unused.json"), [], strict=True), {"model": "m"})
    assert type(caught.value) is cls and caught.value.exit_code == code
    assert caught.value.message == line


def test_an_error_inside_a_200_stream(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(sse_bytes([chunk("Par"), {"error": {"message": "upstream overloaded",
                                                        "code": 503, "param": "None"}}],
                              done=False)))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "--no-history", "hi"])
    assert result.exit_code == 5
    assert result.stdout == "Par\n"
    assert result.stderr == ("chatcli: error: error inside the stream: upstream overloaded (503)"
                             " (trace id t)\n")


def test_a_remembered_drop_is_logged_when_verbose(fakeapi: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "param_drops.json"
    ParamDrops(path).remember("profile:work", "o9", Drop("max_tokens", "max_completion_tokens"))
    fakeapi.add(SSE(text_stream(["ok"])))
    lines: list[str] = []
    settings = Settings(base_url=fakeapi.base_url, profile="work", retries=0)
    with ChatClient(settings, drops=ParamDrops(path), log=lines.append) as chat:
        chat.open_chat(BODY).close()
    assert "'max_tokens' sent as 'max_completion_tokens' (the endpoint rejected it before)" \
        in lines
    assert fakeapi.requests[0].json()["max_completion_tokens"] == 50
