"""Credentials in what the user is about to send: found, shown masked, redacted or refused.

``scan(text, origin)`` finds them (a cheap pre-filter first; the detailed rules
load only when it hits), ``redact`` cuts them out, ``decide`` applies the
``secret_scan`` mode and the flags, ``ask_on_terminal`` asks the user. Importing
this package loads no rules and reads nothing; nothing here sends or prints.
"""

from __future__ import annotations

from chatcli.secrets.decide import (
    SECRET_SCAN_MODES,
    Action,
    Ask,
    Decision,
    Override,
    SecretScanMode,
    ask_on_terminal,
    decide,
    describe,
    needs_scan,
    override_from_flags,
    refusal,
    summary,
)
from chatcli.secrets.detect import scan
from chatcli.secrets.finding import KINDS, Finding, redact
from chatcli.secrets.prefilter import might_contain_secrets

__all__ = [
    "KINDS",
    "SECRET_SCAN_MODES",
    "Action",
    "Ask",
    "Decision",
    "Finding",
    "Override",
    "SecretScanMode",
    "ask_on_terminal",
    "decide",
    "describe",
    "might_contain_secrets",
    "needs_scan",
    "override_from_flags",
    "redact",
    "refusal",
    "scan",
    "summary",
]
