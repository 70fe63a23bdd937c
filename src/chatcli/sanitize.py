"""Model and server text made safe to show on a terminal.

Text from the network is data. On a terminal, control characters in it (ESC
starting a colour, a cursor move, an OSC 52 clipboard write or a title
change; CR and backspace overwriting what was shown; C1 controls) would be
obeyed, so they are shown visibly escaped instead (``\\x1b``). Newlines and
tabs stay. Text bound for a pipe or file is never changed here.
"""

from __future__ import annotations

import re

_KEEP = {"\n", "\t"}
_TABLE = {
    code: f"\\x{code:02x}"
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(code) not in _KEEP
}
# Unicode line and paragraph separators and bidirectional overrides can also
# disguise what is shown; they are made visible too.
_TABLE.update({code: f"\\u{code:04x}" for code in
               (0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                0x2066, 0x2067, 0x2068, 0x2069)})


_UNSAFE = re.compile("[" + "".join(re.escape(chr(code)) for code in _TABLE) + "]")


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape, newlines and tabs kept."""
    if _UNSAFE.search(text) is None:  # the usual case: nothing to change
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)


_JSON_TABLE = {code: f"\\u{code:04x}" for code in _TABLE if code >= 0x7F}


def visible_json(text: str) -> str:
    """JSON text for a terminal: characters that JSON may carry raw (C1 controls,
    line separators, bidi overrides) become ``\\uXXXX`` escapes, still valid JSON."""
    if _UNSAFE.search(text) is None:
        return text
    return text.translate(_JSON_TABLE)
