"""Model and server text is data: escaped on a terminal, passed through to a pipe."""

from __future__ import annotations

import io
import re

import pytest

from chatcli.protocol.events import ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.render import RenderOptions
from chatcli.render.plain import PlainRenderer
from chatcli.sanitize import visible
from clirun import run_cli
from fakeapi import SSE, FakeAPI, Raw, text_stream
from test_render_rich import render

HOSTILE = {
    "csi colour and clear screen": "\x1b[31mred\x1b[2J",
    "osc 8 link": "\x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\",
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "title change": "\x1b]0;owned\x07",
    "bracketed paste end": "\x1b[201~",
    "carriage return overwrite": "safe\rEVIL",
    "backspace": "abc\x08\x08\x08xyz",
    "c1 csi": "\x9b31m",
    "bidi override": "\u202eexe.txt",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_visible_leaves_no_control_character(name: str) -> None:
    shown = visible(HOSTILE[name])
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", shown)


def test_visible_keeps_newlines_tabs_and_plain_text() -> None:
    text = "line one\n\tindented — ünïcödé 中文 🙂\n"
    assert visible(text) is text
    assert visible("a\r\nb") == "a\nb"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_rich_renderer_escapes_every_hostile_sequence(name: str) -> None:
    text = f"before {HOSTILE[name]} after"
    out = render([ReasoningDelta(text), TextDelta(text),
                  ToolCallDelta(0, "c1", "tool", text)], text)
    assert "\x1b" not in out.replace("\x1b[?25l", "").replace("\x1b[?25h", "")
    assert "\x07" not in out and "\r" not in out and "\x08" not in out and "\x9b" not in out
    assert "before" in out and "after" in out


def test_rich_markup_in_model_text_is_never_interpreted() -> None:
    text = "[link=http://evil.test]x[/link] [red]y[/red]"
    out = render([TextDelta(text)], text)
    assert "[link=http://evil.test]x[/link] [red]y[/red]" in out


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_plain_output_to_a_pipe_passes_bytes_unchanged(name: str, fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream([HOSTILE[name]])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert result.stdout == HOSTILE[name] + "\n"


def test_plain_output_to_a_terminal_is_escaped() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = PlainRenderer(out, err, RenderOptions(reasoning="show"), out_is_terminal=True,
                             err_is_terminal=True)
    renderer.on_events([ReasoningDelta("\x1b]0;t\x07"), TextDelta("\x1b[2Jhi")], None)
    renderer.flush()
    assert out.getvalue() == "\\x1b[2Jhi"
    assert err.getvalue() == "\\x1b]0;t\\x07\n"


def test_server_error_text_is_escaped_on_a_terminal(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, b'{"error": {"message": "bad \\u001b]52;c;eA==\\u0007 thing"}}',
                    "application/json"))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"],
                     env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 4
    assert result.stderr == (
        "chatcli: error: HTTP 400: bad \\x1b]52;c;eA==\\x07 thing (trace id t)\n")


@pytest.mark.parametrize("mode", ["json", "events"])
def test_json_modes_on_a_terminal_escape_what_json_may_carry_raw(fakeapi: FakeAPI,
                                                                mode: str) -> None:
    import json

    text = "a\u202eb\u2028c\u009bd"
    fakeapi.add(SSE(text_stream([text])))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", mode, "hi"],
                     env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0
    for raw in ("\u202e", "\u2028", "\u009b"):
        assert raw not in result.stdout
    documents = ([json.loads(result.stdout)] if mode == "json"
                 else [json.loads(line) for line in result.stdout.splitlines()])
    assert text in json.dumps(documents, ensure_ascii=False)
    fakeapi.add(SSE(text_stream([text])))
    piped = run_cli(["--base-url", fakeapi.base_url, "-O", mode, "hi"])
    assert "\u202e" in piped.stdout  # to a pipe the text is data, unchanged
