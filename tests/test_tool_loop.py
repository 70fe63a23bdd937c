"""The tool loop against the fake API: scripted multi-round exchanges, checked by what
the server received in each round."""

from __future__ import annotations

import json
import shlex
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.engine.tool_loop import LoopResult, converse
from chatcli.engine.turn import Recorder
from chatcli.history import ConversationRecorder, HistoryStore
from chatcli.protocol.events import Event
from chatcli.protocol.result import TurnResult
from chatcli.tools import Approval, ToolOutcome, ToolSet, build_toolset
from chatcli.tools.approval import NO_TERMINAL
from chatcli.tools.functions import function_tool
from fakeapi import JSON, SSE, FakeAPI, chunk, completion, sse_bytes, text_stream, tool_delta

FIXTURES = Path(__file__).parent / "tools_fixtures"
SAMPLE = str(FIXTURES / "sample_functions.py")
USER = {"role": "user", "content": "What is the weather in Paris?"}


class Renderer:
    """Keeps what it was told; one is made per round."""

    def __init__(self) -> None:
        self.finished: list[TurnResult] = []

    def start(self) -> None:
        pass

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        self.finished.append(result)

    def abort(self, result: TurnResult) -> None:
        pass


class Session:
    """One conversation with the fake API and what the loop reported along the way."""

    def __init__(self, api: FakeAPI) -> None:
        self.settings = Settings(base_url=api.base_url, api_key="sk-test", retries=0)
        self.renderers: list[Renderer] = []
        self.outcomes: list[ToolOutcome] = []

    def make_renderer(self) -> Renderer:
        self.renderers.append(Renderer())
        return self.renderers[-1]

    def converse(self, toolset: ToolSet, approval: Approval | None = None,
                 fields: dict[str, Any] | None = None, recorder: Recorder | None = None,
                 **options: Any) -> LoopResult:
        with ChatClient(self.settings) as client:
            return converse(client, self.settings, [USER], fields or {}, toolset,
                            approval or Approval(approve_all=True),
                            make_renderer=self.make_renderer, recorder=recorder,
                            on_outcome=self.outcomes.append, **options)


def calls_reply(*calls: tuple[str, str, str], reasoning: str | None = None,
                finish: str = "tool_calls") -> SSE:
    """A streamed answer calling tools: (id, name, arguments) each, in one piece."""
    chunks = [chunk(role="assistant", content=None)]
    if reasoning is not None:
        chunks.append(chunk(reasoning_content=reasoning))
    chunks += [chunk(tool_calls=[tool_delta(index, call_id, name, arguments)])
               for index, (call_id, name, arguments) in enumerate(calls)]
    chunks.append(chunk(finish_reason=finish))
    return SSE(sse_bytes(chunks))


def tool_messages(api: FakeAPI, round_number: int) -> list[dict[str, Any]]:
    """The tool results the server received in request ``round_number``."""
    messages = api.requests[round_number].json()["messages"]
    return [m for m in messages if m["role"] == "tool"]


def assistant_with(*calls: tuple[str, str, str], **fields: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": None, **fields, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        for call_id, name, arguments in calls]}


def toolset_of(*functions: Callable[..., Any]) -> ToolSet:
    toolset = ToolSet()
    for function in functions:
        toolset.add(*function_tool(function))
    return toolset


@pytest.fixture
def never() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_single_call_is_answered_and_the_model_continues(fakeapi: FakeAPI) -> None:
    call = ("call_1", "get_weather", '{"city": "Paris"}')
    fakeapi.add(calls_reply(call))
    fakeapi.add(SSE(text_stream(["It is ", "21 degrees."])))
    session = Session(fakeapi)
    toolset = build_toolset(function_files=[SAMPLE])
    result = session.converse(toolset)

    first, second = (request.json() for request in fakeapi.requests)
    assert [t["function"]["name"] for t in first["tools"]] == toolset.names
    assert second["tools"] == first["tools"]
    assert first["messages"] == [USER]
    assert second["messages"] == [
        USER, assistant_with(call),
        {"role": "tool", "tool_call_id": "call_1", "content": "Paris: 21 degrees celsius"}]
    assert result.last.message == {"role": "assistant", "content": "It is 21 degrees."}
    assert result.messages == [*second["messages"], result.last.message]
    assert [(o.tool_call_id, o.status) for o in session.outcomes] == [("call_1", "ok")]
    assert result.outcomes == session.outcomes
    assert result.notice is None
    assert [len(r.finished) for r in session.renderers] == [1, 1]  # a fresh renderer per round


def test_arguments_streamed_in_fragments_are_joined_first(fakeapi: FakeAPI) -> None:
    chunks = [chunk(role="assistant", content=None),
              chunk(tool_calls=[tool_delta(0, "call_1", "get_weather", "")]),
              *(chunk(tool_calls=[tool_delta(0, arguments=piece)])
                for piece in ['{"ci', 'ty": "Pa', 'ris", "un', 'it": "fahrenheit"}']),
              chunk(finish_reason="tool_calls")]
    fakeapi.add(SSE(sse_bytes(chunks), per_byte=True))
    fakeapi.add(SSE(text_stream(["ok"])))
    Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]))
    assert tool_messages(fakeapi, 1) == [
        {"role": "tool", "tool_call_id": "call_1", "content": "Paris: 21 degrees fahrenheit"}]


