"""Judging one candidate value: placeholder, template, code, or random enough to be a secret.

Pure string tests shared by the detailed rules (``tokens``, ``assignments``); they
keep ordinary code and documentation from being flagged. Nothing here finds
candidates in a text or knows where they came from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise

# Whole values that only stand in for a secret.
PLACEHOLDER_WORDS = frozenset({
    "password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey", "api_key",
    "changeme", "change_me", "change-me", "changeit", "default", "admin", "root", "user",
    "username", "test", "testing", "example", "sample", "dummy", "fake", "mock", "none",
    "null", "nil", "true", "false", "yes", "no", "undefined", "empty", "required",
    "optional", "hidden", "masked", "redacted", "removed", "value", "string", "str",
    "bytes", "int", "bool", "any", "secretstr", "foo", "bar", "baz", "foobar", "qwerty",
    "letmein", "todo", "tbd", "unset", "missing", "invalid", "wrong", "bad", "good",
})
# Parts that mark a value as a stand-in wherever they occur in it.
_PLACEHOLDER_PARTS = re.compile(
    r"(?i)example|changeme|change_me|change-me|placeholder|your[_-]?(?:own[_-]?)?"
    r"(?:api|key|token|secret|pass|password|real)|xxxx|\*\*\*|\.\.\.|…|redacted|"
    r"replace[_-]?me|insert[_-]|dummy|fake|sample|12345|abcdef|0{8}"
)
_TEMPLATE = re.compile(
    r"\$\{|\$\(|^\$[A-Za-z_]|\{\{|\}\}|%\(|%[sd]\b|%[A-Za-z_]+%|#\{|<[^<>]*>|"
    r"\{[A-Za-z_][A-Za-z0-9_.]*\}|@@|^\{\}$"
)
_TEST_PREFIX = ("test", "dummy", "fake", "mock", "sample", "example", "demo")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_CODE_CHAIN = re.compile(r"[A-Za-z_]+|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_CODE_MARKS = frozenset("()[]{}<>`")
_WORD_RUN = re.compile(r"[A-Z]?[a-z]{3,}")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_VOWELS = frozenset("aeiouy")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` stands in for a secret (``changeme``, ``xxxx``, ``<your-key>``,
    ``...``, one character repeated) or is an obvious test value."""
    lowered = value.lower()
    if lowered.rstrip("0123456789!_-.") in PLACEHOLDER_WORDS or lowered.startswith(_TEST_PREFIX):
        return True
    if len(set(value.strip("-_=*. "))) <= 1:
        return True
    return _PLACEHOLDER_PARTS.search(value) is not None


def is_template(value: str) -> bool:
    """Whether ``value`` is filled in later: ``${VAR}``, ``$VAR``, ``{{ x }}``, ``%(x)s``,
    ``{name}``, ``<name>``, ``$(command)``."""
    return _TEMPLATE.search(value) is not None


def is_path(value: str) -> bool:
    """Whether ``value`` names a file rather than holding a secret."""
    return value.startswith(("/", "~/", "./", "../", "file:")) or (
        len(value) > 2 and value[1] == ":" and value[2] in "\\/")


def is_env_name(value: str) -> bool:
    """``OPENAI_API_KEY``: the name of a variable that holds the secret, not the secret."""
    return _ENV_NAME.fullmatch(value) is not None


def is_code(value: str) -> bool:
    """Whether an unquoted value reads as code: a call, an index, an attribute chain or a
    bare name (``getpass()``, ``os.environ["X"]``, ``args.token``, ``None``, ``str``)."""
    if not _CODE_MARKS.isdisjoint(value):
        return True
    return _CODE_CHAIN.fullmatch(value) is not None


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def _entropy_floor(value: str) -> float:
    """The least entropy a random value of this length and alphabet has (bar ~1%)."""
    if _HEX.fullmatch(value):
        return 2.8
    return min(3.6, 0.75 * math.log2(len(value)))


def _wordy(value: str) -> bool:
    """Whether most letters of ``value`` sit in runs that read like words (a vowel in
    every few letters: ``myAppProduction``); a value with many digits never does."""
    letters = sum(ch.isalpha() for ch in value)
    digits = sum(ch.isdigit() for ch in value)
    if not letters or digits * 10 > len(value):
        return False
    in_words = sum(len(run) for run in _WORD_RUN.findall(value)
                   if sum(ch in _VOWELS for ch in run.lower()) >= 0.3 * len(run))
    return in_words >= 0.6 * letters


def _case_flips(value: str) -> int:
    return sum(a.isupper() != b.isupper() for a, b in pairwise(value)
               if a.isalpha() and b.isalpha())


def looks_random(value: str, min_length: int = 16) -> bool:
    """Whether ``value`` is long and random enough to be a key: letters and digits mixed
    (or a letters-only value that flips case like noise), not cut into short parts,
    entropy near what a random string of that length has, and not made of words."""
    if len(value) < min_length or any(ch.isspace() for ch in value):
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    if not has_alpha:
        return False
    if not has_digit and _case_flips(value) < len(value) // 3:
        return False
    longest = max((len(run) for run in _ALNUM_RUN.findall(value)), default=0)
    separators = [ch for ch in value if not ch.isalnum()]
    if longest < 10 and len(set(separators)) < 4 and len(separators) > 0.15 * len(value):
        return False  # ``v1.2.3-beta.4``, ``2024-10-10T13:55:01Z``: short parts, many dots
    if entropy(value) < _entropy_floor(value):
        return False
    return not _wordy(value)


def rejected(value: str) -> bool:
    """The checks every value goes through: empty, placeholder, template, path, YAML
    syntax (``!vault``, ``*alias``, ``|``), a variable's name, a ``password1``."""
    if not value or value[0] in "!&*|>#:=":
        return True
    return is_placeholder(value) or is_template(value) or is_path(value) or is_env_name(value)
