"""What ``-x`` shows on a terminal: a preview while the answer streams, then its code.

The preview (spinner, reasoning, the answer's last lines) lives in a transient
``Live`` on stderr, never taller than the screen, so it is gone without a trace
when the turn ends, whether finished, failed or interrupted; stdout gets only
the code, highlighted, once the session has chosen it. Nothing here decides
which code that is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.segment import Segment, Segments
from rich.spinner import Spinner
from rich.text import Text

from chatcli.protocol.events import Event, ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.answer_markdown import highlighted, markdown
from chatcli.render.code_blocks import CodeBlock
from chatcli.render.console import unpadded
from chatcli.render.line_buffer import LineBuffer
from chatcli.sanitize import visible


class PreviewRenderer:
    """Shows a turn in a transient live area that is cleared when the turn ends."""

    def __init__(self, console: Console, options: RenderOptions,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.options = options
        self.clock = clock
        self._answer = LineBuffer()
        self._reasoning = LineBuffer()
        self._thinking_since: float | None = None
        self._tools: set[int] = set()  # indexes of the tool calls seen
        self._live: Live | None = None

    def start(self) -> None:
        self._live = Live(_Frame(self), console=self.console, auto_refresh=True,
                          refresh_per_second=12, transient=True,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.start(refresh=True)

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        for event in events:
            if type(event) is TextDelta and event.choice == 0:
                self._answer.append(visible(event.text))
            elif type(event) is ReasoningDelta and event.choice == 0:
                if self._thinking_since is None:
                    self._thinking_since = self.clock()
                self._reasoning.append(visible(event.text))
            elif type(event) is ToolCallDelta and event.choice == 0:
                self._tools.add(event.index)

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        self._stop()

    def abort(self, result: TurnResult) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def frame(self, height: int, width: int) -> tuple[Text, Spinner]:
        """The last lines that fit above the spinner, and the spinner."""
        rows = max(1, height - 3)
        if self._answer:
            shown, style = self._answer.window(rows, rows * width)[0], ""
            label = "writing the answer…"
        elif self._reasoning and self.options.reasoning != "hide":
            shown, style = self._reasoning.window(rows, rows * width)[0], "dim"
            took = self.clock() - (self._thinking_since or self.clock())
            label = f"thinking… {took:.0f}s"
        else:
            shown, style = "", ""
            model = self.options.model
            label = f"waiting for {model}…" if model else "waiting…"
        if self._tools:
            count = len(self._tools)
            label += f" ({count} tool call{'s' if count > 1 else ''})"
        lines = shown.rstrip("\n").split("\n")[-rows:] if shown.strip() else []
        text = Text("\n".join(lines), style=style, no_wrap=True, overflow="crop")
        return text, Spinner("dots", Text(label, style="dim"))


class _Frame:
    """The live area: one row per line (cropped, never wrapped), the spinner, and an
    empty line for the cursor, so it always fits the screen and clears exactly."""

    def __init__(self, renderer: PreviewRenderer) -> None:
        self.renderer = renderer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text, spinner = self.renderer.frame(console.height, console.width)
        if text.plain:
            yield text
        yield spinner
        yield Segment("")


def print_code(console: Console, blocks: Sequence[CodeBlock]) -> None:
    """The blocks' code, each highlighted by its language, one blank line between them."""
    for number, block in enumerate(blocks):
        if number:
            console.print()
        text = highlighted(block.code, block.language or "text")
        text.rstrip()
        console.print(Segments(unpadded(console.render(text, console.options))), crop=False)


def print_answer(console: Console, answer: str) -> None:
    """A whole answer with no code block in it, as Markdown."""
    console.print(markdown(visible(answer)), crop=False)
