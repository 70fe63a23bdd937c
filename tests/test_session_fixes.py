"""What the one session layer fixed: the REPL and one-shot agree, and what is sent is kept."""

from __future__ import annotations

import json

from clirun import run_cli
from fakeapi import SSE, FakeAPI, text_stream
from test_repl import ask, err, out, repl, screen


def stored_conversation() -> dict[str, object]:
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    shown: dict[str, object] = json.loads(run_cli(["history", "show", "--json",
                                                    listed[0]["id"]]).stdout)
    return shown


def test_the_repl_greets_once_on_a_terminal(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/exit\r", env=screen(terminal=True))
    assert "/help lists the commands and keys · Ctrl-D or /exit leaves" in out(env)
    _, env = repl(ask(fakeapi), "/exit\r")  # not a terminal: nothing said
    assert out(env) == ""


def test_load_shows_where_the_conversation_stands(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["The capital is Paris."])))
    assert run_cli(["--base-url", fakeapi.base_url, "capital of France?"]).exit_code == 0
    conversation = json.loads(run_cli(["history", "list", "--json"]).stdout)[0]["id"]
    _, env = repl(ask(fakeapi), f"/load {conversation}\r")
    assert out(env) == (f"loaded {conversation}: capital of France? (2 messages)\n"
                        "  [user] capital of France?\n"
                        "  [assistant] The capital is Paris.\n")
    assert err(env) == ""
