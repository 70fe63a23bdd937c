"""Templates in the REPL: ``chat -T``, ``/template NAME [name=value …]`` for the rest of the
session, ``/templates``, and TAB completing template names (pipe input and a real
pseudo-terminal)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pexpect
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chatcli.repl.prompt import ChatCompleter, chat
from chatcli.repl.session import ChatSession, open_session
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest
from clirun import repl_ready, spawn_repl
from fakeapi import SSE, FakeAPI, text_stream

TRANSLATE = ('description = "into a language"\nsystem = "Translate into {{lang}}."\n'
             'prompt = "Text: {{input}}"\nmodel = "tr-model"\n'
             'params = { temperature = 0.1 }\n[defaults]\nlang = "Latin"\n')


def write_template(name: str, text: str) -> None:
    folder = Path(os.environ["CHATCLI_CONFIG_DIR"]) / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")


def screen() -> Environment:
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                       stdin_is_terminal=True, stdout_is_terminal=False,
                       stderr_is_terminal=False)


def repl(request: AskRequest, keys: str) -> tuple[ChatSession, Environment]:
    env = screen()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        session = chat(request, env, input=pipe, output=DummyOutput(),
                       history=InMemoryHistory())
    return session, env


def bodies(fakeapi: FakeAPI) -> list[dict[str, Any]]:
    return [r.json() for r in fakeapi.requests]


def test_slash_template_applies_to_the_rest_of_the_session(fakeapi: FakeAPI) -> None:
    write_template("tr", TRANSLATE)
    fakeapi.add(SSE(text_stream(["plain"])))
    fakeapi.add(SSE(text_stream(["salve"])))
    fakeapi.add(SSE(text_stream(["vale"])))
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}, history=False)
    _, env = repl(request, "before\r/template tr lang=Welsh\rhello\rgoodbye\r/template\r")
    first, second, third = bodies(fakeapi)
    assert first["messages"] == [{"role": "user", "content": "before"}]
    assert "temperature" not in first
    assert second["model"] == "tr-model" and second["temperature"] == 0.1
    assert second["messages"][0] == {"role": "system", "content": "Translate into Welsh."}
    assert second["messages"][-1] == {"role": "user", "content": "Text: hello"}
    assert third["messages"][-1] == {"role": "user", "content": "Text: goodbye"}
    said = env.stdout.stream.getvalue()  # type: ignore[attr-defined]
    assert ("template tr: system message, model tr-model, request fields, each message goes"
            " into its prompt") in said
    assert "template: tr" in said


def test_slash_template_refuses_a_missing_variable_and_goes_on(fakeapi: FakeAPI) -> None:
    write_template("need", 'prompt = "{{who}}: {{input}}"\n')
    fakeapi.add(SSE(text_stream(["ok"])))
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}, history=False)
    _, env = repl(request, "/template need\r/template need who\rhi\r")
    errors = env.stderr.stream.getvalue()  # type: ignore[attr-defined]
    assert "template need needs a value for who: give -p who VALUE" in errors
    assert "'who' must look like name=value" in errors
    assert bodies(fakeapi)[0]["messages"] == [{"role": "user", "content": "hi"}]


def test_chat_with_a_template_wraps_every_message(fakeapi: FakeAPI) -> None:
    write_template("tr", TRANSLATE)
    fakeapi.add(SSE(text_stream(["one"])))
    fakeapi.add(SSE(text_stream(["two"])))
    request = AskRequest(prompt=["first", "words"], flags={"base_url": fakeapi.base_url},
                         template="tr", params=[("lang", "Greek")], history=False)
    repl(request, "second\r")
    first, second = bodies(fakeapi)
    assert first["messages"] == [{"role": "system", "content": "Translate into Greek."},
                                 {"role": "user", "content": "Text: first words"}]
    assert second["messages"][-1] == {"role": "user", "content": "Text: second"}
    assert second["model"] == "tr-model"


def test_slash_templates_lists_and_tab_completes_names(fakeapi: FakeAPI) -> None:
    write_template("tr", TRANSLATE)
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}, history=False)
    with open_session(request, screen()) as session:
        completer = ChatCompleter(session)
        event = CompleteEvent(completion_requested=True)
        found = [c.text for c in completer.get_completions(Document("/template t"), event)]
        assert found == ["tr", "translate"]
    _, env = repl(request, "/templates\r")
    listed = env.stdout.stream.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"^  tr\s+into a language$", listed, re.MULTILINE)
    assert re.search(r"^  commit-message\s+A commit message", listed, re.MULTILINE)


def test_tab_completes_a_template_name_in_a_terminal(fakeapi: FakeAPI) -> None:
    write_template("zebra-notes", 'prompt = "Zebra: {{input}}"\n')
    fakeapi.add(SSE(text_stream(["striped"])))
    child = spawn_repl(["--base-url", fakeapi.base_url, "--no-history"])
    repl_ready(child)
    child.send("/template zeb\t")
    child.expect("ra-notes")  # TAB typed the rest of the only name that fits
    child.send("\r")
    child.expect(re.escape("template zebra-notes: each message goes into its prompt"))
    repl_ready(child)
    child.send("hi\r")
    child.expect("striped")
    repl_ready(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    assert fakeapi.requests[0].json()["messages"][-1]["content"] == "Zebra: hi"
