"""What chatcli may write to a terminal: only the escape sequences it makes itself.

An allow-list, not a deny-list: colour and style (SGR), the cursor moves and
erases of the live tail (``\\r`` only beside one of those moves or a newline, ``ESC [ n
A`` up, ``ESC [ 2 K`` erase line, ``ESC [ ? 25 l/h`` hide/show the cursor), OSC 8
hyperlinks whose target holds nothing but printable characters, and, where a
test allows it, chatcli's own OSC 52 clipboard write. Anything else that a
terminal would obey (another escape, a C0 or C1 control, a bidi control, a line
separator, a lone surrogate) is a violation.
"""

from __future__ import annotations

import re

_SGR = r"\x1b\[[0-9;]*m"
_CURSOR = r"\x1b\[[0-9]*[ABCDG]|\x1b\[[0-2]?K|\x1b\[\?25[lh]"
_LINK = r"\x1b\]8;(?:id=[0-9A-Za-z-]+)?;[\x21-\x7e\u00a0-\uffff]*\x1b\\"
_OSC52 = r"\x1b\]52;c;[A-Za-z0-9+/=]*\x07"
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\ud800-\udfff]")


_SEQUENCE_END = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]$")


def _rich_cr(output: str, at: int) -> bool:
    """Rich returns to the line start around its own cursor moves: a CR touching one of
    them (or ending a line) is Rich's. A CR in hostile text has letters on both sides."""
    after = output[at + 1:at + 3]
    return (after[:1] == "\n" or after == "\x1b["
            or _SEQUENCE_END.search(output[max(0, at - 16):at]) is not None)


def violations(output: str, *, osc52: bool = False) -> list[str]:
    """Each control character or sequence in ``output`` that chatcli did not make itself."""
    if "\r" in output:
        output = "".join(char for at, char in enumerate(output)
                         if char != "\r" or not _rich_cr(output, at))
    allowed = "|".join([_SGR, _CURSOR, _LINK, *([_OSC52] if osc52 else [])])
    rest = re.sub(allowed, "", output)
    return [f"{match.group()!r} in ...{rest[max(0, match.start() - 20):match.end() + 20]!r}"
            for match in _FORBIDDEN.finditer(rest)]


# Every kind of hostile text a server, a stored answer, a file name or a tool may carry.
PAYLOADS: dict[str, str] = {
    "csi colour and clear screen": "\x1b[31mred\x1b[2J",
    "csi terminal queries": "\x1b[6n\x1b[21t",
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc 0 and 2 title": "\x1b]0;owned\x07\x1b]2;owned\x1b\\",
    "osc 8 link": "\x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\",
    "dcs": "\x1bP1$r0m\x1b\\",
    "bracketed paste end": "\x1b[201~",
    "c1 csi and osc": "\x9b31m\x9d0;owned\x9c",
    "bidi override and isolate": "\u202eexe.txt\u2066x\u2069\u200f",
    "line separator": "a\u2028b\u2029c",
    "carriage return overwrite": "safe\rEVIL",
    "backspace and bell": "abc\x08\x08\x08xyz\x07",
    "lone surrogate": "half \ud83d here",
}
ALL_PAYLOADS = " ".join(PAYLOADS.values())
