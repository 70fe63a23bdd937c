"""One output boundary: every command and every REPL command, fed every hostile sequence, writes
nothing to a terminal but the escape sequences chatcli makes itself.

The fake endpoint answers with hostile text everywhere a server can put it (content,
reasoning, refusal, tool calls, annotations, model ids, error messages, response headers);
the history then holds it, so the history commands replay it. A command added without a
place in this test fails ``test_every_command_is_covered``.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from typer.main import get_command

from chatcli.cli.app import app
from chatcli.repl.commands import COMMANDS
from chatcli.repl.prompt import chat
from chatcli.repl.session import open_session
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest
from clirun import run_cli, unpublished
from fakeapi import (
    JSON,
    MODELS_PATH,
    SSE,
    FakeAPI,
    Raw,
    chunk,
    models,
    tool_delta,
    usage_chunk,
)
from terminal_allowlist import ALL_PAYLOADS, violations

H = ALL_PAYLOADS
UTF8_H = H.replace("\ud83d", "")  # what UTF-8 bytes (stdin, a file) can hold
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "100", "LINES": "40"}
ESCAPED_JSON = json.dumps(H)[1:-1]  # H as JSON escapes: what a server may send in arguments


def ascii_sse(chunks: list[dict[str, Any]], done: bool = True) -> bytes:
    """SSE events with JSON's escapes for everything not ASCII (lone surrogates included)."""
    events = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    return "".join([*events, "data: [DONE]\n\n" if done else ""]).encode()


def hostile_answer() -> SSE:
    """An answer with hostile text in every field a chunk can carry."""
    content = (f"# {H}\n\n{H} **{H}** `{H}`\n\n[{H}](https://x.test/a) [https://github.com/login]"
               f"(https://evil.test/phish) &#x202E;&#x2066;&#x2028;&#27;[31m\n\n"
               f"```\n{H}\n```\n\n- {H}\n- item\n\n<div>{H}</div>\n\n| a | {H} |\n|---|---|\n"
               f"| {H} | b |\n")
    annotation = {"type": "url_citation", "url_citation": {
        "url": f"https://x.test/{H[:12]}", "title": H, "start_index": 0, "end_index": 1}}
    return SSE(ascii_sse([
        chunk(role="assistant", content="", reasoning_content=H, model=H),
        chunk(reasoning_content="\nmore thought\n"),
        chunk(content=content[: len(content) // 2]),
        chunk(content=content[len(content) // 2:], refusal=H),
        {**chunk(), "choices": [{"index": 0, "delta": {"annotations": [annotation]},
                                 "finish_reason": None}]},
        chunk(finish_reason="stop"),
        usage_chunk({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
    ]), headers={"X-Hostile": "\x9b31m-header"})


def tool_call_answer() -> SSE:
    arguments = json.dumps({"q": H})  # escapes, which pretty-printing would decode
    return SSE(ascii_sse([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_1", "lookup", arguments[:20])]),
        chunk(tool_calls=[tool_delta(0, arguments=arguments[20:])]),
        chunk(tool_calls=[tool_delta(1, "call_2", f"hostile{H[:8]}", '{"x": "\\u009b\\u202e"}')]),
        chunk(finish_reason="tool_calls"),
    ]))


def clean(result_stdout: str, result_stderr: str, *, osc52: bool = False) -> None:
    assert result_stdout or result_stderr, "the command printed nothing"
    found = violations(result_stdout, osc52=osc52) + violations(result_stderr)
    assert not found, "\n".join(found)


@pytest.fixture
def seeded(fakeapi: FakeAPI, tmp_path: Path) -> Iterator[tuple[FakeAPI, str]]:
    """The history holds a hostile exchange (its title from hostile stdin)."""
    fakeapi.add(hostile_answer())
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "plain", "question"],
                     stdin=f"{UTF8_H}\n".encode())
    assert result.exit_code == 0, result.stderr
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    yield fakeapi, listed[0]["id"]


ASK_MODES = [[], ["-O", "plain"], ["-O", "json"], ["-O", "events"], ["-O", "rich"],
             ["-u", "-v", "--reasoning", "show"], ["-O", "plain", "--reasoning", "show", "-v"],
             ["-x"], ["-x", "-O", "plain", "--reasoning", "show"], ["--extract-last", "-O", "rich"]]


@pytest.mark.parametrize("mode", ASK_MODES, ids=lambda m: " ".join(m) or "auto")
def test_ask_in_every_output_mode(fakeapi: FakeAPI, mode: list[str]) -> None:
    fakeapi.add(hostile_answer())
    if "-u" in mode:
        unpublished(fakeapi)
    result = run_cli(["--base-url", fakeapi.base_url, *mode, "hi"], env=TERMINAL)
    assert result.exit_code == 0, result.stderr
    clean(result.stdout, result.stderr)


def test_ask_errors_quote_the_server_escaped(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, json.dumps({"error": {"message": H, "code": H}}).encode(),
                    "application/json", headers={"X-Request-Id": "\x9b1;2H"}))
    result = run_cli(["--base-url", fakeapi.base_url, "-v", "hi"], env=TERMINAL)
    assert result.exit_code == 4
    clean(result.stdout, result.stderr)
    fakeapi.add(SSE(ascii_sse([chunk(role="assistant", content="Before"),
                               {"error": {"message": H}}], done=False)))
    result = run_cli(["--base-url", fakeapi.base_url, "--debug", "hi"], env=TERMINAL)
    assert result.exit_code == 5
    clean(result.stdout, result.stderr)


@pytest.mark.parametrize("mode", [[], ["-O", "plain"], ["-O", "json"]],
                         ids=lambda m: " ".join(m) or "auto")
def test_ask_with_tools_shows_calls_and_results_escaped(fakeapi: FakeAPI, tmp_path: Path,
                                                        mode: list[str]) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "function": {
        "name": "lookup", "description": H, "parameters": {"type": "object"}}}]))
    fakeapi.add(tool_call_answer())
    fakeapi.add(hostile_answer())
    printer = f"lookup={sys.executable} -c 'import sys; sys.stdout.write({H!r})'"
    result = run_cli(["--base-url", fakeapi.base_url, "--tools", str(tools), "--tool-cmd",
                      printer, "--yes", *mode, "hi"], env=TERMINAL)
    assert result.exit_code == 0, result.stderr
    clean(result.stdout, result.stderr)


