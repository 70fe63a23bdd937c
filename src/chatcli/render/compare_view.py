"""``chatcli compare`` on a terminal: the answers side by side, one column each.

While they stream, each column shows the end of its answer (Markdown), cropped to
the screen, with its figures beneath; once all are in, the whole table is printed
once, so the scrollback holds every answer in full. Model text is data: no markup
is read from it, and what a terminal would obey is shown escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.live import Live
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from chatcli.output_guard import GuardedStream
from chatcli.render.answer_markdown import markdown
from chatcli.render.console import terminal_console
from chatcli.sanitize import visible


@dataclass
class Column:
    """One contestant as shown: its name, its answer so far, and its figures."""

    name: str
    text: str = ""
    figures: str = "waiting…"
    failed: str | None = None


class CompareView:
    def __init__(self, stream: GuardedStream) -> None:
        self.console = terminal_console(stream)
        self._live = Live(Text(""), console=self.console, transient=True, auto_refresh=False,
                          vertical_overflow="crop")
        self._live.start()

    def update(self, columns: Sequence[Column]) -> None:
        height = max(self.console.size.height - 6, 4)
        self._live.update(self._table(columns, tail=height), refresh=True)

    def finish(self, columns: Sequence[Column]) -> None:
        self._live.stop()
        self.console.print(self._table(columns, tail=None))

    def close(self) -> None:
        self._live.stop()

    def _table(self, columns: Sequence[Column], tail: int | None) -> Table:
        table = Table(expand=True, show_lines=False, pad_edge=False, box=None,
                      padding=(0, 2, 0, 0))
        width = max((self.console.size.width // max(len(columns), 1)) - 2, 10)
        for column in columns:
            table.add_column(Text(visible(column.name), style="bold"), ratio=1,
                             overflow="fold")
        table.add_row(*(self._cell(c, tail, width) for c in columns))
        table.add_row(*(Text(visible(c.failed or c.figures),
                             style="red" if c.failed else "dim") for c in columns))
        return table

    def _cell(self, column: Column, tail: int | None, width: int) -> RenderableType:
        body: RenderableType = markdown(visible(column.text)) if column.text else Text("")
        if tail is None:
            return body
        lines = self.console.render_lines(body, self.console.options.update(width=width))
        kept = lines[-tail:]
        return Group(*(Segments([*line, Segment.line()]) for line in kept))


def rule(stream: GuardedStream, title: str) -> None:
    """A dim rule with a title: what follows the columns (the judge's verdict)."""
    terminal_console(stream).print(Rule(Text(visible(title)), style="dim"))
