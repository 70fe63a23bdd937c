"""The terminal renderer, on a recording console: append-only output equals a one-go render.

Every console here is the ``SafeConsole`` chatcli writes with.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import ColorSystem

from chatcli.protocol.events import Event, Finish, ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.answer_markdown import markdown
from chatcli.render.console import SafeConsole
from chatcli.render.terminal import RichRenderer
from clirun import run_cli
from fakeapi import SSE, FakeAPI, chunk, load_stream, sse_bytes, text_stream

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from markdown_tokens import tokens

CURSOR = re.compile(r"\x1b\[\?25[lh]")


def console(width: int = 80, colour: ColorSystem | None = None,
            interactive: bool = False) -> SafeConsole:
    """A recording terminal: fixed size, no colour unless asked, no live frames unless asked."""
    return SafeConsole(file=io.StringIO(), width=width, height=40, force_terminal=True,
                       force_interactive=interactive, color_system=colour,
                       legacy_windows=False, highlight=False, markup=False, emoji=False)


def ticking(step: float) -> Iterator[float]:
    now = 0.0
    while True:
        now += step
        yield now


def render(events: list[Event], content: str, options: RenderOptions | None = None,
           width: int = 80, abort: bool = False, step: float = 0.5,
           colour: ColorSystem | None = None) -> str:
    """Render events one by one; the clock advances ``step`` seconds per look."""
    out = console(width, colour)
    clock = ticking(step)
    renderer = RichRenderer(out, options or RenderOptions(), clock=lambda: next(clock))
    renderer.start()
    for event in events:
        renderer.on_events([event], None)
        renderer.flush()
    result = TurnResult(completion={"choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}}]})
    (renderer.abort if abort else renderer.finish)(result)
    assert isinstance(out.file, io.StringIO)
    return CURSOR.sub("", out.file.getvalue())


def one_go(text: str, width: int = 80, colour: ColorSystem | None = None) -> str:
    out = console(width, colour)
    out.print(markdown(text), crop=False)
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


@pytest.mark.parametrize("seed", range(6))
def test_streamed_markdown_equals_a_one_go_render(seed: int) -> None:
    pieces = tokens(2500, seed=seed)
    text = "".join(pieces)
    # A tick about every fifth token: blocks are committed at many different points.
    assert render([TextDelta(p) for p in pieces], text, step=0.015) == one_go(text)


@pytest.mark.parametrize("seed", range(2))
def test_streamed_highlighting_equals_a_one_go_render(seed: int) -> None:
    # Code blocks are printed line by line as they complete; highlighted the same.
    pieces = tokens(2500, seed=seed + 10)
    text = "".join(pieces)
    assert render([TextDelta(p) for p in pieces], text, step=0.015,
                  colour="256") == one_go(text, colour="256")


@pytest.mark.parametrize("sample", [
    "# Title\n\nPara one.\n\n---\n\n- a\n- b\n\n1. x\n2. y\n\n> quote\n\n| a | b |\n|---|---|\n"
    "| 1 | 2 |\n\nEnd.",
    "Intro:\n```python\nprint(1)\n\n\nprint(2)\n```\nAfter the code.\n\n    indented code\n\nDone",
    "Setext\n======\n\nLoose list:\n\n- one\n\n- two\n\n- three\n",
    "***\n\n## After rule\n\n* * *\n\ntext right after",
])
def test_awkward_markdown_streams_the_same(sample: str) -> None:
    for size in (1, 3, 7):
        pieces = [sample[i:i + size] for i in range(0, len(sample), size)]
        assert render([TextDelta(p) for p in pieces], sample) == one_go(sample), size


def test_code_lines_are_never_hard_wrapped() -> None:
    line = "x = '" + "a" * 150 + "'"
    text = f"```python\n{line}\n```\n"
    out = render([TextDelta(text)], text)
    assert line in out
    assert all(not row.endswith(" ") for row in out.splitlines() if "aaaa" in row)


def test_model_text_is_never_markup() -> None:
    text = "[bold red]not markup[/bold red] and :smile:"
    out = render([TextDelta(text)], text)
    assert "[bold red]not markup[/bold red] and :smile:" in out


def test_reasoning_is_shown_dim_before_the_answer_with_its_duration() -> None:
    events: list[Event] = [ReasoningDelta("Let me think.\nStill"), ReasoningDelta(" thinking."),
                           TextDelta("The answer.")]
    out = render(events, "The answer.")
    assert out.startswith("Let me think.\nStill thinking.\nthought for ")
    assert out.endswith("\n\nThe answer.\n")  # no padding to the width
    took = float(re.search(r"thought for ([0-9.]+)s", out).group(1))  # type: ignore[union-attr]
    assert took > 0


def test_hidden_reasoning_is_not_printed() -> None:
    events: list[Event] = [ReasoningDelta("secret thoughts"), TextDelta("Answer.")]
    out = render(events, "Answer.", RenderOptions(reasoning="hide"))
    assert "secret" not in out
    assert "Answer." in out


def test_tool_calls_are_shown_with_pretty_arguments() -> None:
    events: list[Event] = [
        ToolCallDelta(0, "call_1", "get_weather", '{"city": '),
        ToolCallDelta(0, None, None, '"Paris", "days": 2}'),
        ToolCallDelta(1, "call_2", "get_time", ""),
        Finish("tool_calls"),
    ]
    out = render(events, "")
    assert "get_weather" in out
    assert '"city": "Paris",' in out
    assert '"days": 2' in out
    assert "get_time" in out
    assert out.index("get_weather") < out.index("get_time")


def test_several_choices_each_under_a_heading() -> None:
    out = console()
    renderer = RichRenderer(out, RenderOptions(choices=2))
    renderer.start()
    renderer.on_events([TextDelta("Red", 0), TextDelta("Blue", 1)], None)
    renderer.finish(TurnResult(completion={"choices": [
        {"index": 0, "message": {"content": "Red apple."}},
        {"index": 1, "message": {"content": "Blue sky."}}]}))
    assert isinstance(out.file, io.StringIO)
    lines = [line.rstrip() for line in CURSOR.sub("", out.file.getvalue()).splitlines()]
    assert [line for line in lines if line] == [
        "choice 0 " + "─" * 71, "Red apple.", "choice 1 " + "─" * 71, "Blue sky."]


def test_abort_keeps_what_arrived() -> None:
    text = "First paragraph.\n\nSecond, cut off mid"
    out = render([TextDelta(text)], text, abort=True)
    assert out == one_go(text)


def rich_env() -> dict[str, str]:
    return {"FORCE_COLOR": "1", "TTY_INTERACTIVE": "0", "COLUMNS": "80", "LINES": "40"}


def test_cli_renders_markdown_on_a_terminal(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["# Heading\n\n", "Some **bold", "** text.\n"])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"], env=rich_env())
    assert result.exit_code == 0
    assert "\x1b[1m" in result.stdout  # bold
    plain = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", result.stdout)
    assert "Heading" in plain
    assert "Some bold text." in plain
    assert "**" not in plain
    assert result.stderr == ""


def test_cli_rich_mode_shows_reasoning_then_answer(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("reasoning_content")))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"], env=rich_env())
    plain = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", result.stdout)
    assert result.exit_code == 0
    assert plain.index("Okay, the user asks") < plain.index("thought for")
    assert plain.index("thought for") < plain.rindex("17 × 3 = 51")


def test_cli_rich_mode_keeps_partial_output_after_a_drop(fakeapi: FakeAPI) -> None:
    from fakeapi import HangUp

    fakeapi.add(HangUp(before=sse_bytes([chunk(content="Partial words")], done=False)))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"], env=rich_env())
    assert result.exit_code == 7
    assert "Partial words" in result.stdout
    assert result.stderr.startswith("chatcli: error: connection dropped")
