"""``doctor``: the probes against scripted endpoints, full-featured and minimal, and
the report's table and JSON."""

from __future__ import annotations

import io
import itertools
import json
import socket
from typing import Any

import pytest

from chatcli.cli.doctor_command import format_report, run_doctor_command
from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.engine.doctor import MAX_TOKENS, PROBES, ProbeResult, Report, run_doctor
from chatcli.errors import NetworkError
from chatcli.session.environment import Environment
from fakeapi import (
    CHAT_PATH,
    JSON,
    MODELS_PATH,
    SSE,
    FakeAPI,
    chunk,
    completion,
    models,
    sse_bytes,
    text_stream,
    tool_delta,
    usage_chunk,
)


def ticking() -> Any:
    """A clock that moves one second each time it is read."""
    counter = itertools.count()
    return lambda: float(next(counter))


def rejected(message: str) -> JSON:
    return JSON({"error": {"message": message}}, status=400)


def script_full(api: FakeAPI) -> None:
    """An endpoint that does everything the probes ask about."""
    api.add(JSON(models(["gpt-x", "gpt-y"])), path=MODELS_PATH)
    api.add(SSE(sse_bytes([
        chunk(role="assistant", content=""), chunk(reasoning_content="The user wants OK."),
        chunk(content="OK"), chunk(finish_reason="stop"),
        usage_chunk({"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21})])))
    api.add(SSE(sse_bytes([
        chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", "")]),
        chunk(tool_calls=[tool_delta(0, arguments='{"n":1}')]),
        chunk(finish_reason="tool_calls")])))
    api.add(SSE(sse_bytes([
        chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
        chunk(tool_calls=[tool_delta(1, "call_2", "ping", '{"n":2}')]),
        chunk(finish_reason="tool_calls")])))
    api.add(JSON(completion('{"ok": true}')))
    api.add(JSON(completion('{"ok": true}')))
    api.add(JSON(completion("White")))


def script_minimal(api: FakeAPI) -> None:
    """Streams text, but no usage chunk, no tools, no json_schema and no images."""
    api.add(JSON(models(["other"])), path=MODELS_PATH)
    api.add(SSE(text_stream(["O", "K"])))
    api.add(SSE(text_stream(["I have no tools."])))
    api.add(SSE(text_stream(["Nor here."])))
    api.add(JSON(completion('{"ok": true}')))
    api.add(rejected("response_format json_schema is not supported"))
    api.add(rejected("this model does not support image input"))


def rows(report: Report) -> list[tuple[str, str, str]]:
    return [(r.name, r.status, r.found) for r in report.results]


def strict_client(base_url: str) -> ChatClient:
    """A client as ``doctor`` builds it: no retries, no field dropped after a 400."""
    return ChatClient(Settings(base_url=base_url, retries=0), strict=True)


def doctor(api: FakeAPI, **settings: Any) -> Report:
    base = {"base_url": api.base_url, "api_key": "sk-test", "model": "gpt-x", "retries": 0}
    with ChatClient(Settings(**{**base, **settings}), strict=True) as client:
        return run_doctor(client, "gpt-x", clock=ticking())


def test_a_full_featured_endpoint_passes_every_probe(fakeapi: FakeAPI) -> None:
    script_full(fakeapi)
    report = doctor(fakeapi)
    assert rows(report) == [
        ("reachable", "ok", "GET /models answered"),
        ("authenticated", "ok", "the models list accepts the key"),
        ("models listed", "ok", "2 models, gpt-x listed"),
        ("streaming", "ok", "5 chunks"),
        ("usage chunk", "ok", "12 prompt, 9 completion tokens"),
        ("reasoning", "ok", "reasoning_content"),
        ("tool calls", "ok", "ping, streamed"),
        ("parallel tool calls", "ok", "2 calls"),
        ("json_object", "ok", "a JSON object"),
        ("json_schema", "ok", "matches the schema"),
        ("image input", "ok", "a 1x1 PNG accepted"),
        ("first token", "ok", "1000 ms"),
    ]
    bodies = [r.json() for r in fakeapi.requests if r.path == CHAT_PATH]
    assert all(b["max_tokens"] == MAX_TOKENS and b["model"] == "gpt-x" for b in bodies)
    assert bodies[0]["stream_options"] == {"include_usage": True}
    assert bodies[1]["tool_choice"] == "required"
    assert bodies[2]["parallel_tool_calls"] is True
    assert bodies[3]["response_format"] == {"type": "json_object"}
    assert bodies[4]["response_format"]["type"] == "json_schema"
    assert bodies[5]["messages"][0]["content"][1]["image_url"]["url"].startswith(
        "data:image/png;base64,")


def test_a_minimal_endpoint_says_no_where_it_falls_short(fakeapi: FakeAPI) -> None:
    script_minimal(fakeapi)
    assert rows(doctor(fakeapi)) == [
        ("reachable", "ok", "GET /models answered"),
        ("authenticated", "ok", "the models list accepts the key"),
        ("models listed", "ok", "1 model, gpt-x not listed"),
        ("streaming", "ok", "4 chunks"),
        ("usage chunk", "no", "no usage chunk"),
        ("reasoning", "no", "none"),
        ("tool calls", "no", "answered with text, no tool call"),
        ("parallel tool calls", "no", "0 calls"),
        ("json_object", "ok", "a JSON object"),
        ("json_schema", "no", "HTTP 400: response_format json_schema is not supported"),
        ("image input", "no", "HTTP 400: this model does not support image input"),
        ("first token", "ok", "1000 ms"),
    ]


def test_reasoning_is_found_in_the_reasoning_field_and_in_think_tags(fakeapi: FakeAPI) -> None:
    probes = [p for p in PROBES if p.name == "reasoning"]
    fakeapi.add(SSE(sse_bytes([chunk(reasoning="hmm"), chunk(content="OK",
                                                             finish_reason="stop")])))
    fakeapi.add(SSE(text_stream(["<think>hmm</think>", "OK"])))
    with strict_client(fakeapi.base_url) as client:
        found = [run_doctor(client, "m", probes, clock=ticking()).results[0].found
                 for _ in range(2)]
    assert found == ["reasoning", "<think> in content"]


def test_a_server_that_ignores_stream_true_is_reported(fakeapi: FakeAPI) -> None:
    probes = [p for p in PROBES if p.name in ("streaming", "usage chunk")]
    fakeapi.add(JSON(completion("OK")))
    with strict_client(fakeapi.base_url) as client:
        report = run_doctor(client, "m", probes, clock=ticking())
    assert rows(report) == [
        ("streaming", "no", "answered with one JSON object despite stream: true"),
        ("usage chunk", "no", "no usage chunk"),
    ]


def test_a_rejected_key_is_not_authenticated(fakeapi: FakeAPI) -> None:
    probes = [p for p in PROBES if p.name in ("reachable", "authenticated", "models listed")]
    fakeapi.add(JSON({"error": {"message": "invalid api key"}}, status=401), path=MODELS_PATH)
    with strict_client(fakeapi.base_url) as client:
        report = run_doctor(client, "m", probes, clock=ticking())
    assert rows(report) == [
        ("reachable", "ok", "HTTP 401 from GET /models"),
        ("authenticated", "no", "HTTP 401: invalid api key"),
        ("models listed", "error", "HTTP 401: invalid api key"),
    ]
    assert len(fakeapi.requests) == 1


def test_without_a_models_list_a_chat_request_settles_authentication(fakeapi: FakeAPI) -> None:
    probes = [p for p in PROBES if p.name in ("authenticated", "first token")]
    fakeapi.add(JSON({"error": {"message": "no such route"}}, status=404), path=MODELS_PATH)
    fakeapi.add(SSE(text_stream(["OK"])))
    with strict_client(fakeapi.base_url) as client:
        report = run_doctor(client, "m", probes, clock=ticking())
    assert rows(report) == [("authenticated", "ok", "a chat request accepts the key"),
                            ("first token", "ok", "1000 ms")]


def test_an_unreachable_endpoint_ends_the_run_at_the_reachable_probe() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    later = [p for p in PROBES if p.name != "reachable"]
    with strict_client(f"http://127.0.0.1:{port}/v1") as client:
        with pytest.raises(NetworkError, match=r"^connection refused"):
            run_doctor(client, "m", clock=ticking())
        report = run_doctor(client, "m", later, clock=ticking())
    # Past the gate, a network failure is one probe's row like any other.
    assert [r.name for r in report.results] == [p.name for p in later]
    assert {r.status for r in report.results} == {"error"}
    assert all(r.found.startswith("connection refused") for r in report.results)


def test_each_row_carries_the_time_its_probe_took(fakeapi: FakeAPI) -> None:
    probes = [p for p in PROBES if p.name in ("reachable", "models listed")]
    fakeapi.add(JSON(models(["m"])), path=MODELS_PATH)
    with strict_client(fakeapi.base_url) as client:
        report = run_doctor(client, "m", probes, clock=ticking())
    assert [r.seconds for r in report.results] == [1.0, 1.0]


REPORT = Report("http://gw/v1", "gpt-x", [
    ProbeResult("reachable", "ok", "GET /models answered", 0.0123),
    ProbeResult("json_schema", "no", "HTTP 400: not supported", 0.2),
    ProbeResult("image input", "error", "timed out", 1.5),
])


def test_the_report_is_a_plain_table() -> None:
    assert format_report(REPORT) == (
        "endpoint  http://gw/v1\n"
        "model     gpt-x\n"
        "\n"
        "probe        status  time     found\n"
        "reachable    ok      12 ms    GET /models answered\n"
        "json_schema  no      200 ms   HTTP 400: not supported\n"
        "image input  error   1500 ms  timed out\n"
    )


def test_doctor_json_prints_the_report_for_scripts(fakeapi: FakeAPI) -> None:
    script_full(fakeapi)
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      stdin_is_terminal=False, stdout_is_terminal=False,
                      stderr_is_terminal=False)
    run_doctor_command(flags={"base_url": fakeapi.base_url, "model": "gpt-x"}, headers=[],
                       as_json=True, verbose=False, env=env, clock=ticking())
    data = json.loads(env.stdout.getvalue())
    assert (data["base_url"], data["model"]) == (fakeapi.base_url, "gpt-x")
    assert [row["status"] for row in data["results"]] == ["ok"] * len(PROBES)
    assert data["results"][0] == {"name": "reachable", "status": "ok",
                                  "found": "GET /models answered", "seconds": 1.0}
    assert env.stderr.getvalue() == ""
