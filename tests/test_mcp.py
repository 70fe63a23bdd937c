"""MCP servers as tools: a real server (``mcp_fixtures/weather_server.py``, written with
the SDK) over stdio and streamable HTTP, naming, results, failures at load time,
clean shutdown, and one call through the tool loop against the fake API."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.engine.tool_loop import converse
from chatcli.errors import UsageError
from chatcli.tools import Approval, Cancellation, ToolError, ToolSet
from chatcli.tools.mcp import (
    SDK_MISSING,
    McpTools,
    exposed_names,
    load_mcp_tools,
    result_text,
)
from fakeapi import SSE, FakeAPI, chunk, sse_bytes, text_stream, tool_delta

SERVER = Path(__file__).parent / "mcp_fixtures" / "weather_server.py"
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def server_command(name: str = "weather", tools: str = "get_forecast,fail,radar,hang") -> str:
    return shlex.join([sys.executable, str(SERVER), name, "--tools", tools])


@pytest.fixture(scope="module")
def weather() -> Iterator[McpTools]:
    """One stdio server for the tests that only call it (each start costs about a second)."""
    with load_mcp_tools([server_command()]) as tools:
        yield tools


@pytest.fixture
def http_url() -> Iterator[str]:
    """The fixture server over streamable HTTP; it prints its port once it listens."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "weather", "--http", "--tools", "get_forecast,fail"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp"
    finally:
        process.terminate()
        process.wait()
        process.stdout.close()


def by_name(tools: McpTools) -> dict[str, Any]:
    return {definition["function"]["name"]: tool for definition, tool in tools.entries}


def mcp_threads() -> set[threading.Thread]:
    """Loop threads alive now; the module's shared server keeps one, so tests compare sets."""
    return {thread for thread in threading.enumerate() if thread.name == "mcp client"}


# -- over stdio --------------------------------------------------------------------


def test_tools_are_listed_with_their_descriptions_and_schemas(weather: McpTools) -> None:
    definitions = [definition for definition, _ in weather.entries]
    assert [d["function"]["name"] for d in definitions] == [
        "get_forecast", "fail", "radar", "hang"]
    assert definitions[0] == {"type": "function", "function": {
        "name": "get_forecast",
        "description": "The weather forecast for a city.",
        "parameters": {
            "type": "object", "title": "get_forecastArguments", "required": ["city"],
            "properties": {"city": {"title": "City", "type": "string"},
                           "days": {"default": 1, "title": "Days", "type": "integer"}}}}}


def test_a_call_returns_the_text_of_the_result(weather: McpTools) -> None:
    tool = by_name(weather)["get_forecast"]
    assert tool.run({"city": "Oslo", "days": 3}, Cancellation()) == "Oslo: sunny for 3 day(s)"


def test_content_that_is_not_text_is_summarised(weather: McpTools) -> None:
    text = by_name(weather)["radar"].run({}, Cancellation())
    assert text == "radar map\n[image: image/png, 32 bytes]"


def test_an_error_result_becomes_a_tool_error_with_its_text(weather: McpTools) -> None:
    with pytest.raises(ToolError, match=r"^Error executing tool fail: cannot comply: no sun$"):
        by_name(weather)["fail"].run({"reason": "no sun"}, Cancellation())


def test_a_call_cancelled_by_the_runner_is_a_tool_error(weather: McpTools) -> None:
    cancellation = Cancellation()
    errors: list[BaseException] = []
    caller = threading.Thread(target=_record, args=(errors, by_name(weather)["hang"],
                                                    cancellation))
    caller.start()
    cancellation.cancel()  # before or during the call: either way it ends here
    caller.join()
    assert [str(error) for error in errors] == ["the call was cancelled"]


def test_tools_two_servers_share_are_prefixed_with_the_server_name() -> None:
    commands = [server_command("weather", "get_forecast,fail"),
                server_command("my almanac!", "get_forecast,radar")]
    with load_mcp_tools(commands) as tools:
        names = list(by_name(tools))
        assert names == ["weather__get_forecast", "fail", "my_almanac__get_forecast", "radar"]
        forecast = by_name(tools)["my_almanac__get_forecast"]
        assert forecast.run({"city": "Rome"}, Cancellation()) == "Rome: sunny for 1 day(s)"
        toolset = ToolSet()
        for definition, tool in tools.entries:
            toolset.add(definition, tool, origin="MCP")
        assert toolset.names == names


def test_closing_stops_the_servers_and_the_loop_thread() -> None:
    before = mcp_threads()
    tools = load_mcp_tools([server_command(tools="process_id,hang")])
    pid = int(by_name(tools)["process_id"].run({}, Cancellation()))
    pending: list[BaseException] = []
    caller = threading.Thread(target=_record, args=(pending, by_name(tools)["hang"]))
    caller.start()
    tools.close()
    caller.join()
    tools.close()  # a second close does nothing
    assert [type(error) for error in pending] == [ToolError]
    assert mcp_threads() == before
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _record(errors: list[BaseException], tool: Any,
            cancellation: Cancellation | None = None) -> None:
    try:
        tool.run({}, cancellation or Cancellation())
    except BaseException as error:  # a call in flight ends with its session, or cancelled
        errors.append(error)


