"""The cheap first look: could this text hold a credential at all?

Substring tests for the markers every token rule needs (``-----BEGIN ``, ``AKIA``,
``ghp_``, ``sk-``…) and one literal-prefixed search per secret word followed by
``=`` or ``:``: each one pass in C. A miss means no rule can match, so the detailed
rules are never imported. Nothing here decides what is a secret.
"""

from __future__ import annotations

import re

# Every token rule starts with one of these (case as written): substrings, and
# regexes whose branches share a literal prefix (so each is one fast pass too).
ANCHORS = ("-----BEGIN ", "hooks.slack.com/", "sk-", "k_live_", "eyJ", "AccountKey=",
           "SharedAccessKey=", "npm_", "pypi-AgE", "glpat-", "hf_", "AIza")
ANCHOR_PATTERNS = (re.compile(r"A(?:KIA|SIA|BIA|CCA)"), re.compile(r"gh[pousr]_|github_pat_"),
                   re.compile(r"x(?:ox[a-z]|app)-"))
# Every key=value rule needs one of these words in the key (compared in lower case).
WORDS = ("key", "secret", "token", "pass", "pwd", "cred", "auth", "private")
# A secret word, the rest of the key, and ``=`` or ``:`` (in the lower-cased text).
ASSIGNED = {word: re.compile(re.escape(word) + r"[a-z0-9_.-]{0,40}[\"']?[ \t]{0,4}[:=]")
             for word in WORDS}
_URL_PASSWORD = re.compile(r"://[^\s/?#@:]{0,128}:[^\s/?#@]{1,256}@")


def lowered(text: str) -> str:
    """``text`` in lower case with every offset kept (only U+0130 grows in ``lower``)."""
    low = text.lower()
    if len(low) != len(text):
        low = text.replace("\u0130", "I").lower()
    return low


def might_contain_secrets(text: str) -> bool:
    """False when no detection rule can match ``text``; True means "run the rules"."""
    if any(anchor in text for anchor in ANCHORS):
        return True
    if any(pattern.search(text) for pattern in ANCHOR_PATTERNS):
        return True
    if "://" in text and "@" in text and _URL_PASSWORD.search(text):
        return True
    if ":" not in text and "=" not in text:
        return False
    low = lowered(text)
    return any(word in low and ASSIGNED[word].search(low) for word in WORDS)
