"""The terminal renderer: Markdown, append-only, with a small live tail.

Finished blocks print once, an open code block line by line, above a ``Live``
showing the last screenful of what is unfinished: the cost is linear. Reasoning
streams dim; tool calls show as they form. Model text is data, never markup, and
every character of it is shown (HTML, link targets).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.spinner import Spinner
from rich.text import Text

from chatcli.protocol.events import AudioDelta, Event, ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions, sources
from chatcli.render.console import unpadded
from chatcli.render.line_buffer import LineBuffer
from chatcli.render.logprobs import LEGEND, least_likely, token_styles
from chatcli.render.markdown_blocks import CodeLines, Finished, MarkdownBlocks
from chatcli.render.tool_arguments import ToolView, shown_arguments
from chatcli.sanitize import visible

TICK = 1 / 15  # seconds between looks for finished blocks and repaints of the tail
CODE_BATCH = 200  # code lines highlighted together when an open block gives up many
CODE_CONTEXT = 30  # earlier lines given to the lexer before each batch, then dropped


_MARKDOWN_SIGNS = re.compile(r"[\\`*_\[\]<>#&|~!=+\-\n]|^\s|^\d+[.)]")
_MARKDOWN_READY = threading.Event()  # set once the Markdown renderer has loaded


def plain_line(source: str, width: int) -> bool:
    """Whether ``source`` is one short line that Markdown would show as it is (no mark of
    any block or inline syntax): a short answer is then printed without the parser."""
    text = source.strip("\n")
    return 0 < len(text) < width and _MARKDOWN_SIGNS.search(text.rstrip()) is None


def warm_markdown() -> None:
    """Load the Markdown renderer and parser on a thread of their own while the request is
    on its way; text that comes before they are ready is shown plain, then as Markdown."""
    if _MARKDOWN_READY.is_set():
        return

    def load() -> None:
        from chatcli.render.answer_markdown import markdown
        from chatcli.render.markdown_blocks import block_parser

        block_parser()
        del markdown
        _MARKDOWN_READY.set()
    threading.Thread(target=load, name="markdown-warm-up", daemon=True).start()


class RichRenderer:
    """Renders one turn on a Rich console that is a terminal."""

    def __init__(self, console: Console, options: RenderOptions,
                 clock: Callable[[], float] = time.monotonic, err: Console | None = None,
                 opening: str = "") -> None:
        self.console = console
        self.err = err  # for the logprobs legend; None shows none
        self.options = options
        self.clock = clock
        self._multi = options.choices > 1
        self._show_reasoning = options.reasoning != "hide"
        self._blocks = MarkdownBlocks()
        if opening:  # a continued answer goes on inside this code block
            self._blocks.append(opening)
        self._reasoning = LineBuffer()
        self._reasoning_started: float | None = None
        self._reasoning_took: float | None = None
        self._tools: dict[int, ToolView] = {}
        self._choice_chars: dict[int, int] = {}
        self._printed_block: str | None = None  # token type of the last printed block
        self._code_context: list[str] = []  # last lines of the code block being printed
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
        warm_markdown()  # while the request is on its way
        self._live = Live(_LiveTail(self), console=self.console, auto_refresh=True,
                          refresh_per_second=12, transient=False,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.start(refresh=True)

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        self._dirty = True
        for event in events:
            if type(event) is TextDelta:
                if self._multi:
                    self._choice_chars[event.choice] = (
                        self._choice_chars.get(event.choice, 0) + len(event.text))
                elif event.choice == 0:
                    if self._reasoning_took is None and self._reasoning_started is not None:
                        self._end_reasoning()
                    self._has_text = True
                    self._blocks.append(visible(event.text))
            elif type(event) is ReasoningDelta:
                if event.choice == 0 and not self._multi:
                    if self._reasoning_started is None:
                        self._reasoning_started = self.clock()
                    self._reasoning.append(visible(event.text))
            elif type(event) is ToolCallDelta and event.choice == 0:
                self._add_tool(event)
            elif (type(event) is AudioDelta and event.choice == 0 and not self._multi
                  and not self._has_text):
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
        if not self._colour:
            self._print_parts(self._blocks.pop_finished())

    def _commit_reasoning_lines(self) -> None:
        count = self._reasoning.count()
        if count:
            done = "".join(self._reasoning.lines(0, count))
            self._reasoning.drop(count)
            if self._show_reasoning:
                self.console.print(Text(done.rstrip("\n"), style="dim"))

    def _end_reasoning(self) -> None:
        started = self._reasoning_started if self._reasoning_started is not None else self._started
        self._reasoning_took = self.clock() - started
        rest = self._reasoning.clear().rstrip()
        if self._show_reasoning and rest:
            self.console.print(Text(rest, style="dim"))
        self.console.print(Text(f"thought for {self._reasoning_took:.1f}s", style="dim italic"))
        self.console.print()

    def _print_parts(self, parts: list[Finished | CodeLines]) -> None:
        for part in parts:
            if isinstance(part, CodeLines):
                self._print_code(part)
            else:
                self._print_block(part)

    def _print_block(self, block: Finished) -> None:
        # Rich puts one blank line between top-level blocks; a block whose first
        # element closes a nested one (a list, a quote, a table) brings its own.
        if block.tokens is None and plain_line(block.source, self.console.width):
            if self._printed_block not in (None, "hr"):
                self.console.print()
            self.console.print(Text(block.source.strip()), crop=False)  # as Markdown would
            self._printed_block = block.kind
            return
        from chatcli.render.answer_markdown import AnswerMarkdown

        rendered = AnswerMarkdown(block.source, block.tokens)
        segments = list(self.console.render(rendered, self.console.options))
        brings_gap = (bool(segments) and segments[0].text.startswith("\n")
                      and rendered.parsed[:1][0].nesting == 1)  # not an empty code block
        if not brings_gap and self._printed_block not in (None, "hr"):
            self.console.print()
        self.console.print(Segments(segments), crop=False)
        self._printed_block = block.kind

    def _print_code(self, part: CodeLines) -> None:
        """Lines of an open code block, highlighted in batches as a one-go render would be,
        each batch after a few earlier lines that only set the lexer's state."""
        if part.first:
            if self._printed_block not in (None, "hr"):
                self.console.print()
            self._printed_block, self._code_context = "fence", []
        from chatcli.render.answer_markdown import highlighted

        lines = part.lines
        batches = [lines[i:i + CODE_BATCH] for i in range(0, len(lines), CODE_BATCH)] or [[]]
        for number, batch in enumerate(batches, 1):
            code = "".join(self._code_context + batch)
            last = part.last and number == len(batches)
            text = highlighted(code.rstrip("\n") if last else code, part.lexer,
                               skip=len(self._code_context))
            if last:
                text.rstrip()
            segments = unpadded(self.console.render(text, self.console.options))
            self.console.print(Segments(segments), crop=False)  # as a one-go render: unpadded
            self._code_context = (self._code_context + batch)[-CODE_CONTEXT:]

    def _print_rest(self) -> None:
        if self._reasoning_took is None and self._reasoning_started is not None:
            self._end_reasoning()
        self._commit()
        self._print_parts(self._blocks.pop_all())

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
            shown = shown_arguments(call.arguments.text(), max(24, self.console.height),
                                    size=call.size)
            body: RenderableType = Text(shown.text)
            if shown.json:
                from rich.syntax import Syntax

                from chatcli.render.answer_markdown import CODE_THEME

                body = Syntax(shown.text, "json", theme=CODE_THEME,
                              background_color="default", word_wrap=True)
            if shown.note:
                body = Group(body, Text(shown.note, style="dim"))
            self.console.print(Panel(body, title=Text(call.name or "?"), title_align="left",
                                     border_style="cyan", expand=False))

    def _print_choices(self, choices: list[dict[str, Any]]) -> None:
        from chatcli.render.answer_markdown import markdown

        for choice in choices:
            self.console.print(Rule(Text(f"choice {choice['index']}"), align="left"))
            content = visible(choice["message"].get("content") or "")
            if content.strip():
                self.console.print(markdown(content), crop=False)

    def _stop_live(self) -> None:
        # The Live's last frame is empty and replaces the one shown, so nothing stays (and
        # no cursor restore follows, whose bare carriage return a terminal need not see).
        self._stopped = True
        self.tail_lines = []
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _add_tool(self, event: ToolCallDelta) -> None:
        if self._reasoning_took is None and self._reasoning_started is not None:
            self._end_reasoning()
        call = self._tools.setdefault(event.index, ToolView())
        if event.name and call.name != visible(event.name):
            call.name += visible(event.name)
        if event.arguments:
            call.arguments.append(visible(event.arguments))
            call.size += len(event.arguments)

    # -- what the live tail shows ----------------------------------------

    def repaint_if_stale(self) -> bool:
        """From the Live's refresh: paint what arrived since the last tick if the stream
        paused. False once the turn is over: the Live's last frame is then empty."""
        if self._stopped:
            return False
        if self._dirty and self.clock() - self._last_tick >= TICK:
            self._paint()
        return True

    def _paint(self) -> None:
        """Render the unfinished tail once per tick; the Live only replays these lines."""
        self._dirty = False
        parts: list[RenderableType] = []
        height = max(1, self.console.height - 3)
        # Only the last screenful of the source is rendered, however long the open block.
        rows, chars = 2 * height, 2 * height * self.console.width
        if self._thinking and self._show_reasoning:
            parts.append(Text(self._reasoning.window(rows, chars)[0], style="dim"))
        elif not self._multi:
            lexer, tail = self._blocks.live(rows, chars)
            if tail and not _MARKDOWN_READY.is_set():
                parts.append(Text(tail))  # the first text, while the renderer loads
            elif tail:
                from chatcli.render.answer_markdown import highlighted, markdown

                parts.append(markdown(tail) if lexer is None else highlighted(tail, lexer))
        for _, call in sorted(list(self._tools.items()), key=lambda item: item[0]):  # list():
            arguments = call.arguments.window(rows, chars)[0]  # atomic, for the Live's thread
            parts.append(Text(f"⚙ {call.name[:chars]}({arguments}", style="cyan"))
        lines = self.console.render_lines(Group(*parts), self.console.options, pad=False)
        self.tail_lines = [list(unpadded(line)) for line in lines[-height:]]  # table cells pad

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
        if not self.tail_lines and not self._blocks and not self._tools:
            label = f"waiting for {self.options.model}…" if self.options.model else "waiting…"
            return Spinner("dots", Text(label, style="dim"))
        return None


class _LiveTail:
    """What the ``Live`` shows: the painted tail and a spinner, both cheap to replay, then
    an empty line where the cursor waits: what the terminal echoes there (``^C``) cannot
    wrap, so the next frame erases exactly the lines this one drew."""

    def __init__(self, renderer: RichRenderer) -> None:
        self.renderer = renderer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.renderer.repaint_if_stale():
            return
        for line in self.renderer.tail_lines:
            yield from line
            yield Segment.line()
        spinner = self.renderer.spinner()
        if spinner is not None:
            yield spinner  # ends with its newline
        yield Segment("")