@pytest.mark.parametrize("mode", [[], ["-O", "json", "--ordered"]], ids=["plain", "json"])
def test_batch_writes_hostile_answers_and_errors_escaped(fakeapi: FakeAPI,
                                                       mode: list[str]) -> None:
    fakeapi.add(hostile_answer())
    fakeapi.add(JSON({"error": {"message": H}}, status=400))
    result = run_cli(["batch", "--base-url", fakeapi.base_url, "-j", "1", "--retries", "0",
                      *mode], env=TERMINAL, stdin="\n".join([
                          json.dumps({"prompt": UTF8_H, "id": UTF8_H}), "second",
                          json.dumps({"prompt": 5, "id": UTF8_H})]) + "\n")
    assert result.exit_code == 4, result.stderr
    clean(result.stdout, result.stderr)


@pytest.mark.parametrize("mode", [[], ["-O", "json"]], ids=["columns", "json"])
def test_compare_shows_hostile_answers_escaped(fakeapi: FakeAPI, mode: list[str]) -> None:
    fakeapi.add(hostile_answer())
    fakeapi.add(JSON({"error": {"message": H}}, status=400))
    fakeapi.add(hostile_answer())  # the judge
    result = run_cli(["compare", "--base-url", fakeapi.base_url, "--retries", "0", "-m", "a",
                      "-m", "b", "--judge", "j", *mode, "hi"], env=TERMINAL)
    assert result.exit_code == 4, result.stderr
    clean(result.stdout, result.stderr)


def test_models_and_models_show(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(models([H, "plain-model"])), path=MODELS_PATH)
    fakeapi.add(JSON(models([H])), path=MODELS_PATH)
    described = {"id": H, "modalities": {"input": [H, "text"]}, "note": H}
    fakeapi.add(JSON(described), path="/v1/model-catalog/m")
    fakeapi.add(JSON(described), path="/v1/model-catalog/m")
    fakeapi.add(JSON({"data": [{"id": "m", "context_length": 4096, "pricing": {
        "prompt": H, "completion": "0.000001"}, "top_provider": {"max_completion_tokens": H}}]}),
                path=MODELS_PATH)  # the window and prices, looked up once (then cached)
    for args in (["models"], ["models", "--json"], ["models", "show", "m"],
                 ["models", "show", "m", "--json"]):
        result = run_cli([*args, "--base-url", fakeapi.base_url], env=TERMINAL)
        assert result.exit_code == 0, result.stderr
        clean(result.stdout, result.stderr)


