"""Telling a user who looked away that chatcli has something for them.

When an answer, or a question about running a tool, comes after the threshold
(``--notify``: any time; ``notify_after`` in config.toml: that many seconds), the
terminal bell rings and, where a desktop notifier exists (``notify-send``,
``osascript``), a notification shows the first words. Off unless asked for.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from chatcli.session.environment import Environment
    from chatcli.tools import Approval, Ask, RequestedCall

Clock = Callable[[], float]
T = TypeVar("T")
U = TypeVar("U")
FIRST_WORDS = 12


class Notifier:
    """Rings and notifies for what arrives ``after`` seconds or more since ``reset``."""

    def __init__(self, after: float, ring: Callable[[], None],
                 desktop: Callable[[str], None] | None, clock: Clock = time.monotonic) -> None:
        self.after, self.ring, self.desktop, self.clock = after, ring, desktop, clock
        self.started = clock()

    def reset(self) -> None:
        """The user just asked: time counts from now."""
        self.started = self.clock()

    def arrived(self, text: str) -> None:
        if self.clock() - self.started < self.after:
            return
        self.ring()
        if self.desktop is not None:
            self.desktop(first_words(text) or "chatcli is done")

    def before(self, ask: Callable[[T], U], what: Callable[[T], str]) -> Callable[[T], U]:
        """``ask``, announced first: a question waiting for the user counts as arrived."""

        def announced(question: T) -> U:
            self.arrived(what(question))
            return ask(question)

        return announced


    def asking(self, ask: Ask) -> Ask:
        """``ask`` (the question about a tool call), with the bell first."""
        return self.before(ask, _tool_question)

    def announce_questions(self, approval: Approval) -> None:
        """Ring before ``approval`` asks the user about a tool call."""
        if approval.ask is not None:
            approval.ask = self.asking(approval.ask)


def _tool_question(call: RequestedCall) -> str:
    return f"run {call.name}? (a tool call waits)"


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def notifier_for(env: Environment, flag: bool, after: float | None) -> Notifier | None:
    """The notifier ``--notify`` or ``notify_after`` asks for, or None."""
    if not flag and after is None:
        return None
    return Notifier(0.0 if flag else float(after or 0), _bell(env), desktop_notifier())


def _bell(env: Environment) -> Callable[[], None]:
    stream = env.stderr if env.stderr_is_terminal else (
        env.stdout if env.stdout_is_terminal else None)

    def ring() -> None:
        if stream is not None:
            stream.write_trusted("\a")  # chatcli's own bell, past the guard on purpose
            stream.flush()

    return ring


def desktop_notifier() -> Callable[[str], None] | None:
    """``notify-send`` or (on macOS) ``osascript``, whichever is there; None if neither."""
    command: Callable[[str], list[str]] | None = None
    if shutil.which("notify-send"):
        def command(text: str) -> list[str]:
            return ["notify-send", "--app-name=chatcli", "chatcli", text]
    elif sys.platform == "darwin" and shutil.which("osascript"):
        def command(text: str) -> list[str]:
            quoted = text.replace("\\", "\\\\").replace('"', '\\"')
            return ["osascript", "-e", f'display notification "{quoted}" with title "chatcli"']
    if command is None:
        return None
    make = command

    def notify(text: str) -> None:
        # A notification is a courtesy: it never fails the answer.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(make(text), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=5, check=False)

    return notify