def test_parallel_calls_run_at_once_and_reply_in_order(fakeapi: FakeAPI) -> None:
    barrier = threading.Barrier(2)

    def slow_left() -> str:
        """Finishes only once right has started."""
        barrier.wait(timeout=30)
        return "left"

    def slow_right() -> str:
        """Finishes only once left has started."""
        barrier.wait(timeout=30)
        return "right"

    fakeapi.add(calls_reply(("c_a", "slow_left", "{}"), ("c_b", "slow_right", "{}")))
    fakeapi.add(SSE(text_stream(["both"])))
    Session(fakeapi).converse(toolset_of(slow_left, slow_right))
    assert tool_messages(fakeapi, 1) == [
        {"role": "tool", "tool_call_id": "c_a", "content": "left"},
        {"role": "tool", "tool_call_id": "c_b", "content": "right"}]


def test_reasoning_content_goes_back_exactly_as_received(fakeapi: FakeAPI) -> None:
    call = ("call_r", "get_weather", '{"city":"Paris"}')
    reasoning = "The user wants weather.\n  I should call the tool. "
    fakeapi.add(calls_reply(call, reasoning=reasoning))
    fakeapi.add(SSE(text_stream(["done"])))
    Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]))
    assert fakeapi.requests[1].json()["messages"][1] == assistant_with(
        call, reasoning_content=reasoning)


@pytest.mark.parametrize(("arguments", "content"), [
    ('{"city": ', "error: the arguments are not valid JSON (Expecting value: line 1 column 9"
                  ' (char 8)): {"city":'),
    ('{"city": 7}', "error: the arguments do not fit the tool's schema: city: expected string,"
                    " got integer"),
    ('{"city": "Rome", "when": "now"}', "error: the arguments do not fit the tool's schema:"
                                        " arguments: unknown property 'when'"),
])
def test_bad_arguments_go_back_to_the_model_as_errors(
    fakeapi: FakeAPI, arguments: str, content: str
) -> None:
    fakeapi.add(calls_reply(("c1", "get_weather", arguments)))
    fakeapi.add(SSE(text_stream(["sorry"])))
    result = Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]))
    assert tool_messages(fakeapi, 1) == [{"role": "tool", "tool_call_id": "c1",
                                          "content": content}]
    assert result.last.message["content"] == "sorry"


def test_unknown_and_failing_tools_are_errors_for_the_model(fakeapi: FakeAPI) -> None:
    fakeapi.add(calls_reply(("c1", "launch", "{}"), ("c2", "fails", '{"reason": "broken"}')))
    fakeapi.add(SSE(text_stream(["I see"])))
    session = Session(fakeapi)
    session.converse(build_toolset(function_files=[SAMPLE]))
    assert [m["content"] for m in tool_messages(fakeapi, 1)] == [
        "error: there is no tool named 'launch'; the tools are: every_type, fails, get_weather,"
        " no_arguments",
        "error: ValueError: broken"]
    assert [o.status for o in session.outcomes] == ["error", "error"]


def test_a_tool_that_times_out_is_reported_and_the_loop_goes_on(
    fakeapi: FakeAPI, never: threading.Event
) -> None:
    def wait_forever() -> str:
        """Never answers in time."""
        never.wait()
        return "too late"

    fakeapi.add(calls_reply(("c1", "wait_forever", "{}")))
    fakeapi.add(SSE(text_stream(["gave up"])))
    session = Session(fakeapi)
    session.converse(toolset_of(wait_forever), timeout=0.2)
    assert tool_messages(fakeapi, 1) == [
        {"role": "tool", "tool_call_id": "c1", "content": "error: timed out after 0.2 s"}]
    assert session.outcomes[0].status == "timeout"


