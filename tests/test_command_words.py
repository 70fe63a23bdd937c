"""A command word is never sent as a prompt, and an ordinary prompt always is."""

from __future__ import annotations

import pytest

from chatcli.cli.command_words import one_edit_apart
from clirun import run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, models, text_stream
from test_repl import sent

ORDINARY = [
    "what is a monad", "cat this file", "hat trick origin", "modal logic basics",
    "model of the atom", "help me write a poem", "version control basics",
    "how do I undo a commit", "why is the sky blue", "explain SSE", "write a haiku",
    "fix this bug", "hi", "hello", "hey there", "thanks", "translate this to French",
    "summarize", "review my code", "list three colours", "show me an example",
    "docs for httpx", "tell me a joke", "can you help", "is it raining", "give me ideas",
    "comparing tcp and udp", "define entropy", "describe a cat", "make a plan", "find the bug",
    "who wrote Hamlet", "where is Lima", "when was 1066", "which is faster", "hat", "cat",
    "mode", "chatter", "doctoral thesis", "asking nicely", "chats are fun", "histories",
    "configure nginx", "modeling tips", "doctors without borders",
    "completions in zsh", "the history list",
]


@pytest.mark.parametrize("prompt", ORDINARY)
def test_ordinary_prompts_are_sent_as_always(fakeapi: FakeAPI, prompt: str) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(prompt.split(), env={"CHATCLI_BASE_URL": fakeapi.base_url})
    assert (result.exit_code, result.stderr) == (0, "")
    assert sent(fakeapi)["messages"] == [{"role": "user", "content": prompt}]


@pytest.mark.parametrize(("words", "meant"), [
    (["histroy"], "chatcli history"),
    (["modles"], "chatcli models"),
    (["histroy", "list"], "chatcli history list"),
    (["confg", "show"], "chatcli config show"),
    (["History"], "chatcli history"),
    (["doctr"], "chatcli doctor"),
    (["help"], "chatcli --help"),
    (["version"], "chatcli --version"),
])
def test_a_mistyped_command_is_a_usage_error(fakeapi: FakeAPI, words: list[str],
                                             meant: str) -> None:
    result = run_cli(words, env={"CHATCLI_BASE_URL": fakeapi.base_url})
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert first == f"chatcli: error: {words[0]!r} is not a command"
    assert hint.startswith(f"did you mean: {meant}? To send it as a prompt: chatcli ask -- ")
    assert fakeapi.requests == []  # nothing was sent


@pytest.mark.parametrize("words", [["ask", "histroy"], ["--", "histroy", "list"],
                                   ["ask", "help"], ["--", "version"]])
def test_after_ask_or_a_double_dash_anything_is_a_prompt(fakeapi: FakeAPI,
                                                         words: list[str]) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(words, env={"CHATCLI_BASE_URL": fakeapi.base_url})
    assert result.exit_code == 0
    prompt = " ".join(w for w in words if w not in ("ask", "--"))
    assert sent(fakeapi)["messages"] == [{"role": "user", "content": prompt}]


@pytest.mark.parametrize("words", [["history", "of", "rome"], ["config", "files"],
                                   ["models", "of", "cars"], ["compare", "tcp", "and", "udp"]])
def test_a_command_word_is_never_sent_as_a_prompt(fakeapi: FakeAPI, words: list[str]) -> None:
    result = run_cli(words, env={"CHATCLI_BASE_URL": fakeapi.base_url})
    assert result.exit_code == 2
    assert result.stderr.startswith("chatcli: error: ")
    assert not [r for r in fakeapi.requests if r.path.endswith("/chat/completions")]


def test_options_before_a_command_apply_to_it(fakeapi: FakeAPI) -> None:
    write_config('[profiles.lite]\nmodel = "lite-model"\n')
    shown = run_cli(["-P", "lite", "config", "show"])
    assert shown.exit_code == 0
    assert "lite-model  (profile lite)" in shown.stdout
    fakeapi.add(JSON(models(["m-one", "m-two"])), path="/v1/models")
    listed = run_cli(["--base-url", fakeapi.base_url, "models"])
    assert (listed.exit_code, listed.stdout.split()) == (0, ["m-one", "m-two"])


def test_an_option_before_a_command_it_does_not_take_is_a_usage_error() -> None:
    result = run_cli(["-m", "x", "history", "list"])
    assert result.exit_code == 2
    assert result.stderr == ("chatcli: error: -m does not apply to `chatcli history list`\n"
                             "Try 'chatcli history list --help'.\n")


@pytest.mark.parametrize("args", [["--bogus", "x"], ["ask", "--temperature", "9", "hi"],
                                  ["config", "bogus"], ["-f", "/nonexistent/file", "hi"]])
def test_usage_errors_have_one_style(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith("chatcli: error: ")
    assert hint.startswith("Try 'chatcli ") and hint.endswith(" --help'.")


def test_one_edit_means_one_edit() -> None:
    assert one_edit_apart("histroy", "history") and one_edit_apart("confg", "config")
    assert one_edit_apart("modles", "models") and one_edit_apart("chta", "chat")
    assert not one_edit_apart("modal", "models") and not one_edit_apart("chatter", "chat")
