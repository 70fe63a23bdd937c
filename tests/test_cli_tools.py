"""Tools through the real entry point: flags, approval, display, and a terminal prompt."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, chunk, sse_bytes, text_stream, tool_delta

FIXTURES = Path(__file__).resolve().parent / "tools_fixtures"
FUNCTIONS = str(FIXTURES / "sample_functions.py")


def weather_call(call_id: str = "call_w") -> bytes:
    return sse_bytes([
        chunk(role="assistant", content=None, reasoning_content="I should look it up."),
        chunk(tool_calls=[tool_delta(0, call_id, "get_weather", '{"city": ')]),
        chunk(tool_calls=[tool_delta(0, arguments='"Paris"}')]),
        chunk(finish_reason="tool_calls"),
    ])


def test_a_function_tool_runs_and_its_result_goes_back(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["It is 21 degrees in Paris."])))
    result = run_cli(["--base-url", fakeapi.base_url, "--functions", FUNCTIONS, "--yes",
                      "weather in Paris?"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "It is 21 degrees in Paris.\n"
    lines = result.stderr.splitlines()
    assert lines[0] == 'tool call: get_weather({"city":"Paris"}) [call_w]'
    assert lines[1].startswith("tool result [call_w] get_weather (")
    assert lines[1].endswith("): Paris: 21 degrees celsius")
    first, second = (r.json() for r in fakeapi.requests)
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"get_weather", "every_type", "no_arguments", "fails"} <= names
    assert "_private_helper" not in names
    assert second["messages"][1] == {
        "role": "assistant", "content": None, "reasoning_content": "I should look it up.",
        "tool_calls": [{"id": "call_w", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
    assert second["messages"][2] == {"role": "tool", "tool_call_id": "call_w",
                                     "content": "Paris: 21 degrees celsius"}


def test_without_a_terminal_an_unapproved_call_is_refused(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["I could not check."])))
    result = run_cli(["--base-url", fakeapi.base_url, "--functions", FUNCTIONS, "hi"])
    assert result.exit_code == 0
    tool_message = fakeapi.requests[-1].json()["messages"][2]
    assert tool_message["role"] == "tool"
    assert "refused" in tool_message["content"]
    assert "tool result [call_w] get_weather refused" in result.stderr


def test_approve_names_one_tool(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--functions", FUNCTIONS,
                      "--approve", "get_weather", "hi"])
    assert result.exit_code == 0
    assert fakeapi.requests[-1].json()["messages"][2]["content"] == "Paris: 21 degrees celsius"


def test_json_mode_prints_one_object_with_every_round(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["Sunny."])))
    result = run_cli(["--base-url", fakeapi.base_url, "--functions", FUNCTIONS, "--yes",
                      "-O", "json", "hi"])
    body = json.loads(result.stdout)
    assert body["choices"][0]["message"]["content"] == "Sunny."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool", "assistant"]


def test_bad_tool_flags_are_usage_errors() -> None:
    for args, message in (
        (["--functions", "missing.py"], "missing.py"),
        (["--tool-cmd", "novalue"], "NAME=COMMAND"),
        (["--functions", FUNCTIONS, "--tool-timeout", "0"], "--tool-timeout"),
    ):
        result = run_cli(["--base-url", "http://127.0.0.1:9/v1", *args, "hi"])
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.stderr


def test_the_approval_prompt_on_a_pseudo_terminal(fakeapi: FakeAPI) -> None:
    import pexpect

    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["Done."])))
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "--base-url", fakeapi.base_url,
                                           "-O", "plain", "--functions", FUNCTIONS, "hi"],
                          env=process_env({"TERM": "xterm-256color"}), dimensions=(40, 120),
                          timeout=30)
    child.expect(r"Run get_weather\? \[y\]es")
    child.sendline("y")
    child.expect("Done.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert fakeapi.requests[-1].json()["messages"][2]["content"] == "Paris: 21 degrees celsius"


def test_an_mcp_server_tool_through_the_command_line(fakeapi: FakeAPI) -> None:
    import pytest

    pytest.importorskip("mcp")
    server = f"{sys.executable} {FIXTURES.parent / 'mcp_fixtures' / 'weather_server.py'} weather"
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_m", "get_forecast", '{"city": "Oslo"}')]),
        chunk(finish_reason="tool_calls"),
    ])))
    fakeapi.add(SSE(text_stream(["Oslo looks fine."])))
    result = run_cli(["--base-url", fakeapi.base_url, "--mcp", server, "--yes", "weather?"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Oslo looks fine.\n"
    first, second = (r.json() for r in fakeapi.requests)
    assert "get_forecast" in {t["function"]["name"] for t in first["tools"]}
    tool_message = second["messages"][2]
    assert tool_message["tool_call_id"] == "call_m"
    assert "Oslo" in tool_message["content"]
