"""The only Rich console chatcli writes with: every segment made safe as it is written.

Rich turns Markdown, JSON and panels into segments, and on the way it can
decode what was escaped before (a Markdown character reference such as
``&#x202E;``, a JSON ``\\u009b``). So the guard sits at the last step, where
segments become the terminal's text: the text of every segment is passed
through ``sanitize.visible``, and a hyperlink whose target holds a control
character loses the link. Only segments Rich marks as control (cursor moves,
erasing the live tail) and the styles' own colour codes pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, cast

from rich.console import Console
from rich.segment import Segment

from chatcli.output_guard import GuardedStream, TrustedSink
from chatcli.sanitize import is_safe, visible


class SafeConsole(Console):
    """A ``Console`` whose output can only carry the escape sequences Rich makes itself."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(safe_segments(buffer))


def safe_segments(segments: Iterable[Segment]) -> Iterator[Segment]:
    """Segments with their text made visible and unsafe link targets dropped."""
    for segment in segments:
        text, style, control = segment
        if control:
            yield segment
            continue
        changed = False
        if style is not None and style.link and not is_safe(style.link):
            style, changed = style.update_link(None), True
        if not is_safe(text):
            text, changed = visible(text), True
        yield Segment(text, style) if changed else segment


def terminal_console(stream: GuardedStream, *, terminal: bool = True,
                     width: int | None = None) -> SafeConsole:
    """A console drawing on ``stream`` (through its trusted path); model text is data:
    no markup, no emoji codes, no highlighting of numbers or URLs."""
    return SafeConsole(file=cast(IO[str], TrustedSink(stream)), force_terminal=terminal,
                       highlight=False,
                       emoji=False, markup=False, width=width)


def dim_line(stream: GuardedStream, text: str) -> None:
    """One line of chatcli's own, dim (a hint, not an answer)."""
    from rich.text import Text

    terminal_console(stream).print(Text(text, style="dim"))