def test_without_a_terminal_the_call_is_refused_and_the_model_told(fakeapi: FakeAPI) -> None:
    ran: list[str] = []

    def delete_file(path: str) -> str:
        """Deletes a file."""
        ran.append(path)
        return "deleted"

    fakeapi.add(calls_reply(("c1", "delete_file", '{"path": "/etc/hosts"}')))
    fakeapi.add(SSE(text_stream(["Understood."])))
    session = Session(fakeapi)
    session.converse(toolset_of(delete_file), Approval())
    assert tool_messages(fakeapi, 1) == [{"role": "tool", "tool_call_id": "c1",
                                          "content": NO_TERMINAL}]
    assert ran == []
    assert session.outcomes[0].status == "refused"


def test_the_round_limit_stops_the_loop_with_a_notice(fakeapi: FakeAPI) -> None:
    for number in range(3):
        fakeapi.add(calls_reply((f"c{number}", "no_arguments", "{}")))
    session = Session(fakeapi)
    result = session.converse(build_toolset(function_files=[SAMPLE]), max_rounds=2)
    assert len(fakeapi.requests) == 3
    assert len(result.turns) == 3 and len(session.outcomes) == 2
    assert result.notice == ("stopped after 2 rounds of tool calls; the model still asked for:"
                             " no_arguments (not run)")
    assert result.messages[-1] == assistant_with(("c2", "no_arguments", "{}"))


def test_without_runnable_tools_there_is_one_turn(fakeapi: FakeAPI) -> None:
    definitions = json.loads((FIXTURES / "definitions.json").read_text())
    fakeapi.add(calls_reply(("c1", "lookup", '{"query": "x"}')))
    session = Session(fakeapi)
    result = session.converse(build_toolset(definitions))
    assert len(result.turns) == 1 and session.outcomes == []
    assert fakeapi.requests[0].json()["tools"] == definitions


def test_calls_cut_off_at_the_token_limit_are_not_run(fakeapi: FakeAPI) -> None:
    fakeapi.add(calls_reply(("c1", "get_weather", '{"city": "Pa'), finish="length"))
    result = Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]))
    assert len(result.turns) == 1 and result.outcomes == []


def test_a_command_tool_in_the_loop(fakeapi: FakeAPI) -> None:
    definitions = json.loads((FIXTURES / "definitions.json").read_text())
    script = shlex.join([sys.executable, str(FIXTURES / "command_tool.py"), "echo"])
    arguments = json.dumps({"query": '"; rm -rf /'})
    fakeapi.add(calls_reply(("c1", "lookup", arguments)))
    fakeapi.add(SSE(text_stream(["found"])))
    Session(fakeapi).converse(build_toolset(definitions, tool_cmds=[f"lookup={script}"]))
    [message] = tool_messages(fakeapi, 1)
    assert json.loads(json.loads(message["content"])["stdin"]) == {"query": '"; rm -rf /'}


def test_legacy_function_calls_get_function_messages(fakeapi: FakeAPI) -> None:
    legacy = chunk(finish_reason=None)
    legacy["choices"][0]["delta"] = {"function_call": {"name": "get_weather",
                                                       "arguments": '{"city": "Oslo"}'}}
    fakeapi.add(SSE(sse_bytes([chunk(role="assistant"), legacy,
                               chunk(finish_reason="function_call")])))
    fakeapi.add(SSE(text_stream(["Cold."])))
    toolset = build_toolset(function_files=[SAMPLE])
    Session(fakeapi).converse(toolset, fields={"functions": []})
    first, second = (request.json() for request in fakeapi.requests)
    assert "tools" not in first
    assert [f["name"] for f in first["functions"]] == toolset.names
    assert second["messages"][1:] == [
        {"role": "assistant", "content": None,
         "function_call": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
        {"role": "function", "name": "get_weather", "content": "Oslo: 21 degrees celsius"}]


def test_a_non_streamed_exchange_loops_too(fakeapi: FakeAPI) -> None:
    wire = [{"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'}}]
    fakeapi.add(JSON(completion(None, finish_reason="tool_calls", tool_calls=wire)))
    fakeapi.add(JSON(completion("Warm.")))
    result = Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]), stream=False)
    assert fakeapi.requests[1].json()["stream"] is False
    assert tool_messages(fakeapi, 1)[0]["content"] == "Lima: 21 degrees celsius"
    assert result.last.message["content"] == "Warm."


def test_the_recorder_keeps_every_round(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(calls_reply(("c1", "get_weather", '{"city": "Paris"}')))
    fakeapi.add(SSE(text_stream(["Mild."])))
    store = HistoryStore.open(tmp_path / "history.db")
    try:
        recorder = ConversationRecorder(store)
        result = Session(fakeapi).converse(build_toolset(function_files=[SAMPLE]),
                                           recorder=recorder)
        assert recorder.conversation_id is not None
        stored = [m.message for m in store.messages(recorder.conversation_id)]
    finally:
        store.close()
    assert stored == result.messages
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]
