"""Untrusted text made safe for a terminal, and secrets kept out of what is shown.

Text from the network, the history, files and tools is data. On a terminal,
control characters in it (ESC starting a colour, a cursor move, an OSC 52
clipboard write or a title change; CR and backspace overwriting what was
shown; 8-bit C1 controls) would be obeyed, and bidirectional overrides and
isolates would disguise what is shown, so they are shown visibly escaped
instead (``\\x1b``, ``\\u202e``). Newlines and tabs stay. Lone surrogates (half
of a character a gateway split) become U+FFFD, so text never fails to encode.
Text bound for a pipe or file is never changed here.

Redaction is here too: ``redact`` for one credential, ``redact_header`` for a
header line, and ``redact_secrets`` for any text (a log line, an error, a
traceback), which hides every credential chatcli was given (``remember_secret``)
and the userinfo of every URL.
"""

from __future__ import annotations

import re

_KEEP = {"\n", "\t"}
_TABLE: dict[int, str] = {
    code: f"\\x{code:02x}"
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(code) not in _KEEP
}
# Line and paragraph separators and the bidirectional controls (embeddings,
# overrides, isolates and marks) can disguise what is shown: made visible too.
BIDI_AND_SEPARATORS = (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
                       *range(0x2066, 0x206A))
_TABLE.update({code: f"\\u{code:04x}" for code in BIDI_AND_SEPARATORS})

_UNSAFE = re.compile("[" + "".join(re.escape(chr(code)) for code in _TABLE)
                     + "\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_characters(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape, newlines and tabs kept."""
    if _UNSAFE.search(text) is None:  # the usual case: nothing to change
        return text
    return whole_characters(text).replace("\r\n", "\n").translate(_TABLE)


def is_safe(text: str) -> bool:
    """Whether ``text`` can reach a terminal as it is."""
    return _UNSAFE.search(text) is None


_JSON_TABLE = {code: f"\\u{code:04x}" for code in _TABLE if code >= 0x7F}
_JSON_UNSAFE = re.compile("[" + "".join(re.escape(chr(code)) for code in _JSON_TABLE)
                          + "\ud800-\udfff]")


def visible_json(text: str) -> str:
    """JSON text for a terminal: characters that JSON may carry raw (C1 controls, DEL,
    line separators, bidi controls, lone surrogates) become ``\\uXXXX`` escapes, still
    valid JSON with the same meaning."""
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- secrets ----------------------------------------------------------------

_SECRET_WORDS = ("key", "auth", "token", "secret", "session", "password", "passwd",
                 "cookie", "credential")
# The userinfo runs to the last "@" before the path (a password may hold a raw "@").
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s?#]*)@")
# A query parameter named like a credential (``?api-key=…``, ``&sig=…``).
_QUERY_SECRET = re.compile(r"(?i)([?&][^=&\s#]*(?:key|token|secret|auth|password|sig)"
                           r"[^=&\s#]*=)[^&\s#]+")
_known: set[str] = set()
MIN_SECRET = 6  # shorter values are not worth hiding, and would hide ordinary words


def redact(key: str | None) -> str:
    """``sk-…abcd``: enough to tell keys apart, never enough to use one."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…" + "*" * 3
    prefix = key[:3] if key[2:3] == "-" else ""
    return f"{prefix}…{key[-4:]}"


def is_secret_header(name: str) -> bool:
    """Whether a header carries a credential: ``Authorization``, ``Cookie``, ``X-Api-Key``,
    ``Ocp-Apim-Subscription-Key``, any name with key, auth, token, secret, session,
    password or cookie in it."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_header(name: str, value: str) -> str:
    """A header's value as it may be shown: credentials redacted, the scheme kept."""
    if is_secret_header(name):
        scheme, space, credential = value.partition(" ")
        if space and credential and scheme.isalpha() and len(scheme) <= 10:
            return f"{scheme} {redact(credential)}"  # "Bearer sk-…abcd", "Basic …"
        return redact(value)
    return redact_secrets(value)


def remember_secret(value: str | None) -> None:
    """Hide ``value`` from everything ``redact_secrets`` cleans, for the rest of the process."""
    if value and len(value) >= MIN_SECRET:
        _known.add(value)


def strip_userinfo(url: str) -> str:
    """``http://user:pass@host/v1`` as ``http://host/v1``: for what is stored or shown."""
    return _USERINFO.sub(lambda m: m.group(1), url)


def without_userinfo(url: str) -> str:
    """``url`` with no ``user:password@`` left, however many ``@`` the password held."""
    while (stripped := strip_userinfo(url)) != url:
        url = stripped
    return url


def redact_secrets(text: str) -> str:
    """``text`` with every remembered secret redacted and URLs' userinfo hidden."""
    if _known:
        for secret in sorted(_known, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, redact(secret))
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"{m.group(1)}***@", text)
    if "=" in text and ("?" in text or "&" in text):
        text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}***", text)
    return text
