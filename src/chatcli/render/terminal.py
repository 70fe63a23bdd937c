"""The terminal renderer: Markdown, append-only, with a small live tail.

Finished Markdown blocks are printed once, above a ``Live`` that shows only
the unfinished tail (cropped to the screen, never repainting scrollback), so
the cost is linear in the answer's length. Reasoning streams dim before the
answer; tool calls show as they form. Model text is always data: it reaches
Rich only as ``Text`` or ``Markdown`` source, never as markup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import CodeBlock, Markdown, MarkdownElement
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.spinner import Spinner
from rich.syntax import Syntax
from rich.text import Text

from chatcli.accumulator import ToolCallState
from chatcli.events import AudioDelta, Event, ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.render import RenderOptions, sources
from chatcli.render.logprobs import LEGEND, least_likely, token_styles
from chatcli.render.markdown_blocks import MarkdownBlocks
from chatcli.sanitize import visible
from chatcli.turn import TurnResult

TICK = 1 / 15  # seconds between looks for finished blocks and repaints of the tail
CODE_THEME = "monokai"


class UnwrappedCodeBlock(CodeBlock):
    """Highlighted code with no padding and no hard wrap, so copied code stays intact."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip("\n")
        text = Syntax(code, self.lexer_name, theme=self.theme,
                      background_color="default").highlight(code)
        text.rstrip()
        text.no_wrap = True
        text.overflow = "ignore"
        yield text


class AnswerMarkdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "fence": UnwrappedCodeBlock, "code_block": UnwrappedCodeBlock,
    }


def markdown(source: str) -> AnswerMarkdown:
    return AnswerMarkdown(source, code_theme=CODE_THEME)