def test_usage_names_stored_models_and_profiles_escaped() -> None:
    from chatcli.history import HistoryStore

    history = HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")
    try:
        cid = history.create_conversation(H, profile=H, base_url="http://x/v1", model=H)
        history.append(cid, {"role": "assistant", "content": "a"}, model=H,
                       usage={"prompt_tokens": 3, "completion_tokens": 4})
    finally:
        history.close()
    for args in (["usage", "--by", "model"], ["usage", "--by", "profile"],
                 ["usage", "--by", "model", "--json"]):
        result = run_cli(args, env=TERMINAL)
        assert result.exit_code == 0, (args, result.stderr)
        assert "3" in result.stdout
        clean(result.stdout, result.stderr)


def test_history_commands_replay_stored_text_escaped(seeded: tuple[FakeAPI, str],
                                                     tmp_path: Path) -> None:
    _, conversation = seeded
    words = "item"
    for args in (["history", "list"], ["history", "list", "--json"],
                 ["history", "show", conversation], ["history", "show", conversation, "--json"],
                 ["history", "search", words], ["history", "export", conversation],
                 ["history", "export", conversation, "--format", "json"], ["history", "path"],
                 ["history", "show", conversation, "--tree"],
                 ["history", "rename", conversation, "renamed"],
                 ["history", "show", "renamed"], ["history", "list"],
                 ["usage", "--by", "model"], ["usage", "--by", "profile", "--json"]):
        result = run_cli(args, env=TERMINAL)
        assert result.exit_code == 0, (args, result.stderr)
        clean(result.stdout, result.stderr)
    # A file stays byte-exact: data is data.
    exported = tmp_path / "out.md"
    assert run_cli(["history", "export", conversation, "-o", str(exported)],
                   env=TERMINAL).exit_code == 0
    assert "\x1b]52;c;" in exported.read_text(encoding="utf-8", errors="surrogateescape")
    result = run_cli(["history", "delete", conversation], env=TERMINAL)
    assert result.exit_code == 0
    clean(result.stdout, result.stderr)


def test_config_show_and_the_other_commands(tmp_path: Path) -> None:
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    toml_h = json.dumps(UTF8_H)  # a TOML basic string takes JSON's escapes
    (directory / "config.toml").write_text(
        f"model = {toml_h}\nheaders = {{ X-Team = {toml_h} }}\nparams = {{ note = {toml_h} }}\n")
    for args in (["config", "show"], ["config", "forget-drops"], ["completion", "bash"],
                 ["models", "alias", "fast", UTF8_H], ["models", "unalias", "fast"],
                 ["shell-integration", "bash"],
                 ["--help"], ["--version"]):
        result = run_cli(args, env=TERMINAL)
        assert result.exit_code == 0, (args, result.stderr)
        clean(result.stdout, result.stderr)


def hostile_template() -> str:
    """A template of the user's whose every text holds the hostile sequences."""
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"]) / "templates"
    directory.mkdir(parents=True, exist_ok=True)
    toml_h = json.dumps(UTF8_H)
    (directory / "hostile.toml").write_text(
        f"description = {toml_h}\nsystem = {toml_h}\nprompt = {toml_h}\n", encoding="utf-8")
    return "hostile"


def test_templates_commands() -> None:
    name = hostile_template()
    for args in (["templates", "list"], ["templates", "list", "--json"],
                 ["templates", "show", name], ["templates", "path"],
                 ["templates", "edit", name], ["templates", "delete", name]):
        result = run_cli(args, env={**TERMINAL, "EDITOR": "true", "VISUAL": ""})
        assert result.exit_code == 0, (args, result.stderr)
        clean(result.stdout, result.stderr)


def test_doctor_in_both_shapes(fakeapi: FakeAPI) -> None:
    for as_json in ([], ["--json"]):
        fakeapi.add(JSON(models([H])), path=MODELS_PATH)
        for _ in range(6):
            fakeapi.add(Raw(400, json.dumps({"error": {"message": H}}).encode(),
                            "application/json"))
        result = run_cli(["doctor", "--base-url", fakeapi.base_url, "-m", "m", *as_json],
                         env=TERMINAL)
        assert result.exit_code == 0, result.stderr
        clean(result.stdout, result.stderr)


