"""What the user is about to send, checked for credentials before anything goes out.

Each piece of text (the prompt, stdin, a file, a text attachment) is scanned on
its own, so a finding names its file and line and redaction touches only that
piece; then the ``secret_scan`` mode and the flags decide: send, redact, or
abort. Nothing is sent before the decision, and what is sent (redacted or not)
is what the history keeps. Used by ``ask`` and the REPL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from chatcli.errors import UsageError

if TYPE_CHECKING:
    from chatcli.secrets import Ask, Override, SecretScanMode
    from chatcli.session.environment import Environment


@dataclass(frozen=True)
class Piece:
    """One source of outgoing text; with a ``label`` it goes out as a fenced file."""

    origin: str  # "the prompt", "stdin", a path: what a finding is said to be in
    text: str
    label: str | None = None
    checked: bool = False  # checked already (the REPL's command-line context): sent as is

    def render(self) -> str:
        if self.label is None:
            return self.text
        from chatcli.media.attachments import fence

        return fence(self.label, self.text)


@dataclass(frozen=True)
class SecretPolicy:
    """How to treat credentials found in what is sent: the mode, the flags, who to ask."""

    mode: str = "ask"
    allow: bool = False  # --allow-secrets
    redact: bool = False  # --redact-secrets
    ask: Ask | None = None

    def override(self) -> Override | None:
        from chatcli.secrets import override_from_flags

        return override_from_flags(self.allow, self.redact)


def check(pieces: Sequence[Piece], policy: SecretPolicy) -> tuple[list[Piece], str | None]:
    """The pieces to send, as they are or with each finding replaced by a placeholder, and
    a line saying what was redacted (None when nothing was).

    Raises ``UsageError`` when the text must not go: refused (no terminal to ask on, or
    ``secret_scan = "refuse"``, naming what was found and where), or aborted by the user.
    """
    mode = cast("SecretScanMode", policy.mode)
    override = policy.override()
    from chatcli.secrets import might_contain_secrets, needs_scan

    if not needs_scan(mode, override) or not any(
            might_contain_secrets(p.text) for p in pieces if not p.checked):
        return list(pieces), None  # the usual case: a pre-filter pass, no rule loaded
    from chatcli.secrets import decide, redact, refusal, scan, summary

    found = [[] if piece.checked else scan(piece.text, piece.origin) for piece in pieces]
    decision = decide([f for fs in found for f in fs], mode, policy.ask, override)
    if decision.action == "abort":
        if decision.asked:
            raise UsageError("not sent: the secret check was answered with abort")
        raise UsageError(refusal(decision.findings))
    if decision.action == "send":
        return list(pieces), None
    redacted = [replace(piece, text=redact(piece.text, findings)) if findings else piece
                for piece, findings in zip(pieces, found, strict=True)]
    return redacted, f"redacted before sending: {summary(decision.findings)}"


def terminal_policy(env: Environment, mode: str, *, allow: bool, redact: bool) -> SecretPolicy:
    """The policy for a command: it asks on the terminal when there is one (even with stdin
    piped, through ``/dev/tty``), else nobody is asked."""
    streams = env.question_streams() if mode == "ask" and not (allow or redact) else None
    ask = None
    if streams is not None:
        from chatcli.secrets import ask_on_terminal

        ask = ask_on_terminal(*streams)
    return SecretPolicy(mode, allow, redact, ask)
