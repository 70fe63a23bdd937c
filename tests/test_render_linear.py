"""One long open block costs what the screen costs: code is printed line by line as it
completes, the live tail renders only the last screenful of its source, and a long
open paragraph is not parsed again at every look. Output still equals a one-go render."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import pytest
from rich.console import ConsoleOptions, Group, RenderableType
from rich.segment import Segment
from rich.text import Text

import chatcli.render.markdown_blocks as markdown_blocks
from chatcli.protocol.events import Event, Finish, TextDelta, ToolCallDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.answer_markdown import AnswerMarkdown
from chatcli.render.line_buffer import LineBuffer
from chatcli.render.markdown_blocks import CodeLines, Finished, MarkdownBlocks
from chatcli.render.terminal import RichRenderer
from test_render_rich import console, one_go, render, ticking

PYTHON = ("import json", "def main(argv: list[str]) -> int:", "    value = json.loads(argv[1])",
          "    if not value:  # nothing to do", '        return print("empty", end="")',
          "    for item in value.items():", "        total += len(item) * 2", "",
          "    @property", "    class Thing(Base):", '    raise ValueError(f"bad {x!r}")',
          "    return 0", "\tindented = 'with a tab'", "    trailing = 1   ")


def code_lines(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(PYTHON)}  # {i}" if i % 7 else rng.choice(PYTHON)
            for i in range(count)]


def pieces(text: str, seed: int = 0) -> list[str]:
    rng, out, i = random.Random(seed), [], 0
    while i < len(text):
        size = rng.choice((1, 2, 3, 5, 8, 40, 200))
        out.append(text[i:i + size])
        i += size
    return out


# -- the line buffer -----------------------------------------------------------

def test_line_buffer_keeps_complete_lines_and_reads_only_its_end() -> None:
    buffer = LineBuffer()
    for piece in ["ab", "c\nde", "f\n\ng", "h", "ij"]:
        buffer.append(piece)
    assert buffer.lines() == ["abc\n", "def\n", "\n"] and buffer.open_line() == "ghij"
    assert buffer.chars == 9 and buffer.count() == 3
    assert buffer.window(2, 100) == ("def\n\nghij", True)
    assert buffer.window(5, 6) == ("\n\nghij", True)  # the last 6 characters
    assert buffer.window(10, 100) == ("abc\ndef\n\nghij", False)
    buffer.drop(2)
    assert buffer.text() == "\nghij" and buffer.chars == 1
    assert buffer.clear() == "\nghij" and not buffer


def test_a_window_of_a_long_open_line_is_its_last_characters() -> None:
    buffer = LineBuffer()
    for _ in range(10_000):
        buffer.append("word ")
    text, cut = buffer.window(40, 30)
    assert text == "word " * 6 and cut


# -- code blocks, line by line --------------------------------------------------

def streamed(text: str, step: float = 0.02, seed: int = 0, abort: bool = False,
             colour: bool = True) -> str:
    return render([TextDelta(p) for p in pieces(text, seed)], text, step=step, abort=abort,
                  colour="256" if colour else None)


@pytest.mark.parametrize(("count", "seed"), [(3, 0), (60, 1), (450, 2), (1200, 3)])
def test_a_code_block_printed_line_by_line_equals_a_one_go_render(count: int,
                                                                   seed: int) -> None:
    text = ("Here it is:\n\n```python\n" + "\n".join(code_lines(count, seed)) + "\n```\n"
            "After the code.\n\n```bash\necho hi\n```\n")
    assert streamed(text, seed=seed) == one_go(text, colour="256")


@pytest.mark.parametrize("sample", [
    "```python\nx = 1\n\n\n   \n```\nafter",  # trailing blank lines and spaces are trimmed
    "  ```python\n  x = 1\n    y = 2\n z = 3\n  ```\n",  # an indented fence
    "~~~~\n```\nnot the end\n~~~\n~~~~~\ntext\n",  # only a long enough fence closes
    "```\n```\n\n```\n\n\n```\nend",  # empty blocks
    "para\n```js\nlet a = 1;\n```\n- item\n\n```python\nprint(1)",  # unclosed at the end
    "> quote\n\n```python\n" + "x = 1\n" * 300 + "```   \n# Heading\n",
])
def test_awkward_code_blocks_stream_the_same(sample: str) -> None:
    for seed in range(3):
        assert streamed(sample, seed=seed) == one_go(sample, colour="256"), seed


def test_an_aborted_code_block_keeps_what_arrived() -> None:
    text = "```python\n" + "\n".join(code_lines(500)) + "\npartial li"
    assert streamed(text, abort=True) == one_go(text, colour="256")


def test_code_lines_are_printed_before_the_block_closes() -> None:
    out = console()
    clock = ticking(1.0)
    renderer = RichRenderer(out, RenderOptions(), clock=lambda: next(clock))
    renderer.start()
    renderer.on_events([TextDelta("```python\n")], None)
    for i in range(200):
        renderer.on_events([TextDelta(f"value_{i} = {i}\n")], None)
    assert isinstance(out.file, io.StringIO)
    printed = out.file.getvalue()
    assert "value_0 = 0" in printed and "value_198 = 198" in printed
    assert "value_199" not in printed  # the last line waits: the end trims trailing spaces
    renderer.finish(TurnResult(completion={"choices": [{"index": 0, "message": {}}]}))
    assert out.file.getvalue().count("value_199 = 199") == 1


def test_the_splitter_gives_up_code_lines_and_then_the_rest() -> None:
    blocks = MarkdownBlocks()
    blocks.append("Intro.\n\n```py\na = 1\nb = 2\n")
    first = blocks.pop_finished()
    assert first == [Finished("Intro.\n\n", first[0].tokens, "paragraph_open"),  # type: ignore[union-attr]
                     CodeLines("py", ["a = 1\n"], first=True, last=False)]
    assert blocks.live(10, 100) == ("py", "b = 2\n")
    blocks.append("c = 3\n```\n\nAfter.\n")
    assert blocks.pop_finished() == [CodeLines("py", ["b = 2\n", "c = 3\n"], first=False,
                                               last=True)]
    assert blocks.pop_all() == [Finished("\nAfter.\n", None, "end")]


# -- the live tail renders a screenful ------------------------------------------

def rendered_sizes(monkeypatch: pytest.MonkeyPatch, out: object) -> list[int]:
    """Characters of source in each live-tail render (``Console.render_lines`` calls)."""
    sizes: list[int] = []
    original = type(out).render_lines

    def size(part: RenderableType) -> int:
        if isinstance(part, AnswerMarkdown):
            return len(part.markup)
        if isinstance(part, Text):
            return len(part.plain)
        if isinstance(part, Group):
            return sum(size(inner) for inner in part.renderables)
        return 0

    def spy(self: object, renderable: RenderableType, options: ConsoleOptions | None = None,
            **kwargs: object) -> list[list[Segment]]:
        sizes.append(size(renderable))
        return original(self, renderable, options, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(out, "render_lines", spy.__get__(out))
    return sizes


def live_renders(monkeypatch: pytest.MonkeyPatch, events: list[Event]) -> list[int]:
    out = console()
    sizes = rendered_sizes(monkeypatch, out)
    clock = ticking(1.0)  # a look at every event
    renderer = RichRenderer(out, RenderOptions(), clock=lambda: next(clock))
    renderer.start()
    for event in events:
        renderer.on_events([event], None)
    return sizes


SCREEN = 2 * 37 * 80  # two screenfuls of source at 80 x 40, less the spinner's rows


def test_a_long_open_paragraph_renders_only_its_last_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"{i} words of a paragraph that goes on and on without a blank line" for i in
             range(400)]  # 26,000 characters: four times what is rendered
    sizes = live_renders(monkeypatch, [TextDelta(line + "\n") for line in lines])
    assert len(sizes) >= 400 and max(sizes) <= SCREEN


def test_a_long_line_renders_only_its_last_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = live_renders(monkeypatch, [TextDelta("many words " * 10) for _ in range(300)])
    assert max(sizes) <= SCREEN


def test_a_forming_tool_call_renders_only_the_end_of_its_arguments(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[Event] = [ToolCallDelta(0, "c1", "write_file", '{"content": "')]
    events += [ToolCallDelta(0, None, None, "x = 1\\n" * 50) for _ in range(150)]
    sizes = live_renders(monkeypatch, [*events, Finish("tool_calls")])
    assert max(sizes) <= SCREEN + 20


def test_an_open_code_block_renders_only_its_held_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [TextDelta("```python\n"), *(TextDelta(line + "\n") for line in code_lines(400))]
    assert max(live_renders(monkeypatch, events)) <= SCREEN


# -- a long open paragraph is parsed now and then -------------------------------

def parsed_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    original = markdown_blocks.parse

    def spy(source: str) -> list[object]:
        sizes.append(len(source))
        return original(source)  # type: ignore[return-value]

    monkeypatch.setattr(markdown_blocks, "parse", spy)
    return sizes


def lines_of(count: int) -> Iterator[str]:
    for i in range(count):  # every fourth line begins with a number: it might start a block
        yield (f"{i} " if i % 4 == 0 else "and ") + "words of one long paragraph going on\n"


def test_a_long_open_paragraph_is_not_parsed_at_every_look(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = parsed_sizes(monkeypatch)
    blocks = MarkdownBlocks()
    text = ""
    for line in lines_of(4000):
        blocks.append(line)
        text += line
        assert blocks.pop_finished() == []
    large = [size for size in sizes if size > markdown_blocks.SMALL_TAIL]
    assert sum(large) <= 5 * len(text)  # each parse only after the tail grew by a quarter
    blocks.append("\nNext paragraph.\n")
    assert blocks.pop_all() == [Finished(text + "\nNext paragraph.\n", None, "end")]


def test_lines_that_cannot_start_a_block_are_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = parsed_sizes(monkeypatch)
    blocks = MarkdownBlocks()
    for _ in range(500):
        blocks.append("plain words of prose, nothing that could start a block\n")
        assert blocks.pop_finished() == []
    assert sizes == []
    blocks.append("\n# Heading\n")
    assert [type(part) for part in blocks.pop_finished()] == [Finished]