def test_cmd_prints_a_hostile_command_escaped(fakeapi: FakeAPI) -> None:
    fakeapi.add(hostile_answer())
    result = run_cli(["cmd", "--no-interaction", "--base-url", fakeapi.base_url, "list"],
                     env=TERMINAL)
    assert result.exit_code == 0, result.stderr
    clean(result.stdout, result.stderr)


# Typed lines are the user's own; the hostile text reaches the REPL from the server, the
# history (/load) and the command line (the system message and model below).
REPL_LINES = [
    "/help", "hello", "/model", "/system", "/set temperature 0.5", "/unset temperature",
    "/usage", "/tools", "/reasoning hide", "/reasoning show", "/history", "/copy",
    "/copy code", "/extract", "/extract 1 {extract}", "/retry", "/undo", "/clear",
    "/nosuchcommand", "/paste",
    "/image /nonexistent.png", "/attach {attach}", "hello again", "/history", "/load {cid}",
    "/system", "/save {save}", "/model m", "/templates", "/template hostile", "/template",
    "/context", "/pin 1", "/unpin 1", "/context-policy error", "/context-policy truncate",
    "/compact", "/continue",
    "/edit", "/edit 1", " edited", "/branches", "/branch 1", "/rename hostile", "/branches",
    "/exit",
]  # " edited" goes after the text /edit 1 put in the line: sent, it starts branch 2


def test_every_repl_command(seeded: tuple[FakeAPI, str], tmp_path: Path) -> None:
    fakeapi, conversation = seeded
    hostile_template()
    for _ in range(4):
        fakeapi.add(hostile_answer())
    unpublished(fakeapi)  # /usage looks the prices up
    attach = tmp_path / "notes.txt"
    attach.write_text(UTF8_H, encoding="utf-8")
    keys = "\r".join(line.format(attach=attach, cid=conversation, save=tmp_path / "s.md",
                                  extract=tmp_path / "x.txt")
                     for line in REPL_LINES) + "\r"
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      stdin_is_terminal=True, stdout_is_terminal=True, stderr_is_terminal=True)
    request = AskRequest(prompt=[], system=H, flags={"base_url": fakeapi.base_url,
                                                     "model": UTF8_H})
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        session = chat(request, env, input=pipe, output=DummyOutput(), history=InMemoryHistory())
    stdout, stderr = env.stdout.stream.getvalue(), env.stderr.stream.getvalue()
    clean(stdout, stderr, osc52=True)
    assert "copied" in stdout and "loaded" in stdout and "\\x1b]52" in stdout
    assert " of code to " in stdout
    assert not violations(session.toolbar())


def test_repl_completion_and_toolbar_never_carry_control_characters(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(models([H, "m"])), path=MODELS_PATH)
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      stdin_is_terminal=True, stdout_is_terminal=True, stderr_is_terminal=True)
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url, "model": UTF8_H,
                                           "profile": None})
    with open_session(request, env) as session:
        assert session.model_names() == ["m"]  # an id a terminal would obey is never offered
        assert not violations(session.toolbar())


COVERED = {"ask", "chat", "models", "models show", "models alias", "models unalias",
           "history list", "history show", "history rename",
           "history search", "history export", "history delete", "history path",
           "config show", "config forget-drops", "doctor", "completion", "cmd",
           "shell-integration", "templates list", "templates show", "templates edit",
           "templates path", "templates delete", "usage", "batch", "compare"}


def command_paths() -> set[str]:
    found: set[str] = set()

    def walk(command: Any, prefix: str) -> None:
        subcommands = getattr(command, "commands", {})
        if prefix and (not subcommands or getattr(command, "invoke_without_command", False)):
            found.add(prefix)
        for name, sub in subcommands.items():
            walk(sub, f"{prefix} {name}".strip())

    walk(get_command(app), "")
    return found


def test_every_command_is_covered() -> None:
    assert command_paths() == COVERED
    named = {line.split()[0].lstrip("/") for line in REPL_LINES if line.startswith("/")}
    assert set(COMMANDS) <= named
