"""One live status line on a terminal's stderr (``chatcli batch``'s progress), cleared when
the batch ends so the summary stands alone."""

from __future__ import annotations

from rich.live import Live
from rich.text import Text

from chatcli.output_guard import GuardedStream
from chatcli.render.console import terminal_console


class StatusLine:
    def __init__(self, stream: GuardedStream) -> None:
        self._live = Live(Text(""), console=terminal_console(stream), transient=True,
                          auto_refresh=False)
        self._live.start()

    def update(self, line: str) -> None:
        self._live.update(Text(line, no_wrap=True, overflow="ellipsis"), refresh=True)

    def stop(self) -> None:
        self._live.stop()
