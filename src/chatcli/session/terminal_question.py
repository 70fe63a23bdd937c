"""One question on the terminal, one typed line back: how ``chatcli cmd`` and ``-f '!CMD'``
ask. The end of input is an answer too (``end``), so a closed terminal never hangs.

The streams come from ``Environment.question_streams``; nothing here decides whether
to ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chatcli.output_guard import GuardedStream


def typed_line(keys: TextIO, screen: GuardedStream, question: str, end: str = "") -> str:
    """One line typed at the terminal, stripped; the end of input is ``end``."""
    screen.write(question)
    screen.flush()
    line = keys.readline()
    if not line:
        screen.write("\n")
        return end
    return line.strip()
