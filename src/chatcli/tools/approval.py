"""Who may run a tool call: approved in advance, asked about, or refused.

Nothing runs unasked unless the user said so (``--yes``, ``--approve NAME``).
Asking goes through an injected ``ask(call) -> Decision``; without one (no
terminal) an unapproved call is refused at once, never left waiting, and the
refusal goes back to the model as the call's result. ``ask_on_terminal`` is
the line-based prompt; its streams are passed in so tests can drive it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TextIO

from chatcli.sanitize import visible
from chatcli.tools.definitions import RequestedCall

if TYPE_CHECKING:
    from chatcli.output_guard import TextSink

DecisionKind = Literal["yes", "no", "always", "edit"]


@dataclass(frozen=True)
class Decision:
    """The user's answer about one call; ``arguments`` is the new JSON text for ``edit``."""

    kind: DecisionKind
    arguments: str | None = None


YES = Decision("yes")
NO = Decision("no")
ALWAYS = Decision("always")


def edit(arguments: str) -> Decision:
    """Run the call with these arguments (JSON text) instead of the model's."""
    return Decision("edit", arguments)


Ask = Callable[[RequestedCall], Decision]

DECLINED = "refused: the user declined to run this tool call"
NO_TERMINAL = ("refused: this tool call needs the user's approval, and there is no terminal"
               " to ask on (approve it in advance to let it run)")


@dataclass(frozen=True)
class Verdict:
    """Whether a call runs, with which arguments, or why not."""

    approved: bool
    arguments: str
    refusal: str = ""


class Approval:
    """Approves everything, named tools, or whatever ``ask`` says yes to."""

    def __init__(self, *, approve_all: bool = False, approved: Iterable[str] = (),
                 ask: Ask | None = None) -> None:
        self.approve_all = approve_all
        self.approved = set(approved)
        self.ask = ask

    def review(self, call: RequestedCall) -> Verdict:
        """Decide about one call; asks the user when it is not approved in advance."""
        if self.approve_all or call.name in self.approved:
            return Verdict(True, call.arguments)
        if self.ask is None:
            return Verdict(False, call.arguments, NO_TERMINAL)
        decision = self.ask(call)
        if decision.kind == "always":
            self.approved.add(call.name)
        if decision.kind == "edit" and decision.arguments is not None:
            return Verdict(True, decision.arguments)
        if decision.kind in ("yes", "always"):
            return Verdict(True, call.arguments)
        return Verdict(False, call.arguments, DECLINED)


_ANSWERS: dict[str, Decision] = {
    "y": YES, "yes": YES, "n": NO, "no": NO, "a": ALWAYS, "always": ALWAYS,
}


def ask_on_terminal(stdin: TextIO, stdout: TextSink) -> Ask:
    """A line-by-line prompt: y(es), n(o), a(lways for this tool), e(dit the arguments).

    The end of input means no, so a closed terminal can never leave a call waiting.
    """

    def ask(call: RequestedCall) -> Decision:
        name = visible(call.name)  # model text: its control characters are not obeyed
        stdout.write(f"tool call: {name}({visible(_compact(call.arguments))})\n")
        while True:
            answer = _read(stdin, stdout, f"Run {name}? [y]es / [n]o / [a]lways"
                                          f" for {name} / [e]dit arguments: ")
            if answer is None:
                return NO
            choice = answer.strip().lower()
            if choice in _ANSWERS:
                return _ANSWERS[choice]
            if choice in ("e", "edit"):
                arguments = _read_arguments(stdin, stdout)
                if arguments is None:
                    return NO
                if arguments:
                    return edit(arguments)
                continue  # an empty line goes back to the question
            stdout.write("Please answer y, n, a or e.\n")

    return ask


def _read_arguments(stdin: TextIO, stdout: TextSink) -> str | None:
    """A JSON object typed on one line; '' to go back, None at the end of input."""
    while True:
        line = _read(stdin, stdout, "New arguments (a JSON object, empty to go back): ")
        if line is None or not line.strip():
            return None if line is None else ""
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:
            stdout.write(f"Not valid JSON: {exc}\n")
            continue
        if not isinstance(value, dict):
            stdout.write("The arguments must be a JSON object.\n")
            continue
        return line.strip()


def _read(stdin: TextIO, stdout: TextSink, prompt: str) -> str | None:
    stdout.write(prompt)
    stdout.flush()
    line = stdin.readline()
    return line if line else None


SHOWN_ARGUMENTS = 2000  # characters of a call's arguments on the question's line


def _compact(arguments: str) -> str:
    """The arguments on one line, cut to what a question can show (the whole call is in the
    history, and ``e`` lets the user replace them)."""
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        text = arguments
    if len(text) <= SHOWN_ARGUMENTS:
        return text
    return f"{text[:SHOWN_ARGUMENTS]}… ({len(text):,} characters in all)"
