"""Tools on their own: schemas from Python functions, command tools, the argument check,
approval (through injected terminal streams) and running calls concurrently."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from chatcli.errors import UsageError
from chatcli.tools import (
    ALWAYS,
    NO,
    YES,
    Approval,
    Decision,
    RequestedCall,
    ToolSet,
    ask_on_terminal,
    build_toolset,
    edit,
    run_tool_calls,
)
from chatcli.tools.approval import DECLINED, NO_TERMINAL
from chatcli.tools.functions import function_tool, load_functions_file
from chatcli.tools.validation import schema_problems

FIXTURES = Path(__file__).parent / "tools_fixtures"
SAMPLE = str(FIXTURES / "sample_functions.py")
SCRIPT = FIXTURES / "command_tool.py"
DEFINITIONS = json.loads((FIXTURES / "definitions.json").read_text())


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A ``tool_calls`` entry as an assistant message carries it."""
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": arguments}}


def toolset_of(*functions: Callable[..., Any]) -> ToolSet:
    toolset = ToolSet()
    for function in functions:
        toolset.add(*function_tool(function))
    return toolset


def command(mode: str, *extra: str) -> str:
    """A ``NAME=COMMAND`` command line running the fixture script."""
    return shlex.join([sys.executable, str(SCRIPT), mode, *extra])


@pytest.fixture
def never() -> Iterator[threading.Event]:
    """An event no tool sees set during the test; set afterwards so no thread stays blocked."""
    event = threading.Event()
    yield event
    event.set()


# -- schemas from functions ------------------------------------------------------


def test_only_public_functions_defined_in_the_file_become_tools() -> None:
    names = [definition["function"]["name"] for definition, _ in load_functions_file(SAMPLE)]
    assert names == ["get_weather", "every_type", "no_arguments", "fails"]


def test_the_docstring_gives_the_descriptions() -> None:
    first, _ = load_functions_file(SAMPLE)[0]
    assert first == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city's name, in English."},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                             "description": "The temperature unit.", "default": "celsius"},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }


def test_every_supported_type_has_its_schema() -> None:
    definition, _ = load_functions_file(SAMPLE)[1]
    parameters = definition["function"]["parameters"]
    assert parameters["properties"] == {
        "text": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "items": {"type": "array"},
        "mapping": {"type": "object"},
        "names": {"type": "array", "items": {"type": "string"}},
        "scores": {"type": "object", "additionalProperties": {"type": "number"}},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "maybe": {"type": ["integer", "null"]},
        "raw": {"type": "string"},
        "either": {"type": ["string", "null"], "default": None},
        "nested": {"type": ["array", "null"], "default": None,
                   "items": {"type": "object", "additionalProperties": {"type": "integer"}}},
        "anything": {"default": None},
        "limit": {"type": "integer", "default": 5},
    }
    assert parameters["required"] == ["text", "count", "ratio", "flag", "items", "mapping",
                                      "names", "scores", "level", "raw"]
    assert definition["function"]["description"] == (
        "Echo every argument back, to show what the model sent.")


def test_an_optional_parameter_left_out_arrives_as_none() -> None:
    toolset = build_toolset(function_files=[SAMPLE])
    arguments = {"text": "t", "count": 1, "ratio": 0.5, "flag": True, "items": [],
                 "mapping": {}, "names": ["a"], "scores": {"x": 1.5}, "level": 2, "raw": "r"}
    [outcome] = run_tool_calls([call("c1", "every_type", json.dumps(arguments))], toolset,
                               Approval(approve_all=True))
    assert outcome.status == "ok", outcome.content
    assert json.loads(outcome.content) == {**arguments, "maybe": None, "either": None,
                                           "nested": None, "anything": None, "limit": 5}


def test_a_union_of_several_types_and_a_mixed_literal() -> None:
    def pick(value: int | str, mode: Literal["a", 1] = "a") -> str:
        """Pick."""
        return str(value)

    definition, _ = function_tool(pick)
    assert definition["function"]["parameters"]["properties"] == {
        "value": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "mode": {"enum": ["a", 1], "default": "a"},
    }


def test_a_file_that_fails_to_import_is_a_usage_error_naming_it() -> None:
    path = str(FIXTURES / "broken_functions.py")
    with pytest.raises(UsageError) as caught:
        load_functions_file(path)
    assert caught.value.message == (
        f"functions file {path}: importing it failed: RuntimeError: this file refuses to load")


