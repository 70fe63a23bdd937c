"""Every stream fixture, decoded at every byte boundary and end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatcli.errors import ProtocolError, ServerError
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.events import ChunkParser
from chatcli.protocol.sse import SSEDecoder, SSEEvent
from clirun import run_cli
from fakeapi import SSE, STREAMS_DIR, FakeAPI, load_stream

FIXTURES = sorted(p.stem for p in STREAMS_DIR.glob("*.sse"))
OUTCOME_EXIT = {"ok": 0, "server_error": 5, "protocol_error": 9}


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STREAMS_DIR / f"{name}.expected.json").read_text())
    return data


def decode(pieces: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.flush())
    return events


def test_there_are_fixtures() -> None:
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("name", FIXTURES)
def test_decoder_gives_the_same_events_at_every_byte_boundary(name: str) -> None:
    raw = load_stream(name)
    whole = decode([raw])
    assert whole, "the fixture holds events"
    for cut in range(1, len(raw)):
        assert decode([raw[:cut], raw[cut:]]) == whole, f"cut at byte {cut}"


@pytest.mark.parametrize("name", FIXTURES)
def test_decoder_one_byte_at_a_time(name: str) -> None:
    raw = load_stream(name)
    assert decode([raw[i : i + 1] for i in range(len(raw))]) == decode([raw])


@pytest.fixture(autouse=True, params=["orjson", "stdlib"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every fixture decoded twice: by orjson (chatcli[fast]) and by the standard library
    alone; both must give the same events, errors included."""
    from chatcli.protocol import events

    if request.param == "stdlib":
        monkeypatch.setattr(events, "fast_loads", events._no_fast_loads)
    else:
        pytest.importorskip("orjson")
    return str(request.param)


def assemble(name: str) -> tuple[dict[str, Any], str]:
    """Fold a fixture through parser and accumulator, as the CLI does."""
    parser = ChunkParser()
    acc = Accumulator()
    outcome = "ok"
    done = False
    try:
        for event in decode([load_stream(name)]):
            if event.data == "[DONE]":
                done = True
                break
            for parsed in parser.parse(event.data, event.event):
                acc.add(parsed)
        for parsed in parser.flush():
            acc.add(parsed)
        if not done and not acc.finished:
            outcome = "protocol_error"
    except ServerError as exc:
        for parsed in getattr(exc, "events", ()):  # what the erroring chunk brought first
            acc.add(parsed)
        outcome = "server_error"
    except ProtocolError:
        outcome = "protocol_error"
    return acc.completion(), outcome


def summary(completion: dict[str, Any]) -> list[dict[str, Any]]:
    """A completion's choices in the expected files' shape."""
    out = []
    for choice in completion["choices"]:
        message = choice["message"]
        calls = [{"index": i, **call} for i, call in enumerate(message.get("tool_calls", []))]
        out.append(
            {
                "index": choice["index"],
                "content": message.get("content"),
                "reasoning": message.get("reasoning_content"),
                "refusal": message.get("refusal"),
                "tool_calls": calls,
                "finish_reason": choice["finish_reason"],
            }
        )
    return out


def without_call_index(choices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The position in tool_calls is what the API sends back; the stream's own
    # index (say, 1 for a first call) is checked by test_first_tool_index_1.
    return [
        {**c, "tool_calls": [{k: v for k, v in t.items() if k != "index"} for t in c["tool_calls"]]}
        for c in choices
    ]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_assembles_to_the_expected_message(name: str) -> None:
    completion, outcome = assemble(name)
    want = expected(name)
    assert outcome == want["outcome"]
    assert without_call_index(summary(completion)) == without_call_index(want["choices"])
    assert completion["usage"] == want["usage"]
    assert completion["system_fingerprint"] == want["system_fingerprint"]


def expected_warnings(want: dict[str, Any]) -> str:
    lines = []
    for choice in want["choices"]:
        if (choice["content"] or "").lstrip().startswith("<think>") and not choice["reasoning"]:
            lines.append("chatcli: warning: the answer opened <think> and never closed it;"
                         " it is shown as the answer\n")
        if choice["finish_reason"] == "length":
            lines.append(
                "chatcli: warning: the answer was cut off at the token limit"
                " (finish_reason: length)"
                + ("; `chatcli -c --more` continues it\n" if len(want["choices"]) == 1
                   else "\n")
            )
        if choice["finish_reason"] == "content_filter":
            lines.append(
                "chatcli: warning: the answer was stopped by a content filter"
                " (finish_reason: content_filter)\n"
            )
        if choice["refusal"]:
            lines.append(f"chatcli: warning: the model refused: {choice['refusal']}\n")
    return "".join(lines)


@pytest.mark.parametrize("name", FIXTURES)
def test_cli_json_mode_matches_the_fixture(name: str, fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream(name)))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"])
    want = expected(name)
    assert result.exit_code == OUTCOME_EXIT[want["outcome"]], result.stderr
    body = json.loads(result.stdout)
    assert without_call_index(summary(body)) == without_call_index(want["choices"])
    assert body["usage"] == want["usage"]
    if want["outcome"] == "ok":
        assert result.stderr == expected_warnings(want)
        assert "incomplete" not in body
    else:
        assert body["incomplete"] is True
        assert result.stderr.startswith("chatcli: error: ")
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("name", FIXTURES)
def test_cli_plain_mode_prints_the_content(name: str, fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream(name)))
    want = expected(name)
    n = ["-n", str(len(want["choices"]))] if len(want["choices"]) > 1 else []
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "plain", *n, "hi"])
    first = want["choices"][0]["content"] or "" if want["choices"] else ""
    assert result.exit_code == OUTCOME_EXIT[want["outcome"]]
    assert "\x1b" not in result.stdout
    if len(want["choices"]) == 1:
        assert result.stdout == (first + "\n" if first and not first.endswith("\n") else first)
    else:
        for choice in want["choices"]:
            assert f"--- choice {choice['index']} ---\n{choice['content']}" in result.stdout


def test_first_tool_index_1() -> None:
    completion, _ = assemble("tool_first_index_1")
    assert [c["id"] for c in completion["choices"][0]["message"]["tool_calls"]] == [
        t["id"] for t in expected("tool_first_index_1")["choices"][0]["tool_calls"]
    ]


def test_fixture_readme_names_every_fixture() -> None:
    readme = Path(STREAMS_DIR / "README.md").read_text()
    for name in FIXTURES:
        assert f"`{name}`" in readme


def test_text_buffer_joins_in_batches() -> None:
    from chatcli.protocol.accumulator import TextBuffer

    buffer = TextBuffer()
    assert not buffer
    pieces = [f"{i} " for i in range(TextBuffer.BATCH * 2 + 7)]
    for piece in pieces:
        buffer.append(piece)
    assert buffer
    assert str(buffer) == "".join(pieces)
