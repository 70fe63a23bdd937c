"""Rules for secrets assigned to a key: ``DB_PASSWORD=…``, ``"api_key": "…"``, headers.

The key's name must suggest a secret (``clientSecret``, not ``public_key`` or
``token_count``) and its value must be a literal where config puts one; code
(``getpass()``, ``os.environ["X"]``), templates and placeholders never count.
Nothing here knows vendor token shapes (``tokens``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterator

from chatcli.secrets.finding import Hit
from chatcli.secrets.prefilter import ASSIGNED, WORDS
from chatcli.secrets.values import is_code, looks_random, rejected

PASSWORD_PRIORITY, SECRET_PRIORITY, AWS_PRIORITY = 2, 1, 3

_ASSIGN = re.compile(r"(?P<key>[A-Za-z0-9_.-]{1,120}?)(?P<kq>[\"']?)(?P<pre>[ \t]{0,4})"
                     r"(?P<sep>:=|=>|=|:)(?!=)(?P<gap>[ \t]{0,4})")
_VALUE = re.compile(r"\"(?P<dq>(?:[^\"\\\n]|\\.){0,4096})\"|'(?P<sq>(?:[^'\\\n]|\\.){0,4096})'"
                    r"|(?P<bare>[^\s\"'`,;)\]}]{1,4096})")
_SELF_NAMING = ("secret", "password", "passwd", "token")
_ANNOTATED = re.compile(r"[ \t]*(?:\|[ \t]|=[ \t]|\[)")
_QUERY_NEXT = re.compile(r"&(?=[A-Za-z_][A-Za-z0-9_.-]*=)")
_ANNOTATION = re.compile(r"[A-Za-z_][A-Za-z0-9_\[\], |.]{0,60}?[ \t]*=(?!=)[ \t]*(?=[\"'])")
_AUTH_HEADER = re.compile(r"authorization[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?"
                          r"(bearer|basic|token|bot|apikey|key|digest)[ \t]+")
_CREDENTIAL = re.compile(r"[A-Za-z0-9._~+/=-]{8,4096}")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# What may stand before a key on its line when the value is unquoted (config files).
_LINE_LEADS = frozenset({"", "export", "set", "setenv", "env", "ENV", "ARG", "-", "#", "//",
                         "readonly", "local", "declare -x", ";"})

_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "passcode"})
_PASSWORD_ENDINGS = ("password", "passwd", "passphrase")
_SECRET_ENDINGS = ("key", "keys", "secret", "secrets", "token", "tokens", "credential",
                   "credentials", "creds")
_SECRET_WORDS = frozenset({"auth", "oauth", "private", "cred"})
# What may come before an ending in one word: ``APIKEY``, ``accesstoken`` (not ``monkey``).
_STEMS = frozenset({
    "api", "access", "secret", "private", "client", "master", "signing", "sign", "auth",
    "oauth", "app", "service", "license", "session", "account", "shared", "consumer",
    "hmac", "root", "deploy", "pass", "webhook", "refresh", "id", "bearer", "user", "bot",
    "security", "csrf", "xsrf", "encryption", "crypt", "enc", "jwt", "admin",
    "integration", "personal", "stream", "storage",
})
_PUBLIC = frozenset({"public", "publishable", "pub"})
# A key whose last word is one of these names something about the secret, not the secret.
_NOT_SECRET_LAST = frozenset({
    "file", "files", "path", "paths", "dir", "directory", "url", "uri", "endpoint", "host",
    "hostname", "name", "names", "id", "ids", "type", "types", "kind", "length", "len",
    "size", "count", "max", "min", "limit", "ttl", "expiry", "expires", "expiration", "exp",
    "timeout", "header", "headers", "prefix", "suffix", "env", "var", "field", "fields",
    "policy", "hint", "label", "prompt", "format", "version", "algorithm", "alg", "mode",
    "enabled", "disabled", "required", "hash", "digest", "index", "idx", "pattern", "regex",
    "list", "map", "provider", "manager", "class", "method", "fn", "func", "callback",
    "handler", "cmd", "command", "help", "description", "desc", "text", "message", "msg",
    "error", "errors", "encoding", "usage", "position", "pos", "offset", "start", "end",
    "arn", "ref", "location", "region", "scope", "scopes", "source", "option", "options",
    "flag", "flags", "config", "param", "params", "arg", "args", "attr", "column", "table",
    "schema", "fingerprint", "width", "bits", "strength", "rotation", "store", "backend",
})
# A key or token word qualified by one of these is not a credential (``cache_key``).
_NOT_SECRET_QUALIFIERS = frozenset({
    "cache", "primary", "foreign", "sort", "partition", "idempotency", "dedup", "dedupe",
    "lookup", "dict", "map", "hash", "index", "row", "group", "shard", "routing", "object",
    "unique", "natural", "composite", "surrogate", "gpg", "pgp", "hot", "short", "shortcut",
    "translation", "i18n", "max", "num", "total", "input", "output", "completion", "prompt",
    "reasoning", "cached", "next", "page", "continuation", "cursor", "sync", "pagination",
    "lock", "registry", "correlation", "request", "trace", "span", "cluster", "mapping",
})


def assignments(text: str, low: str) -> Iterator[Hit]:
    """Every value assigned to a secret-named key, judged by the key's kind.

    Each secret word followed by ``=`` or ``:`` is found by a literal-prefixed search
    in ``low`` (the lower-cased text); the key is read back from it, the value forward.
    Candidates are read in text order and none inside a value already read, so the
    rule stays linear even in ``key=key=key=…``.
    """
    found: dict[int, int] = {}  # separator -> where the secret word starts
    for word in WORDS:
        if word in low:
            for match in ASSIGNED[word].finditer(low):
                found.setdefault(match.end() - 1, match.start())
    read_up_to = 0
    for separator in sorted(found):
        if separator < read_up_to:
            continue
        hit, read_up_to = _read(text, _key_start(text, found[separator]), separator)
        if hit is not None:
            yield hit


def _key_start(text: str, position: int) -> int:
    floor = max(0, position - 80)
    while position > floor and text[position - 1] in _KEY_CHARS:
        position -= 1
    return position


def _read(text: str, start: int, separator: int) -> tuple[Hit | None, int]:
    """The hit for the key at ``start`` (or None), and where reading stopped."""
    skipped = (None, separator + 1)
    assign = _ASSIGN.match(text, start)
    if assign is None:
        return skipped
    key, quote = assign.group("key"), assign.group("kq")
    if quote and text[start - 1: start] != quote:
        return skipped
    name = key.lstrip("-.")
    kind = key_kind(name)
    if kind is None:
        return skipped
    quoted = text[assign.end():assign.end() + 1] in ("'", '"')
    if not quoted and assign.group("sep") != ":" and not _bare_allowed(
            text, start, key, assign.group("sep"), assign.group("pre"), assign.group("gap")):
        return skipped
    value = _VALUE.match(text, assign.end())
    if value is not None and value.group("bare") is not None:
        if is_code(value.group("bare")) and assign.group("sep") == ":":
            annotated = _ANNOTATION.match(text, assign.end())  # ``password: str = "…"``
            value = _VALUE.match(text, annotated.end()) if annotated else None
            if value is not None and value.group("bare") is not None:
                value = None
        elif not _bare_allowed(text, start, key, assign.group("sep"),
                               assign.group("pre"), assign.group("gap")):
            value = None
    if value is None:
        return skipped
    group = next(g for g in ("dq", "sq", "bare") if value.group(g) is not None)
    literal, (v_start, v_end) = value.group(group), value.span(group)
    if group == "bare":
        if _ANNOTATED.match(text, v_end):  # ``key: Ed25519PrivateKey | None``: a type
            return skipped
        literal = _QUERY_NEXT.split(literal, 1)[0]  # ``token=abc&page=2``: ``abc``
        v_end = v_start + len(literal)
    return _judge(kind, name, literal, group == "bare", v_start, v_end), value.end()


def _bare_allowed(text: str, start: int, key: str, separator: str, pre: str,
                  gap: str) -> bool:
    """An unquoted value counts where config puts one: alone on its line after the key
    (dotenv, YAML ``key: value``, INI), or ``KEY=value`` as a word of a command line or
    a URL query."""
    if separator == ":" and pre:  # ``Pass :meth:…`` is prose, not YAML
        return False
    floor = max(0, start - 32)  # a lead is short: never look further back than this
    line_start = text.rfind("\n", floor, start) + 1
    if (line_start or floor == 0) and text[line_start:start].strip() in _LINE_LEADS:
        return True
    before = text[start - 1]
    if separator == "=" and not pre and not gap and (
            before.isspace() or before in "?&;\"'" or key.startswith("-")):
        return True
    return separator == ":" and before in "\"'"


def _judge(kind: str, name: str, value: str, bare: bool, start: int, end: int) -> Hit | None:
    if len(value) < (4 if kind == "password" else 16):
        return None
    if rejected(value) or (bare and is_code(value)) or "://" in value:
        return None
    shown = min(4, len(value) // 8)
    if kind == "password":
        lowered = value.lower()
        if (value.isdigit() or any(ch.isspace() for ch in value) or lowered in _words(name)
                or "pass" in lowered or "pwd" in lowered):  # ``"challengePassword"``: a name
            return None
        return Hit("password-assignment", start, end, PASSWORD_PRIORITY, shown, name)
    if kind == "aws" and _AWS_SECRET.fullmatch(value) and looks_random(value, 40):
        return Hit("aws-secret-key", start, end, AWS_PRIORITY, shown, name)
    if value.startswith("arn:") or _EMAIL.fullmatch(value) or not looks_random(value):
        return None
    if any(word in value.lower() for word in _SELF_NAMING):  # ``secret%3Dpassword``
        return None
    return Hit("high-entropy-assignment", start, end, SECRET_PRIORITY, shown, name)


def _words(name: str) -> list[str]:
    return [part.lower() for part in _PARTS.findall(name) if not part.isdigit()]


@functools.lru_cache(maxsize=4096)  # a log repeats its keys
def key_kind(name: str) -> str | None:
    """What a key's name says its value is: ``password``, ``aws`` (an AWS secret access
    key), ``secret`` (any other credential), or None (not a secret's name)."""
    words = _words(name)
    if not words or words[-1] in _NOT_SECRET_LAST or any(
            w in _PUBLIC or w.startswith(("public", "pubkey")) for w in words):
        return None
    if words[-1] == "pass" or any(w in _PASSWORD_WORDS or w.endswith(_PASSWORD_ENDINGS)
                                  for w in words):  # ``pass`` only last: ``pass_context``
        return "password"
    secret_at = [i for i, w in enumerate(words) if _secret_word(w)]
    if not all(i and words[i - 1] in _NOT_SECRET_QUALIFIERS for i in secret_at):
        if "secret" in words and ("aws" in words or "access" in words):
            return "aws"
        return "secret"
    return None


def _secret_word(word: str) -> bool:
    """``key``, ``token``, ``auth``…, or a compound of one: ``apikey``, ``accesstoken``."""
    if word in _SECRET_WORDS or word in _SECRET_ENDINGS:
        return True
    return any(word.endswith(ending) and word[:-len(ending)] in _STEMS
               for ending in _SECRET_ENDINGS)


def authorization_headers(text: str, low: str) -> Iterator[Hit]:
    """The credential of an ``Authorization: Bearer …`` (or Basic, token…) header."""
    if "authorization" not in low:
        return
    for match in _AUTH_HEADER.finditer(low):
        credential = _CREDENTIAL.match(text, match.end())
        if credential is None:
            continue
        value = credential.group()
        if rejected(value) or not (looks_random(value, 12) or _basic_pair(match.group(1), value)):
            continue
        yield Hit("authorization-header", match.end(), credential.end(), PASSWORD_PRIORITY,
                  min(4, len(value) // 8), "Authorization")


def _basic_pair(scheme: str, value: str) -> bool:
    """A Basic credential: base64 of ``user:password``."""
    if scheme != "basic":
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    _, colon, password = decoded.partition(":")
    return bool(colon and password) and not rejected(password)