@pytest.mark.parametrize(("source", "problem"), [
    ("def f(*names: str) -> str:\n    return ''\n", "f(): parameter *names cannot come from"),
    ("def f(a: str, /) -> str:\n    return ''\n", "parameter a (positional-only) cannot"),
    ("def f(values: set[int]) -> str:\n    return ''\n",
     "f(): parameter values: the type set[int] has no"),
    ("def f(x: 'Missing') -> str:\n    return ''\n", "its type hints cannot be resolved"),
    ("X = 1\n", "defines no public functions"),
    ("def f(:\n", "importing it failed: SyntaxError"),
])
def test_functions_that_cannot_be_tools_are_usage_errors(
    tmp_path: Path, source: str, problem: str
) -> None:
    path = tmp_path / "tools.py"
    path.write_text(source)
    with pytest.raises(UsageError, match=re.escape(problem)):
        load_functions_file(str(path))


def test_loading_a_file_leaves_no_bytecode_beside_it(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "mine.py")
    load_functions_file(str(tmp_path / "mine.py"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.py"]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_functions_file(str(tmp_path / "absent.py"))


# -- the tool set ----------------------------------------------------------------


def test_the_toolset_holds_definitions_and_runners() -> None:
    toolset = build_toolset(DEFINITIONS, [SAMPLE], [f"lookup={command('echo')}"])
    assert toolset.names == ["lookup", "remote_only", "get_weather", "every_type",
                             "no_arguments", "fails"]
    assert sorted(toolset.tools) == ["every_type", "fails", "get_weather", "lookup",
                                     "no_arguments"]
    assert toolset.runnable
    assert not build_toolset(DEFINITIONS).runnable


@pytest.mark.parametrize(("cmds", "files", "problem"), [
    (["nobody=true"], [], "the tool 'nobody' has no definition"),
    (["lookup"], [], "must look like NAME=COMMAND"),
    (["lookup="], [], "the command is empty"),
    (["lookup='unclosed"], [], "cannot split the command"),
    (["bad name=true"], [], "tool name 'bad name'"),
    (["lookup=/no/such/program"], [], "/no/such/program: no such program"),
    (["lookup=true", "lookup=true"], [], "already has something to run it"),
    ([], [SAMPLE, SAMPLE], "the tool 'get_weather' is defined twice"),
])
def test_bad_tool_flags_are_usage_errors(cmds: list[str], files: list[str], problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        build_toolset(DEFINITIONS, files, cmds)


def test_request_fields_add_each_definition_once() -> None:
    toolset = build_toolset(DEFINITIONS, [SAMPLE])
    fields = toolset.request_fields({"tools": DEFINITIONS[:1], "temperature": 0})
    assert [t["function"]["name"] for t in fields["tools"]] == toolset.names
    assert fields["temperature"] == 0


def test_a_legacy_request_gets_bare_functions() -> None:
    toolset = build_toolset(function_files=[SAMPLE])
    fields = toolset.request_fields({"functions": []})
    assert "tools" not in fields
    assert [f["name"] for f in fields["functions"]] == toolset.names
    assert fields["functions"][0]["parameters"]["required"] == ["city"]


# -- the argument check ------------------------------------------------------------


@pytest.mark.parametrize(("value", "problems"), [
    ({"query": "x", "limit": 3}, []),
    ({"limit": 3}, ["arguments: missing required property 'query'"]),
    ({"query": 3}, ["query: expected string, got integer"]),
    ({"query": "x", "limit": 2.5}, ["limit: expected integer, got number"]),
    ({"query": "x", "limit": True}, ["limit: expected integer, got boolean"]),
    ({"query": "x", "extra": 1}, ["arguments: unknown property 'extra'"]),
])
def test_arguments_are_checked_against_the_schema(
    value: dict[str, Any], problems: list[str]
) -> None:
    schema = DEFINITIONS[0]["function"]["parameters"]
    assert schema_problems(value, schema) == problems


def test_nested_arrays_enums_and_unions_are_checked() -> None:
    schema = {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    }}
    assert schema_problems({"tags": ["a", "c"], "size": None}, schema) == [
        "tags[1]: 'c' is not one of 'a', 'b'"]
    assert schema_problems({"size": "big"}, schema) == [
        "size: matches none of the allowed shapes"]


# -- running calls ---------------------------------------------------------------------


def test_calls_run_and_their_outcomes_keep_the_calls_order() -> None:
    toolset = build_toolset(function_files=[SAMPLE])
    outcomes = run_tool_calls(
        [call("c1", "get_weather", '{"city": "Paris"}'), call("c2", "no_arguments", ""),
         call("c3", "no_arguments", "null"), call("c4", "fails", '{"reason": "no luck"}')],
        toolset, Approval(approve_all=True))
    assert [(o.tool_call_id, o.name, o.status, o.content) for o in outcomes] == [
        ("c1", "get_weather", "ok", "Paris: 21 degrees celsius"),
        ("c2", "no_arguments", "ok", "null"),
        ("c3", "no_arguments", "ok", "null"),
        ("c4", "fails", "error", "error: ValueError: no luck"),
    ]
    assert all(o.duration >= 0 for o in outcomes)


def test_bad_calls_become_errors_for_the_model_without_running() -> None:
    toolset = build_toolset(DEFINITIONS, [SAMPLE])
    outcomes = run_tool_calls(
        [call("c1", "nowhere", "{}"), call("c2", "remote_only", "{}"),
         call("c3", "get_weather", '{"city": "Pa'), call("c4", "get_weather", "[1]"),
         call("c5", "get_weather", '{"town": "Paris"}')],
        toolset, Approval(approve_all=True))
    assert [o.content for o in outcomes] == [
        "error: there is no tool named 'nowhere'; the tools are: every_type, fails,"
        " get_weather, no_arguments",
        "error: the tool 'remote_only' is defined, but nothing here can run it",
        "error: the arguments are not valid JSON (Unterminated string starting at:"
        ' line 1 column 10 (char 9)): {"city": "Pa',
        "error: the arguments must be a JSON object",
        "error: the arguments do not fit the tool's schema: arguments: missing required"
        " property 'city'; arguments: unknown property 'town'",
    ]
    assert {o.status for o in outcomes} == {"error"}


def test_approved_calls_run_at_the_same_time() -> None:
    barrier = threading.Barrier(2)

    def left() -> str:
        """Waits for right."""
        barrier.wait(timeout=30)  # only passes if both run at once
        return "left"

    def right() -> str:
        """Waits for left."""
        barrier.wait(timeout=30)
        return "right"

    outcomes = run_tool_calls([call("a", "left", "{}"), call("b", "right", "{}")],
                              toolset_of(left, right), Approval(approve_all=True))
    assert [(o.status, o.content) for o in outcomes] == [("ok", "left"), ("ok", "right")]


def test_a_tool_that_never_returns_times_out(never: threading.Event) -> None:
    def stuck() -> str:
        """Blocks until the test ends."""
        never.wait()
        return "late"

    def quick() -> str:
        """Answers at once."""
        return "done"

    outcomes = run_tool_calls([call("a", "stuck", "{}"), call("b", "quick", "{}")],
                              toolset_of(stuck, quick), Approval(approve_all=True), 0.2)
    assert [(o.status, o.content) for o in outcomes] == [
        ("timeout", "error: timed out after 0.2 s"), ("ok", "done")]


# -- command tools -----------------------------------------------------------------------


def test_a_command_gets_the_arguments_on_stdin_and_never_through_a_shell() -> None:
    spec = f"lookup={command('echo', '$HOME', ';', 'ls', '`id`')}"
    toolset = build_toolset(DEFINITIONS, tool_cmds=[spec])
    arguments = json.dumps({"query": '"; rm -rf / $(id) `id` $HOME'})
    [outcome] = run_tool_calls([call("c1", "lookup", arguments)], toolset,
                               Approval(approve_all=True))
    assert outcome.status == "ok", outcome.content
    answer = json.loads(outcome.content)
    assert json.loads(answer["stdin"]) == {"query": '"; rm -rf / $(id) `id` $HOME'}
    assert answer["argv"] == ["$HOME", ";", "ls", "`id`"]


def test_a_failing_command_reports_its_status_and_the_end_of_stderr() -> None:
    toolset = build_toolset(DEFINITIONS, tool_cmds=[f"lookup={command('fail')}"])
    [outcome] = run_tool_calls([call("c1", "lookup", '{"query": "x"}')], toolset,
                               Approval(approve_all=True))
    assert (outcome.status, outcome.content) == (
        "error", "error: exit status 3: problem 3\nproblem 4\nproblem 5\nproblem 6\nproblem 7")


def test_a_command_that_runs_out_of_time_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    toolset = build_toolset(DEFINITIONS, tool_cmds=[f"lookup={command('hang')}"])
    [outcome] = run_tool_calls([call("c1", "lookup", '{"query": "x"}')], toolset,
                               Approval(approve_all=True), 0.3)
    assert (outcome.status, outcome.content) == ("timeout", "error: timed out after 0.3 s")
    [process] = started
    assert process.returncode is not None and process.returncode < 0  # killed, and reaped


# -- approval ----------------------------------------------------------------------------


def test_without_a_terminal_an_unapproved_call_is_refused_and_never_runs() -> None:
    ran: list[str] = []

    def act(what: str) -> str:
        """Records that it ran."""
        ran.append(what)
        return "ran"

    calls = [call("c1", "act", '{"what": "x"}')]
    [outcome] = run_tool_calls(calls, toolset_of(act), Approval())
    assert (outcome.status, outcome.content, ran) == ("refused", NO_TERMINAL, [])
    [outcome] = run_tool_calls(calls, toolset_of(act), Approval(approved=["act"]))
    assert (outcome.status, ran) == ("ok", ["x"])


def run_with_answers(answers: str, calls: list[dict[str, Any]]) -> tuple[list[Any], str]:
    """Run calls of ``echo_args`` with ``answers`` typed at the prompt; outcomes and prompts."""
    def echo_args(text: str) -> str:
        """Returns its argument."""
        return text

    out = io.StringIO()
    approval = Approval(ask=ask_on_terminal(io.StringIO(answers), out))
    return run_tool_calls(calls, toolset_of(echo_args), approval), out.getvalue()


def test_the_terminal_prompt_yes_and_no() -> None:
    outcomes, shown = run_with_answers("y\nn\n", [call("c1", "echo_args", '{"text": "one"}'),
                                                 call("c2", "echo_args", '{"text": "two"}')])
    assert [(o.status, o.content) for o in outcomes] == [("ok", "one"), ("refused", DECLINED)]
    prompt = "Run echo_args? [y]es / [n]o / [a]lways for echo_args / [e]dit arguments: "
    assert shown == (f'tool call: echo_args({{"text":"one"}})\n{prompt}'
                     f'tool call: echo_args({{"text":"two"}})\n{prompt}')


def test_always_approves_the_tool_for_the_rest_of_the_session() -> None:
    outcomes, shown = run_with_answers("always\n", [call("c1", "echo_args", '{"text": "a"}'),
                                                   call("c2", "echo_args", '{"text": "b"}')])
    assert [o.content for o in outcomes] == ["a", "b"]
    assert shown.count("tool call:") == 1


def test_edit_runs_the_call_with_the_new_arguments() -> None:
    answers = "maybe\ne\nnot json\n[1]\n\ne\n{\"text\": \"edited\"}\n"
    outcomes, shown = run_with_answers(answers, [call("c1", "echo_args", '{"text": "orig"}')])
    assert [(o.status, o.content, o.arguments) for o in outcomes] == [
        ("ok", "edited", '{"text": "edited"}')]
    assert "Please answer y, n, a or e.\n" in shown
    assert "Not valid JSON: Expecting value: line 1 column 1 (char 0)\n" in shown
    assert "The arguments must be a JSON object.\n" in shown


def test_edited_arguments_are_checked_again() -> None:
    outcomes, _ = run_with_answers('e\n{"other": 1}\n', [call("c1", "echo_args", '{"text": "x"}')])
    assert outcomes[0].content == (
        "error: the arguments do not fit the tool's schema: arguments: missing required"
        " property 'text'; arguments: unknown property 'other'")


def test_the_end_of_input_means_no() -> None:
    for answers in ("", "e\n"):
        outcomes, _ = run_with_answers(answers, [call("c1", "echo_args", '{"text": "x"}')])
        assert outcomes[0].status == "refused"


def test_an_injected_ask_decides_each_call_in_order() -> None:
    seen: list[RequestedCall] = []
    answers = iter([YES, NO, edit('{"text": "new"}'), ALWAYS])

    def ask(requested: RequestedCall) -> Decision:
        seen.append(requested)
        return next(answers)

    def first(text: str) -> str:
        """Returns its argument."""
        return text

    approval = Approval(ask=ask)
    calls = [call(f"c{n}", "first", json.dumps({"text": str(n)})) for n in range(1, 6)]
    outcomes = run_tool_calls(calls, toolset_of(first), approval)
    assert [o.content for o in outcomes] == ["1", DECLINED, "new", "4", "5"]
    assert [requested.id for requested in seen] == ["c1", "c2", "c3", "c4"]
    assert seen[0] == RequestedCall("c1", "first", '{"text": "1"}')
    assert approval.approved == {"first"}