# -- over streamable HTTP ----------------------------------------------------------


def test_tools_over_streamable_http_are_listed_and_called(http_url: str) -> None:
    before = mcp_threads()
    with load_mcp_tools(urls=[http_url]) as tools:
        assert list(by_name(tools)) == ["get_forecast", "fail"]
        assert by_name(tools)["get_forecast"].run({"city": "Lima"}, Cancellation()) == (
            "Lima: sunny for 1 day(s)")
        with pytest.raises(ToolError, match="cannot comply: late"):
            by_name(tools)["fail"].run({"reason": "late"}, Cancellation())
    assert mcp_threads() == before


# -- failures at load time -----------------------------------------------------------


def test_a_missing_command_is_a_usage_error_naming_it() -> None:
    before = mcp_threads()
    with pytest.raises(UsageError, match="'no-such-mcp-server --flag': command not found"):
        load_mcp_tools(["no-such-mcp-server --flag"])
    assert mcp_threads() == before


def test_a_server_that_exits_at_once_is_a_usage_error() -> None:
    before = mcp_threads()
    command = shlex.join([sys.executable, "-c", "pass"])
    with pytest.raises(UsageError, match=re.escape(f"MCP server {command!r}: ")):
        load_mcp_tools([server_command(), command])
    assert mcp_threads() == before


def test_a_refused_url_is_a_usage_error_naming_it() -> None:
    before = mcp_threads()
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    with pytest.raises(UsageError, match=f"MCP server {re.escape(url)}: "):
        load_mcp_tools(urls=[url])
    assert mcp_threads() == before


@pytest.mark.parametrize(("commands", "urls", "message"), [
    ([""], [], "--mcp needs a command"),
    (["server 'unclosed"], [], "No closing quotation"),
    ([], ["localhost:8000/mcp"], "give an http:// or https:// URL"),
])
def test_bad_flags_are_usage_errors(commands: list[str], urls: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_mcp_tools(commands, urls)


def test_without_the_sdk_the_error_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(UsageError) as caught:
        load_mcp_tools([server_command()])
    assert caught.value.message == SDK_MISSING == (
        "--mcp needs the MCP SDK: pip install 'chatcli[mcp]'")


def test_no_servers_start_nothing() -> None:
    tools = load_mcp_tools([], [])
    assert tools.entries == []
    tools.close()


# -- names and results ---------------------------------------------------------------


def test_names_keep_to_the_api_rule_and_stay_distinct() -> None:
    long = "x" * 70
    names = exposed_names(["a.b", "a.b", "c"], [[long, "tool.one"], [long], ["tool.one"]])
    assert names[0][1] == "a_b__tool_one" and names[2] == ["c__tool_one"]
    assert names[0][0] != names[1][0] and names[1][0].startswith("a_b_2__")
    assert all(NAME.match(name) for group in names for name in group)


@pytest.mark.parametrize(("content", "text"), [
    ({"type": "audio", "data": "AAAA", "mimeType": "audio/wav"}, "[audio: audio/wav, 3 bytes]"),
    ({"type": "resource_link", "uri": "file:///a.txt", "name": "a"},
     "[resource link: a file:///a.txt]"),
    ({"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inside"}}, "inside"),
    ({"type": "resource", "resource": {"uri": "file:///b", "mimeType": "x/y", "blob": "AA=="}},
     "[resource: file:///b, x/y, 1 bytes]"),
])
def test_every_kind_of_content_becomes_text(content: dict[str, Any], text: str) -> None:
    assert result_text({"content": [content]}) == text


def test_structured_content_alone_is_sent_as_json() -> None:
    assert result_text({"content": [], "structuredContent": {"a": 1}}) == '{"a": 1}'


# -- through the tool loop -----------------------------------------------------------


def test_the_model_calls_an_mcp_tool_and_reads_its_result(fakeapi: FakeAPI,
                                                          weather: McpTools) -> None:
    toolset = ToolSet()
    for definition, tool in weather.entries:
        toolset.add(definition, tool, origin="MCP")
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_forecast", "arguments": '{"city": "Oslo"}'}}
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_1", "get_forecast", '{"city": "Oslo"}')]),
        chunk(finish_reason="tool_calls")])))
    fakeapi.add(SSE(text_stream(["Sunny in Oslo."])))
    settings = Settings(base_url=fakeapi.base_url, api_key="sk-test", retries=0)
    with ChatClient(settings) as client:
        result = converse(client, settings, [{"role": "user", "content": "Oslo?"}], {},
                          toolset, Approval(approve_all=True), make_renderer=_Quiet)
    first, second = (request.json() for request in fakeapi.requests)
    assert first["tools"] == [definition for definition, _ in weather.entries]
    assert second["messages"][1:] == [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Oslo: sunny for 1 day(s)"}]
    assert result.last.message == {"role": "assistant", "content": "Sunny in Oslo."}


class _Quiet:
    """A renderer that shows nothing."""

    def start(self) -> None:
        pass

    def on_events(self, events: Any, raw: str | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, result: Any) -> None:
        pass

    def abort(self, result: Any) -> None:
        pass
