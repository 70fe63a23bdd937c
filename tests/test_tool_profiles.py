"""Tools a profile loads by default: merged with the flags, in ``ask`` and in ``chat``."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from pathlib import Path

from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chatcli.config import Settings
from chatcli.repl.prompt import chat
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest
from chatcli.session.tooling import merged_tool_options
from clirun import run_cli
from fakeapi import SSE, FakeAPI, chunk, sse_bytes, text_stream, tool_delta

FIXTURES = Path(__file__).resolve().parent / "tools_fixtures"


def config_dir_with_tools() -> Path:
    """The config directory, holding a copy of the sample functions and definitions."""
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"])
    (directory / "tools").mkdir(parents=True)
    shutil.copy(FIXTURES / "sample_functions.py", directory / "tools" / "weather.py")
    shutil.copy(FIXTURES / "definitions.json", directory / "defs.json")
    return directory


def write_config(text: str) -> None:
    (Path(os.environ["CHATCLI_CONFIG_DIR"]) / "config.toml").write_text(text)


def call(name: str, arguments: str, call_id: str = "call_1") -> SSE:
    return SSE(sse_bytes([chunk(role="assistant", content=None),
                          chunk(tool_calls=[tool_delta(0, call_id, name, arguments)]),
                          chunk(finish_reason="tool_calls")]))


def test_flags_add_to_what_the_profile_lists() -> None:
    profile = Settings(functions=("/cfg/a.py", "/cfg/b.py"), tool_cmds=("x=run x",),
                       approve=("x",), tools="/cfg/defs.json")
    request = AskRequest(prompt=[], flags={}, functions=["/cfg/b.py", "c.py"],
                         tool_cmds=["y=run y"], approve=["y"], yes=True)
    merged = merged_tool_options(request, profile)
    assert merged.functions == ["/cfg/a.py", "/cfg/b.py", "c.py"]
    assert (merged.tool_cmds, merged.approve) == (["x=run x", "y=run y"], ["x", "y"])
    assert (merged.tools, merged.yes) == ("/cfg/defs.json", True)
    assert merged_tool_options(AskRequest([], {}, tools="mine.json"), profile).tools == "mine.json"
    assert merged_tool_options(request, Settings()).functions == request.functions


def test_a_one_shot_run_with_the_tool_from_the_profile_alone(fakeapi: FakeAPI) -> None:
    config_dir_with_tools()
    write_config(f'[profiles.t]\nbase_url = "{fakeapi.base_url}"\n'
                 'functions = ["tools/weather.py"]\napprove = ["get_weather"]\n')
    fakeapi.add(call("get_weather", '{"city": "Oslo"}'))
    fakeapi.add(SSE(text_stream(["Cold."])))
    result = run_cli(["-P", "t", "weather in Oslo?"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Cold.\n"
    assert "tool result [call_1] get_weather (" in result.stderr
    first, second = (r.json() for r in fakeapi.requests)
    assert "get_weather" in {t["function"]["name"] for t in first["tools"]}
    assert second["messages"][2] == {"role": "tool", "tool_call_id": "call_1",
                                     "content": "Oslo: 21 degrees celsius"}


def test_the_repl_loads_profile_tools_and_flags_add_to_them(fakeapi: FakeAPI) -> None:
    directory = config_dir_with_tools()
    command = f"lookup={sys.executable} {FIXTURES / 'command_tool.py'} echo"
    write_config(f'default_profile = "t"\n[profiles.t]\nbase_url = "{fakeapi.base_url}"\n'
                 'functions = ["tools/weather.py"]\ntools = "defs.json"\n'
                 f'tool_cmds = [{json.dumps(command)}]\napprove = ["lookup"]\n')
    fakeapi.add(call("get_weather", '{"city": "Rome"}'))
    fakeapi.add(SSE(text_stream(["Hot."])))
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      stdin_is_terminal=True, stdout_is_terminal=False, stderr_is_terminal=False)
    request = AskRequest(prompt=[], flags={}, approve=["get_weather"])
    with create_pipe_input() as pipe:
        pipe.send_text("/tools\rweather?\r")
        pipe.close()
        chat(request, env, input=pipe, output=DummyOutput(), history=InMemoryHistory())
    assert isinstance(env.stdout.stream, io.StringIO)
    rows = {line.split()[0]: line.split()[1:3] for line in env.stdout.getvalue().splitlines()
            if line.startswith("  ")}
    assert rows["lookup"] == ["always-approved", "command"]
    assert rows["remote_only"] == ["not-run-here", "definition"]
    assert rows["get_weather"] == ["always-approved", "function"]  # approved by the flag
    assert str(directory / "tools" / "weather.py") in env.stdout.getvalue()
    assert fakeapi.requests[-1].json()["messages"][2]["content"] == "Rome: 21 degrees celsius"
