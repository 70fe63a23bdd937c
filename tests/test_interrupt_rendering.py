"""Ctrl-C during a streamed answer on a terminal: the partial answer is on the screen once.

The terminal echoes ``^C`` where the cursor is. Were the live tail's last line as wide
as the terminal (Rich pads lines to the width), the echo would wrap, the tail's erase
would miss a line and the partial would stay above its final copy. So rendered lines
carry no padding, and the live frame leaves the cursor at the start of a line of its
own. Real pseudo-terminals against the fake API; the bytes go through a terminal
emulator (pyte) to get the screen a user would see.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pyte
import pytest

from chatcli.protocol.events import TextDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.answer_markdown import markdown
from chatcli.render.console import SafeConsole
from chatcli.render.terminal import RichRenderer
from clirun import process_env, wait_until_polling
from clirun import repl_ready as prompt_ready
from fakeapi import FakeAPI, Gate, chunk, sse_bytes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from markdown_tokens import tokens

ROWS, COLUMNS = 40, 80
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
FULL_WIDTH = ("partial " * 10)[:COLUMNS - 1] + "z"  # one line exactly as wide as the screen
SAMPLE = ("# Title\n\nFirst paragraph.\n\n> a quote\n\n- one\n- two\n\n"
          "| a | b |\n|---|---|\n| 1 | 2 |\n\n## Second\n\nSome **bold** and `code`.\n\n"
          "```python\nx = 1\n```\n\n")


def padded_lines(text: str) -> list[str]:
    """The lines of ``text`` (escape sequences removed) that spaces widen to the screen."""
    lines = re.split(r"\r\n|\r|\n", CSI.sub("", text))
    return [line for line in lines if len(line) >= COLUMNS and line.endswith(" ")]


def recording(colour: bool = False) -> SafeConsole:
    return SafeConsole(file=io.StringIO(), width=COLUMNS, height=ROWS, force_terminal=True,
                       color_system="truecolor" if colour else None, legacy_windows=False,
                       highlight=False, markup=False, emoji=False)


def written(out: SafeConsole) -> str:
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


# -- on a recording console -----------------------------------------------------------


@pytest.mark.parametrize("colour", [False, True])
def test_rendered_markdown_lines_carry_no_padding(colour: bool) -> None:
    text = SAMPLE + "".join(tokens(3000, seed=1))
    out = recording(colour)
    out.print(markdown(text), crop=False)
    shown = written(out)
    assert "First paragraph." in shown
    assert padded_lines(shown) == []


@pytest.mark.parametrize("abort", [False, True])
def test_streamed_blocks_and_the_live_tail_carry_no_padding(abort: bool) -> None:
    pieces = [*SAMPLE, *tokens(3000, seed=2), "Unfinished paragraph, cut"]
    out = recording(colour=True)
    clock = iter(range(1, 10**6))
    renderer = RichRenderer(out, RenderOptions(), clock=lambda: next(clock) / 10)
    renderer.start()
    tails = []
    for piece in pieces:
        renderer.on_events([TextDelta(piece)], None)
        tails.append(renderer.tail_lines)
    assert any(tails)
    for lines in tails:
        for line in lines:
            assert padded_lines("".join(segment.text for segment in line)) == []
    result = TurnResult(completion={"choices": [
        {"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}}]})
    (renderer.abort if abort else renderer.finish)(result)
    shown = written(out)
    assert "Unfinished paragraph, cut" in shown
    assert padded_lines(shown) == []


# -- on a real pseudo-terminal --------------------------------------------------------


def screen_of(raw: bytes) -> list[str]:
    """What a terminal shows after ``raw``: the lines scrolled off the top, then the screen,
    trailing blanks dropped."""
    screen = pyte.HistoryScreen(COLUMNS, ROWS, history=1000)
    pyte.ByteStream(screen).feed(raw)
    gone = ["".join(line[x].data for x in range(COLUMNS)) for line in screen.history.top]
    return [line.rstrip() for line in [*gone, *screen.display]]


def stalled(fakeapi: FakeAPI, *pieces: str) -> Gate:
    """A stream that sends ``pieces`` and then waits, never finishing while the test runs."""
    return fakeapi.add(Gate(
        first=sse_bytes([chunk(role="assistant", content=pieces[0]),
                         *(chunk(content=piece) for piece in pieces[1:])], done=False),
        rest=sse_bytes([chunk(content=" never shown"), chunk(finish_reason="stop")])))


def spawn(args: list[str]) -> Any:
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "chatcli", *args],
                          env=process_env({"TERM": "xterm-256color"}),
                          dimensions=(ROWS, COLUMNS), timeout=30)
    child.delaybeforesend = None
    child.logfile_read = io.BytesIO()
    return child


def interrupt(child: Any, gate: Gate, last_seen: str) -> None:
    """Ctrl-C once the tail shows ``last_seen`` and the client waits for more."""
    child.expect(re.escape(last_seen))
    gate.wait_reached()
    wait_until_polling(child.pid)
    child.sendintr()
    child.expect("chatcli: interrupted")


CASES = {
    "short tail": (["# Title\n\nFirst paragraph.\n\n", "Second, unfin"], "unfin",
                   ["First paragraph.", "Second, unfin"]),
    "tail as wide as the screen": (["First paragraph.\n\n", FULL_WIDTH], "partialz",
                                   ["First paragraph.", FULL_WIDTH]),
    "open code block": (["Code:\n\n```python\n", "x = 1\n", "y = 'half"], "half",
                        ["Code:", "x = 1", "y = 'half"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_shot_ctrl_c_shows_the_partial_once(fakeapi: FakeAPI, case: str) -> None:
    import pexpect

    pieces, last_seen, lines = CASES[case]
    gate = stalled(fakeapi, *pieces)
    child = spawn(["--base-url", fakeapi.base_url, "hi"])
    interrupt(child, gate, last_seen)
    child.expect(pexpect.EOF)
    child.close()
    gate.release()
    assert child.exitstatus == 130
    raw = child.logfile_read.getvalue()
    shown = [line for line in screen_of(raw) if line]
    assert shown[-len(lines) - 1:] == [*lines, "chatcli: interrupted"]
    for line in lines:
        assert sum(row.count(line) for row in shown) == 1, (line, shown)
    assert padded_lines(raw.decode()) == []


@pytest.mark.parametrize("case", list(CASES))
def test_repl_ctrl_c_shows_the_partial_once(fakeapi: FakeAPI, case: str) -> None:
    import pexpect

    pieces, last_seen, lines = CASES[case]
    gate = stalled(fakeapi, *pieces)
    child = spawn(["chat", "--base-url", fakeapi.base_url])
    prompt_ready(child)
    child.send("hi\r")
    interrupt(child, gate, last_seen)
    raw = child.logfile_read.getvalue()
    end = raw.index(b"chatcli: interrupted\r\n")
    answer = raw[raw.rindex(b"> hi", 0, end):end]  # from the prompt's last redraw on
    prompt_ready(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    gate.release()
    assert child.exitstatus == 0
    shown = [line for line in screen_of(child.logfile_read.getvalue()) if line]
    assert lines[0] in shown, shown
    at = shown.index(lines[0])
    assert shown[at:at + len(lines) + 1] == [*lines, "chatcli: interrupted"]
    for line in lines:
        assert sum(row.count(line) for row in shown) == 1, (line, shown)
    assert padded_lines(answer.decode()) == []