class RichRenderer:
    """Renders one turn on a Rich console that is a terminal."""

    def __init__(self, console: Console, options: RenderOptions,
                 clock: Callable[[], float] = time.monotonic, err: Console | None = None) -> None:
        self.console = console
        self.err = err  # for the logprobs legend; None shows none
        self.options = options
        self.clock = clock
        self._multi = options.choices > 1
        self._show_reasoning = options.reasoning != "hide"
        self._blocks = MarkdownBlocks()
        self._reasoning: list[str] = []
        self._reasoning_started: float | None = None
        self._reasoning_took: float | None = None
        self._tools: dict[int, ToolCallState] = {}
        self._choice_chars: dict[int, int] = {}
        self._printed_block: str | None = None  # token type of the last printed block
        self._last_tick = 0.0
        self.tail_lines: list[list[Segment]] = []  # the painted tail, read by the Live
        self._stopped = False
        self._dirty = False  # something arrived that the painted tail does not show
        self._live: Live | None = None
        self._started = clock()
        self._has_text = False
        self._colour = options.logprobs and not self._multi  # answer printed as coloured tokens

    # -- the turn's life -------------------------------------------------

    def start(self) -> None:
        self._started = self.clock()
        self._live = Live(_LiveTail(self), console=self.console, auto_refresh=True,
                          refresh_per_second=12, transient=True,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.start(refresh=True)

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        self._dirty = True
        for event in events:
            kind = type(event)
            if kind is TextDelta:
                assert isinstance(event, TextDelta)
                if self._multi:
                    self._choice_chars[event.choice] = (
                        self._choice_chars.get(event.choice, 0) + len(event.text))
                elif event.choice == 0:
                    if self._reasoning_took is None and self._reasoning_started is not None:
                        self._end_reasoning()
                    self._has_text = True
                    self._blocks.append(visible(event.text))
            elif kind is ReasoningDelta:
                assert isinstance(event, ReasoningDelta)
                if event.choice == 0 and not self._multi:
                    if self._reasoning_started is None:
                        self._reasoning_started = self.clock()
                    self._reasoning.append(visible(event.text))
            elif kind is ToolCallDelta:
                assert isinstance(event, ToolCallDelta)
                if event.choice == 0:
                    self._add_tool(event)
            elif kind is AudioDelta:
                assert isinstance(event, AudioDelta)
                if event.choice == 0 and not self._multi and not self._has_text:
                    self._blocks.append(visible(event.transcript))  # spoken answer, no text
        now = self.clock()
        if now - self._last_tick >= TICK:
            self._last_tick = now
            self._commit()
            self._paint()

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        self._stop_live()
        if self._multi:
            self._print_choices(result.completion["choices"])
            return
        first = (result.completion["choices"] or [{"message": {}}])[0]
        entries = (first.get("logprobs") or {}).get("content") or []
        if self._colour and entries:
            self._print_tokens(entries)
        else:
            self._print_rest()
        self._print_tools()
        self._print_sources(first["message"])

    def abort(self, result: TurnResult) -> None:
        self._stop_live()
        if not self._multi:
            self._print_rest()
            self._print_tools()

    # -- printing finished parts -----------------------------------------

    def _commit(self) -> None:
        if self._reasoning and self._reasoning_took is None:
            self._commit_reasoning_lines()
        popped = None if self._colour else self._blocks.pop_finished()
        if popped is not None:
            self._print_block(*popped)

    def _commit_reasoning_lines(self) -> None:
        text = "".join(self._reasoning)
        cut = text.rfind("\n") + 1
        if cut:
            self._reasoning = [text[cut:]] if text[cut:] else []
            if self._show_reasoning:
                self.console.print(Text(text[:cut].rstrip("\n"), style="dim"))

    def _end_reasoning(self) -> None:
        started = self._reasoning_started if self._reasoning_started is not None else self._started
        self._reasoning_took = self.clock() - started
        rest = "".join(self._reasoning).rstrip()
        self._reasoning = []
        if self._show_reasoning and rest:
            self.console.print(Text(rest, style="dim"))
        self.console.print(Text(f"thought for {self._reasoning_took:.1f}s", style="dim italic"))
        self.console.print()

    def _print_block(self, source: str, kind: str) -> None:
        # Rich puts one blank line between top-level blocks; a block whose first
        # element closes a nested one (a list, a quote, a table) brings its own.
        segments = list(self.console.render(markdown(source), self.console.options))
        brings_gap = bool(segments) and segments[0].text.startswith("\n")
        if not brings_gap and self._printed_block not in (None, "hr"):
            self.console.print()
        self.console.print(Segments(segments), crop=False)
        self._printed_block = kind

    def _print_rest(self) -> None:
        if self._reasoning_took is None and self._reasoning_started is not None:
            self._end_reasoning()
        self._commit()
        tail = self._blocks.pop_all()
        if tail.strip():
            self._print_block(tail, "end")

    def _print_tokens(self, entries: list[Any]) -> None:
        """The answer as its tokens, each coloured by its probability, instead of Markdown."""
        if self._reasoning_took is None and self._reasoning_started is not None:
            self._end_reasoning()
        self._blocks.pop_all()
        text = Text()
        for token, style in token_styles(entries):
            text.append(visible(token), style=style or None)
        self.console.print(text, crop=False)
        if self.options.top_logprobs:
            self.console.print()
            self.console.print(Text("least likely tokens:", style="dim"))
            for line in least_likely(entries):
                self.console.print(Text(visible(line)), crop=False)
        if self.err is not None:
            legend = Text()
            for part, style in LEGEND:
                legend.append(part, style=style or None)
            self.err.print(legend)

    def _print_sources(self, message: dict[str, Any]) -> None:
        lines = sources(message)
        if lines:
            self.console.print()
            self.console.print(Text("Sources", style="bold"))
            for line in lines:
                self.console.print(Text(visible(line), style="dim"), crop=False)

    def _print_tools(self) -> None:
        for index in sorted(self._tools):
            call = self._tools[index]
            args = "".join(call.arguments)
            self.console.print(Panel(_pretty_arguments(args), title=Text(call.name or "?"),
                                     title_align="left", border_style="cyan", expand=False))

    def _print_choices(self, choices: list[dict[str, Any]]) -> None:
        for choice in choices:
            self.console.print(Rule(Text(f"choice {choice['index']}"), align="left"))
            content = visible(choice["message"].get("content") or "")
            if content.strip():
                self.console.print(markdown(content), crop=False)

    def _stop_live(self) -> None:
        self._stopped = True  # the Live's last frame is erased anyway: keep it empty
        self.tail_lines = []
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _add_tool(self, event: ToolCallDelta) -> None:
        if self._reasoning_took is None and self._reasoning_started is not None:
            self._end_reasoning()
        call = self._tools.get(event.index)
        if call is None:
            call = self._tools[event.index] = ToolCallState(event.index)
        if event.name and call.name != visible(event.name):
            call.name += visible(event.name)
        if event.arguments:
            call.arguments.append(visible(event.arguments))

    # -- what the live tail shows ----------------------------------------

    def repaint_if_stale(self) -> None:
        """From the Live's refresh: paint what arrived since the last tick if the stream paused."""
        if self._dirty and self.clock() - self._last_tick >= TICK:
            self._paint()

    def _paint(self) -> None:
        """Render the unfinished tail once per tick; the Live only replays these lines."""
        self._dirty = False
        parts: list[RenderableType] = []
        if self._thinking and self._show_reasoning:
            parts.append(Text("".join(self._reasoning), style="dim"))
        elif not self._multi:
            tail = self._blocks.snapshot()
            if tail:
                parts.append(markdown(tail))
        for _, call in sorted(list(self._tools.items())):  # list(): atomic, for the Live's thread
            parts.append(Text(f"⚙ {call.name}({''.join(call.arguments)}", style="cyan"))
        height = max(1, self.console.height - 3)
        lines = self.console.render_lines(Group(*parts), self.console.options, pad=False)
        self.tail_lines = lines[-height:]

    @property
    def _thinking(self) -> bool:
        return self._reasoning_started is not None and self._reasoning_took is None

    def spinner(self) -> Spinner | None:
        """The animated line under the tail, while there is something to wait for."""
        if self._stopped:
            return None
        if self._thinking:
            took = self.clock() - self._reasoning_started if self._reasoning_started else 0.0
            return Spinner("dots", Text(f"thinking… {took:.0f}s", style="dim"))
        if self._multi:
            counts = sorted(self._choice_chars.items())
            chars = ", ".join(f"choice {i}: {n} chars" for i, n in counts)
            return Spinner("dots", Text(chars or "waiting…", style="dim"))
        if not self.tail_lines and not self._blocks.snapshot() and not self._tools:
            label = f"waiting for {self.options.model}…" if self.options.model else "waiting…"
            return Spinner("dots", Text(label, style="dim"))
        return None


class _LiveTail:
    """What the ``Live`` shows: the painted tail and a spinner, both cheap to replay."""

    def __init__(self, renderer: RichRenderer) -> None:
        self.renderer = renderer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.renderer.repaint_if_stale()
        for line in self.renderer.tail_lines:
            yield from line
            yield Segment.line()
        spinner = self.renderer.spinner()
        if spinner is not None:
            yield spinner


def _pretty_arguments(arguments: str) -> RenderableType:
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return Text(visible(arguments))
    return Syntax(json.dumps(parsed, indent=2, ensure_ascii=False), "json", theme=CODE_THEME,
                  background_color="default", word_wrap=True)
