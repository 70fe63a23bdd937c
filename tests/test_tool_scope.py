"""Tools never see the API keys unless asked for by name, and a result sent back is capped."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from clirun import run_cli
from fakeapi import SSE, FakeAPI, chunk, sse_bytes, text_stream, tool_delta

ENV_TOOL = (f"env={sys.executable} -c"
            " 'import json,os,sys; sys.stdout.write(json.dumps(dict(os.environ)))'")
ENV_DEFINITION = [{"type": "function", "function": {"name": "env", "parameters": {
    "type": "object", "properties": {}}}}]


def call(name: str, arguments: str = "{}") -> bytes:
    return sse_bytes([chunk(role="assistant", content=None),
                      chunk(tool_calls=[tool_delta(0, "call_1", name, arguments)]),
                      chunk(finish_reason="tool_calls")])


def tool_result(fakeapi: FakeAPI) -> str:
    message = fakeapi.requests[-1].json()["messages"][-1]
    assert message["role"] == "tool"
    return str(message["content"])


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(ENV_DEFINITION))
    return path


KEYS = {"CHATCLI_API_KEY": "sk-chatcli-secret-1", "OPENAI_API_KEY": "sk-openai-secret-2",
        "WORK_KEY": "sk-work-secret-3", "OTHER_KEY": "sk-other-secret-4"}


def test_a_command_tool_sees_no_key_variable(fakeapi: FakeAPI, tools_file: Path) -> None:
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.toml").write_text(
        f'[profiles.work]\nbase_url = "{fakeapi.base_url}"\napi_key_env = "WORK_KEY"\n'
        '[profiles.other]\napi_key_env = "OTHER_KEY"\n')
    fakeapi.add(SSE(call("env")))
    fakeapi.add(SSE(text_stream(["done"])))
    result = run_cli(["-P", "work", "--tools", str(tools_file), "--tool-cmd", ENV_TOOL,
                      "--yes", "hi"], env={**KEYS, "HARMLESS": "seen"})
    assert result.exit_code == 0, result.stderr
    seen = json.loads(tool_result(fakeapi))
    assert seen["HARMLESS"] == "seen"
    assert not set(KEYS) & set(seen)
    for secret in KEYS.values():
        assert secret not in json.dumps(seen)
    # chatcli itself still sent its key (CHATCLI_API_KEY ranks above the profile's)
    assert fakeapi.requests[0].header("Authorization") == "Bearer sk-chatcli-secret-1"


def test_tool_env_lets_one_key_through(fakeapi: FakeAPI, tools_file: Path) -> None:
    fakeapi.add(SSE(call("env")))
    fakeapi.add(SSE(text_stream(["done"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--tools", str(tools_file),
                      "--tool-cmd", ENV_TOOL, "--tool-env", "OPENAI_API_KEY", "--yes", "hi"],
                     env=KEYS)
    assert result.exit_code == 0, result.stderr
    seen = json.loads(tool_result(fakeapi))
    assert seen.get("OPENAI_API_KEY") == "sk-openai-secret-2"
    assert "CHATCLI_API_KEY" not in seen


def test_a_python_function_tool_and_its_subprocesses_see_no_key(fakeapi: FakeAPI,
                                                                tmp_path: Path) -> None:
    functions = tmp_path / "spy.py"
    functions.write_text(
        "import os\nimport subprocess\nimport sys\n\n\n"
        "def spy() -> str:\n"
        '    """Report what a tool can see."""\n'
        "    child = subprocess.run([sys.executable, '-c', 'import os; print(sorted(os.environ))'],"
        " capture_output=True, text=True, check=True).stdout\n"
        "    return repr(sorted(os.environ)) + child\n")
    fakeapi.add(SSE(call("spy")))
    fakeapi.add(SSE(text_stream(["done"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--functions", str(functions), "--yes",
                      "hi"], env=KEYS)
    assert result.exit_code == 0, result.stderr
    seen = tool_result(fakeapi)
    assert "PATH" in seen
    for name in ("CHATCLI_API_KEY", "OPENAI_API_KEY"):
        assert name not in seen


def test_a_huge_tool_result_is_cut_with_a_marker_and_stored_cut(fakeapi: FakeAPI,
                                                                tools_file: Path) -> None:
    big = f"big={sys.executable} -c 'import sys; sys.stdout.write(\"x\" * 300000)'"
    definitions = [{"type": "function", "function": {"name": "big", "parameters": {
        "type": "object", "properties": {}}}}]
    tools_file.write_text(json.dumps(definitions))
    fakeapi.add(SSE(call("big")))
    fakeapi.add(SSE(text_stream(["done"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--tools", str(tools_file),
                      "--tool-cmd", big, "--max-tool-result-kb", "2", "--yes", "hi"])
    assert result.exit_code == 0, result.stderr
    sent = tool_result(fakeapi)
    assert sent == "x" * 2048 + ("\n[cut: the result had 300,000 bytes; the first 2,048 are"
                                 " above]")
    conversation = run_cli(["history", "list", "--json"]).stdout.split('"id": "')[1][:12]
    stored = json.loads(run_cli(["history", "show", "--json", conversation]).stdout)
    [tool] = [m for m in stored["messages"] if m["message"]["role"] == "tool"]
    assert tool["message"]["content"] == sent
