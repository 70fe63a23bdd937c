"""``doctor`` against reasoning models: room to think before answering, answers cut off
by the token limit reported as inconclusive rather than "no", and an endpoint that
cannot be reached at all is an error, not a report."""

from __future__ import annotations

import json
import socket

import pytest

from clirun import run_cli
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
    tool_delta,
    usage_chunk,
)

CUT_OFF = "answer cut off by the token limit (finish_reason: length)"


def script_thinker(api: FakeAPI, *, parallel_cut: bool, schema_cut: bool) -> None:
    """A reasoning model; the parallel-tool and json_schema answers may hit the limit."""
    api.add(JSON(models(["m"])), path=MODELS_PATH)
    api.add(SSE(sse_bytes([
        chunk(role="assistant", reasoning_content="The user wants OK."),
        chunk(content="OK"), chunk(finish_reason="stop"),
        usage_chunk({"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21})])))
    api.add(SSE(sse_bytes([
        chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
        chunk(finish_reason="tool_calls")])))
    if parallel_cut:  # thought so long that only one call fitted
        api.add(SSE(sse_bytes([
            chunk(role="assistant", reasoning_content="Two calls, so first n=1 then..."),
            chunk(tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
            chunk(finish_reason="length")])))
    else:
        api.add(SSE(sse_bytes([
            chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
            chunk(tool_calls=[tool_delta(1, "call_2", "ping", '{"n":2}')]),
            chunk(finish_reason="tool_calls")])))
    api.add(JSON(completion('{"ok": true}')))
    api.add(JSON(completion('{"ok', finish_reason="length") if schema_cut
                 else completion('{"ok": true}')))
    api.add(JSON(completion("White")))


def doctor_cli(api: FakeAPI, *extra: str) -> tuple[int, str, str]:
    result = run_cli(["doctor", "-m", "m", "--base-url", api.base_url, *extra])
    return result.exit_code, result.stdout, result.stderr


def table_row(stdout: str, name: str) -> str:
    """The report line of one probe, its cells joined by single spaces."""
    line = next(line for line in stdout.splitlines() if line.startswith(name + "  "))
    return " ".join(line.split())


def test_a_cut_off_answer_is_inconclusive_in_the_table(fakeapi: FakeAPI) -> None:
    script_thinker(fakeapi, parallel_cut=True, schema_cut=True)
    code, stdout, stderr = doctor_cli(fakeapi)
    assert (code, stderr) == (0, "")
    for name in ("parallel tool calls", "json_schema"):
        row = table_row(stdout, name)
        assert row.startswith(f"{name} inconclusive "), row
        assert row.endswith(CUT_OFF), row
    assert table_row(stdout, "json_object").startswith("json_object ok ")
    assert table_row(stdout, "tool calls").startswith("tool calls ok ")


def test_a_cut_off_answer_is_inconclusive_in_the_json_report(fakeapi: FakeAPI) -> None:
    script_thinker(fakeapi, parallel_cut=True, schema_cut=True)
    code, stdout, stderr = doctor_cli(fakeapi, "--json")
    assert (code, stderr) == (0, "")
    found = {row["name"]: (row["status"], row["found"]) for row in json.loads(stdout)["results"]}
    assert found["parallel tool calls"] == ("inconclusive", CUT_OFF)
    assert found["json_schema"] == ("inconclusive", CUT_OFF)
    assert found["json_object"] == ("ok", "a JSON object")
    assert found["reasoning"] == ("ok", "reasoning_content")


def test_an_answer_that_proves_the_feature_stays_ok_even_when_cut_off(
        fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(models(["m"])), path=MODELS_PATH)
    fakeapi.add(SSE(sse_bytes([chunk(role="assistant", content="OK"),
                               chunk(finish_reason="stop")])))
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
        chunk(finish_reason="length")])))
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", tool_calls=[tool_delta(0, "call_1", "ping", '{"n":1}')]),
        chunk(tool_calls=[tool_delta(1, "call_2", "ping", '{"n":2}')]),
        chunk(finish_reason="length")])))
    fakeapi.add(JSON(completion('{"ok": true}', finish_reason="length")))
    fakeapi.add(JSON(completion('{"ok": true}', finish_reason="length")))
    fakeapi.add(JSON(completion("White", finish_reason="length")))
    code, stdout, _ = doctor_cli(fakeapi, "--json")
    statuses = {row["name"]: row["status"] for row in json.loads(stdout)["results"]}
    assert code == 0
    assert statuses == {name: "ok" for name in statuses} | {"usage chunk": "no",
                                                             "reasoning": "no"}


def test_every_probe_leaves_a_reasoning_model_room_to_think(fakeapi: FakeAPI) -> None:
    script_thinker(fakeapi, parallel_cut=False, schema_cut=False)
    code, _, stderr = doctor_cli(fakeapi)
    assert (code, stderr) == (0, "")
    bodies = [r.json() for r in fakeapi.requests if r.path == CHAT_PATH]
    assert len(bodies) == 6
    assert [body["max_tokens"] >= 1024 for body in bodies] == [True] * 6
    by_format = {body.get("response_format", {}).get("type"): body for body in bodies}
    assert by_format["json_schema"]["max_tokens"] >= 1024


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_an_endpoint_that_cannot_be_reached_is_an_error(extra: list[str]) -> None:
    result = run_cli(["doctor", "-m", "m", "--base-url", closed_port_url(), *extra])
    assert result.exit_code == 7  # NetworkError, as for any request that cannot connect
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chatcli: error: connection refused")
