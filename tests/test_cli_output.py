"""Output modes and the lines around the answer: plain, json, events, reasoning, usage."""

from __future__ import annotations

import json
import re

from clirun import run_cli, unpublished
from fakeapi import (
    SSE,
    STREAMS_DIR,
    FakeAPI,
    chunk,
    load_stream,
    sse_bytes,
    text_stream,
    tool_delta,
)

USAGE = {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
         "prompt_tokens_details": {"cached_tokens": 4},
         "completion_tokens_details": {"reasoning_tokens": 10}}


def test_plain_reasoning_goes_to_stderr_only_when_asked(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("reasoning_content")))
    quiet = run_cli(["--base-url", fakeapi.base_url, "hi"])
    fakeapi.add(SSE(load_stream("reasoning_content")))
    shown = run_cli(["--base-url", fakeapi.base_url, "--reasoning", "show", "hi"])
    assert quiet.stdout == shown.stdout == "17 × 3 = **51**\n"
    assert quiet.stderr == ""
    assert shown.stderr == "Okay, the user asks for 17 × 3. 17 × 3 = 51.\n"


def test_think_tags_are_reasoning_in_plain_mode(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("think_tags")))
    result = run_cli(["--base-url", fakeapi.base_url, "--reasoning", "show", "hi"])
    assert result.stdout == "2 + 2 = **4**.\n"
    assert result.stderr == "\nThe user wants 2 + 2. That is 4.\n"


def test_json_mode_hides_reasoning_when_asked(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("reasoning_content")))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "json", "--reasoning", "hide", "hi"])
    message = json.loads(result.stdout)["choices"][0]["message"]
    assert "reasoning_content" not in message
    assert message["content"] == "17 × 3 = **51**"


def test_utf8_split_across_writes_end_to_end(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("utf8"), per_byte=True))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"])
    expected = json.loads((STREAMS_DIR / "utf8.expected.json").read_text())
    content = json.loads(result.stdout)["choices"][0]["message"]["content"]
    assert content == expected["choices"][0]["content"]


def test_events_mode_prints_each_chunk_as_a_json_line(fakeapi: FakeAPI) -> None:
    chunks = [chunk(role="assistant", content=""), chunk(content="Hel"), chunk(content="lo"),
              chunk(finish_reason="stop")]
    fakeapi.add(SSE(sse_bytes([": keep-alive\n\n", *chunks])))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "events", "hi"])
    assert result.exit_code == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == chunks


def test_json_mode_has_the_same_shape_streamed_or_not(fakeapi: FakeAPI) -> None:
    from fakeapi import JSON, completion

    fakeapi.add(SSE(text_stream(["Same answer"], usage=USAGE)))
    streamed = json.loads(run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"]).stdout)
    fakeapi.add(JSON(completion("Same answer", usage=USAGE)))
    whole = json.loads(run_cli(["--base-url", fakeapi.base_url, "-O", "json", "--no-stream",
                                "hi"]).stdout)
    assert streamed == whole
    assert set(whole) == {"id", "object", "created", "model", "choices", "usage",
                          "system_fingerprint"}
    assert whole["object"] == "chat.completion"
    assert whole["usage"] == USAGE


def test_usage_line(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"], usage=USAGE)))
    unpublished(fakeapi)  # no prices: no cost
    result = run_cli(["--base-url", fakeapi.base_url, "-u", "hi"])
    assert result.stdout == "ok\n"
    assert re.fullmatch(
        r"usage: prompt 12 · completion 30 · reasoning 10 · cached 4 · first token \d+\.\d\ds"
        r" · total \d+\.\d\ds( · \d+\.\d tok/s)?\n", result.stderr), result.stderr


def test_usage_line_without_usage_from_the_server(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--usage", "hi"])
    assert result.stderr.startswith("usage: prompt - · completion - · reasoning - · cached - ·")


def test_plain_tool_calls_are_summarised_on_stderr(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_1", "get_weather", '{"city":')]),
        chunk(tool_calls=[tool_delta(0, arguments=' "Paris"}')]),
        chunk(finish_reason="tool_calls"),
    ])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == 'tool call: get_weather({"city":"Paris"}) [call_1]\n'


def test_answer_that_ends_with_a_newline_gets_no_second_one(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["line\n"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).stdout == "line\n"


def test_events_mode_puts_a_multi_line_chunk_on_one_line(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("multiline_data")))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "events", "hi"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    chunks = [json.loads(line) for line in lines]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len(chunks) == load_stream("multiline_data").count(b"\n\n") - 1  # less [DONE]


def test_no_token_is_dropped_on_the_benchmark_answer(fakeapi: FakeAPI) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from markdown_tokens import tokens

    pieces = tokens(5000, seed=7)
    fakeapi.add(SSE(text_stream(pieces), writes=None))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    answer = "".join(pieces)
    assert result.stdout == answer + ("" if answer.endswith("\n") else "\n")
    fakeapi.add(SSE(text_stream(pieces)))
    body = json.loads(run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"]).stdout)
    assert body["choices"][0]["message"]["content"] == answer


def test_web_search_sources_and_reasoning_details_from_fixtures(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("annotations")))
    plain = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert plain.stdout == "Rust 1.80 was released in July 2024.\n"
    assert plain.stderr == ("[1] Announcing Rust 1.80.0 —"
                            " https://blog.rust-lang.org/2024/07/25/Rust-1.80.0.html\n")
    fakeapi.add(SSE(load_stream("annotations")))
    message = json.loads(run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"]).stdout
                         )["choices"][0]["message"]
    assert message["annotations"][0]["url_citation"]["title"] == "Announcing Rust 1.80.0"
    fakeapi.add(SSE(load_stream("reasoning_details")))
    message = json.loads(run_cli(["--base-url", fakeapi.base_url, "-O", "json", "hi"]).stdout
                         )["choices"][0]["message"]
    assert message["reasoning_content"] == "Compare the two numbers."
    kinds = [item["type"] for item in message["reasoning_details"]]
    assert kinds == ["reasoning.text", "reasoning.encrypted"]


def test_usage_line_survives_malformed_usage() -> None:
    from chatcli.protocol.result import TurnResult
    from chatcli.session.output import usage_line

    usage = {"prompt_tokens": "3", "completion_tokens": 10**400, "total_tokens": -1,
             "prompt_tokens_details": "x", "completion_tokens_details": [1]}
    result = TurnResult(completion={"choices": [], "usage": usage}, duration=2.0,
                        time_to_first_token=1.0)
    assert usage_line(result) == ("usage: prompt - · completion - · reasoning - · cached - ·"
                                  " first token 1.00s · total 2.00s")
