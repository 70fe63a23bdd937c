"""One dim line of chatcli's own on a terminal, written without Rich: the REPL's greeting
comes before anything else needs Rich, and Rich costs its start-up about 25 ms."""

from __future__ import annotations

from chatcli.config.process import colour_off
from chatcli.output_guard import GuardedStream
from chatcli.sanitize import visible

DIM, RESET = "\x1b[2m", "\x1b[0m"


def dim_line(stream: GuardedStream, text: str) -> None:
    """``text`` dimmed (plain under ``NO_COLOR`` or ``TERM=dumb``), then a new line."""
    shown = visible(text)
    if colour_off():
        stream.write(shown + "\n")
    else:
        stream.write_trusted(f"{DIM}{shown}{RESET}\n")
    stream.flush()
