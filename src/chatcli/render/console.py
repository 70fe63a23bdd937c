"""The only Rich console chatcli writes with: every segment made safe as it is written.

Rich turns Markdown, JSON and panels into segments, and on the way it can
decode what was escaped before (a Markdown character reference such as
``&#x202E;``, a JSON ``\\u009b``). So the guard sits at the last step, where
segments become the terminal's text: the text of every segment is passed
through ``sanitize.visible``, and a hyperlink whose target holds a control
character loses the link. Only segments Rich marks as control (cursor moves,
erasing the live tail) and the styles' own colour codes pass unchanged.

Rich also pads a rendered line with spaces to the console's width; ``unpadded``
takes them off again. A line as wide as the terminal leaves the cursor where
the next character wraps, and the ``^C`` a terminal echoes there would put the
live tail's erase one line off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import IO, cast

from rich.console import Console
from rich.segment import Segment
from rich.style import Style

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


def unpadded(segments: Iterable[Segment]) -> Iterator[Segment]:
    """``segments`` less the spaces that end each line and show nothing there (spaces
    with a background, reverse or a line through them stay). Segments that end no line
    pass unchanged, so the bytes are those of the padded render up to each line's end."""
    held: list[Segment] = []  # the line's last segments, ending in spaces that may pad
    for segment in segments:
        text, style, control = segment
        if control or not text:
            yield from held
            held.clear()
            yield segment
            continue
        shows = _shows_on_space(style)
        if "\n" in text:
            pieces = text.split("\n")
            yield from (held if pieces[0].rstrip(" ") or (shows and pieces[0]) else
                        _trimmed(held))
            held.clear()
            if shows:
                yield segment
                continue
            last = pieces.pop()
            ended = "\n".join(piece.rstrip(" ") for piece in pieces) + "\n"
            if last.endswith(" "):
                yield Segment(ended, style)
                held.append(Segment(last, style))
            else:
                yield segment if ended + last == text else Segment(ended + last, style)
        elif shows or not text.endswith(" "):
            yield from held
            held.clear()
            yield segment
        else:
            if text.strip(" "):
                yield from held
                held.clear()
            held.append(segment)
    yield from _trimmed(held)  # what ends the last line


def _trimmed(held: list[Segment]) -> list[Segment]:
    """``held`` (plain segments ending in spaces) without the spaces that end it."""
    kept = list(held)
    while kept:
        stripped = kept[-1].text.rstrip(" ")
        if stripped:
            kept[-1] = Segment(stripped, kept[-1].style)
            break
        kept.pop()
    return kept


@lru_cache(maxsize=256)
def _shows_on_space(style: Style | None) -> bool:
    if style is None:
        return False
    background = style.bgcolor is not None and not style.bgcolor.is_default
    return bool(background or style.reverse or style.underline or style.underline2
                or style.strike or style.overline or style.frame or style.encircle)


def terminal_console(stream: GuardedStream, *, terminal: bool = True,
                     width: int | None = None) -> SafeConsole:
    """A console drawing on ``stream`` (through its trusted path); model text is data:
    no markup, no emoji codes, no highlighting of numbers or URLs."""
    return SafeConsole(file=cast(IO[str], TrustedSink(stream)), force_terminal=terminal,
                       highlight=False,
                       emoji=False, markup=False, width=width)


def status_line(stream: GuardedStream, text: str) -> None:
    """One dim line of chatcli's own on a terminal, from the line's start: a spinner
    waiting there is erased first (it draws itself again on the next line)."""
    stream.write_trusted(f"\r\x1b[2K\x1b[2m{visible(text)}\x1b[0m\n")
    stream.flush()
