"""Send, redact or abort text that seems to hold a secret: the mode, the flags, the user.

``decide`` is the table; asking goes through an injected ``ask(findings) -> Action``,
None without a terminal (then "ask" aborts and the caller reports ``refusal``).
``ask_on_terminal`` is the question, its streams passed in. Nothing here scans,
redacts or exits: the caller does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TextIO

from chatcli.errors import UsageError
from chatcli.sanitize import visible
from chatcli.secrets.finding import Finding

if TYPE_CHECKING:
    from chatcli.output_guard import TextSink

SecretScanMode = Literal["ask", "redact", "refuse", "off"]
SECRET_SCAN_MODES: tuple[SecretScanMode, ...] = ("ask", "redact", "refuse", "off")
Action = Literal["send", "redact", "abort"]
Override = Literal["allow", "redact"]  # --allow-secrets, --redact-secrets
Ask = Callable[[Sequence[Finding]], Action]

HINT = "not sent (use --redact-secrets or --allow-secrets)"
_LISTED = 5  # findings named in a one-line summary
_SHOWN = 20  # findings listed in the terminal question


@dataclass(frozen=True)
class Decision:
    """What to do with the text, and whether the user was asked (an abort nobody was
    asked about is the caller's usage error, exit 2, with ``refusal(findings)``)."""

    action: Action
    findings: tuple[Finding, ...] = ()
    asked: bool = False


def override_from_flags(allow_secrets: bool, redact_secrets: bool) -> Override | None:
    """The override the flags ask for; both at once is a usage error."""
    if allow_secrets and redact_secrets:
        raise UsageError("--allow-secrets and --redact-secrets cannot be used together")
    if allow_secrets:
        return "allow"
    return "redact" if redact_secrets else None


def needs_scan(mode: SecretScanMode, override: Override | None = None) -> bool:
    """Whether to scan at all: not when the mode is "off" or the user allowed secrets,
    except that ``--redact-secrets`` scans whatever the mode."""
    if override == "redact":
        return True
    return mode != "off" and override != "allow"


def decide(findings: Sequence[Finding], mode: SecretScanMode, ask: Ask | None,
           override: Override | None = None) -> Decision:
    """Send, redact or abort: the flag's override first, then no findings (send), then the
    mode; "ask" asks on the terminal when there is one, and aborts when there is none."""
    if mode not in SECRET_SCAN_MODES:
        raise ValueError(f"unknown secret_scan mode {mode!r}")
    found = tuple(findings)
    if override == "allow" or not found:
        return Decision("send", found)
    if override == "redact" or mode == "redact":
        return Decision("redact", found)
    if mode == "off":
        return Decision("send", found)
    if mode == "refuse" or ask is None:
        return Decision("abort", found)
    return Decision(ask(found), found, asked=True)


def where(finding: Finding) -> str:
    """``stdin line 3``: the origin (made safe to show) and the line."""
    return f"{visible(finding.origin)} line {finding.line}"


def summary(findings: Sequence[Finding]) -> str:
    """One line naming what was found and where: for one finding ``stdin line 3 holds what
    looks like an AWS secret key (aws-secret-key)``, for several ``3 possible secrets:
    stdin line 3 (aws-secret-key), notes.env line 1 (github-token), …``."""
    if not findings:
        return "no possible secrets"
    if len(findings) == 1:
        only = findings[0]
        return f"{where(only)} holds what looks like {only.description} ({only.kind})"
    named = ", ".join(f"{where(f)} ({f.kind})" for f in findings[:_LISTED])
    more = len(findings) - _LISTED
    tail = f" and {more} more" if more > 0 else ""
    return f"{len(findings)} possible secrets: {named}{tail}"


def refusal(findings: Sequence[Finding]) -> str:
    """The usage error's message (after ``chatcli: error:``) when the text was not sent."""
    return f"{summary(findings)}; {HINT}"


def describe(finding: Finding) -> str:
    """One line for the terminal: where, the kind, the key it is assigned to, the preview."""
    key = f" in {visible(finding.name)}" if finding.name else ""
    return (f"{where(finding)}, column {finding.column}: {finding.kind}{key}:"
            f" {visible(finding.preview)}")


_ANSWERS: dict[str, Action] = {
    "s": "send", "send": "send", "r": "redact", "redact": "redact", "a": "abort",
    "abort": "abort",
}


def ask_on_terminal(stdin: TextIO, stdout: TextSink) -> Ask:
    """A line-by-line question: shows each finding (masked), then [s]end / [r]edact /
    [a]bort until one is chosen. The end of input means abort."""

    def ask(findings: Sequence[Finding]) -> Action:
        count = "1 possible secret" if len(findings) == 1 else f"{len(findings)} possible secrets"
        stdout.write(f"{count} in what is about to be sent:\n")
        for finding in findings[:_SHOWN]:
            stdout.write(f"  {describe(finding)}\n")
        if len(findings) > _SHOWN:
            stdout.write(f"  … and {len(findings) - _SHOWN} more\n")
        while True:
            stdout.write("Send it? [s]end / [r]edact / [a]bort: ")
            stdout.flush()
            line = stdin.readline()
            if not line:
                stdout.write("\n")
                return "abort"
            choice = line.strip().lower()
            if choice in _ANSWERS:
                return _ANSWERS[choice]
            stdout.write("Please answer s, r or a.\n")

    return ask
