"""``chatcli cmd``: one command for the user's shell, shown, then run only when asked.

The model is asked for the command alone (``shell_prompt``); on a terminal it is
shown highlighted, a dangerous one in red with the reason (``shell_danger``), and
the user chooses: execute, revise, describe, copy or quit. Without a terminal
nothing runs: the command is printed for the script that asked. Every command made
is stored with whether it was run and its exit status.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TextIO

from chatcli.errors import ProtocolError, UsageError
from chatcli.protocol.messages import Message, build_request
from chatcli.protocol.result import TurnResult
from chatcli.session.environment import Environment
from chatcli.session.shell_danger import danger
from chatcli.session.shell_prompt import DESCRIBE, clean_command, shell_name
from chatcli.session.shell_request import CmdRequest, Opening, checked, opening
from chatcli.session.terminal_question import typed_line as _line

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.history import ConversationRecorder
    from chatcli.output_guard import GuardedStream

MENU = "[e]xecute / [r]evise / [d]escribe / [c]opy / [q]uit: "
CHOICES = {"e": "execute", "execute": "execute", "r": "revise", "revise": "revise",
           "d": "describe", "describe": "describe", "c": "copy", "copy": "copy",
           "q": "quit", "quit": "quit"}
def run_cmd(request: CmdRequest, env: Environment | None = None) -> int:
    """Make the command, then print it, or show it and do what the user chooses; the
    exit status is the command's when it ran, else 0."""
    from chatcli.config import user_shell
    from chatcli.session.connect import open_client
    from chatcli.session.conversation import open_history

    env = env or Environment.from_process()
    login_shell = user_shell()
    shell = shell_name(request.shell, login_shell)
    first = opening(request, env, shell)
    settings, messages = first.settings, first.messages
    if request.dry_run:
        from chatcli.session.dry_run import show_request

        with open_client(env, settings, headers=request.headers, verbose=request.verbose,
                         ca_bundle=request.ca_bundle, insecure=request.insecure) as client:
            show_request(client, build_request(settings, messages, first.fields, stream=True), env,
                         request.trace_id)
        return 0
    opened = open_history(settings, env, wanted=request.history)
    recorder = opened.recorder(settings)
    try:
        with open_client(env, settings, headers=request.headers, verbose=request.verbose,
                         ca_bundle=request.ca_bundle, insecure=request.insecure) as client:
            making = _Maker(client, settings, env, recorder, request.trace_id, first)
            command = making.command(messages)
            asking = env.question_streams() if env.stdout_is_terminal else None
            if asking is None or not request.interaction:
                env.stdout.write(command + "\n")
                making.outcome({"ran": False})
                return 0
            return _choose(command, shell, _runner(shell, login_shell), making, messages,
                           env, asking, yes=request.yes)
    finally:
        if recorder is not None and recorder.failed is not None:
            env.warn(f"the history was not saved: {recorder.failed.describe()}")
        if opened.store is not None:
            opened.store.close()


def _choose(command: str, shell: str, runner: list[str], making: _Maker,
            messages: list[Message], env: Environment,
            asking: tuple[TextIO, GuardedStream], *, yes: bool) -> int:
    from chatcli.render.command_view import show_command
    from chatcli.render.console import terminal_console

    keys, screen = asking
    console = terminal_console(env.stdout)
    while True:
        reason = danger(command)
        show_command(console, command, shell, reason)
        choice = "execute" if yes else _ask(keys, screen, MENU, CHOICES)
        yes = False  # once: after a revision or a refusal, the menu asks
        if choice == "execute":
            if reason is not None and _line(keys, screen, "type yes to run it: ") != "yes":
                screen.write("not run: only yes, typed in full, runs it\n")
                screen.flush()
                continue
            status = subprocess.run([*runner, command], check=False).returncode
            making.outcome({"ran": True, "exit_status": status})
            return status
        if choice == "quit":
            making.outcome({"ran": False})
            return 0
        if choice == "copy":
            from chatcli.session.clipboard import copy_text

            copy_text(env, command, terminal=env.stdout)  # OSC 52
            screen.write(f"copied {len(command)} characters to the clipboard\n")
            screen.flush()
        elif choice == "describe":
            making.describe(messages)
        else:
            change = _line(keys, screen, "revise: ")
            if change:
                from chatcli.session.outgoing import Piece

                try:
                    text = checked([Piece("the revision", change)], making.policy, env)[0]
                except UsageError as exc:  # refused: the command shown stays the choice
                    screen.write(f"not sent: {exc}\n")
                    screen.flush()
                    continue
                messages.append({"role": "user", "content": text})
                command = making.command(messages)


def _runner(shell: str, login_shell: str | None) -> list[str]:
    """How the command runs: the login shell when it is the one asked for, else that
    shell from PATH (``pwsh -Command``, the others ``-c``)."""
    path = login_shell if login_shell and PurePath(login_shell).name == shell else (
        shutil.which(shell) or shutil.which("sh") or "/bin/sh")
    return [path, "-Command" if shell == "pwsh" else "-c"]


def _ask(keys: TextIO, screen: GuardedStream, question: str, answers: dict[str, str]) -> str:
    while True:
        line = _line(keys, screen, question, end="quit")
        if line.lower() in answers:
            return answers[line.lower()]
        screen.write("Please answer e, r, d, c or q.\n")


class _Maker:
    """Asks the model, within one conversation, and records each exchange."""

    def __init__(self, client: ChatClient, settings: Settings, env: Environment,
                 recorder: ConversationRecorder | None, trace_id: str | None,
                 first: Opening) -> None:
        self.client, self.settings, self.env = client, settings, env
        self.recorder, self.trace_id = recorder, trace_id
        self.fields, self.policy = first.fields, first.policy
        self.row: int | None = None  # the stored answer that holds the last command

    def command(self, messages: list[Message]) -> str:
        """A command for the conversation so far, which then ends with it."""
        from chatcli.render.command_view import Waiting
        from chatcli.render.console import terminal_console

        console = terminal_console(self.env.stderr) if self.env.stderr_is_terminal else None
        result = self._turn(messages, Waiting(console))
        command = clean_command(str(result.message.get("content") or ""))
        if not command:
            raise ProtocolError("the model gave no command")
        messages.append({"role": "assistant", "content": command})
        self.row = self.recorder.last_reply if self.recorder is not None else None
        return command

    def describe(self, messages: list[Message]) -> None:
        """What the last command does, streamed; the exchange joins the conversation, so
        a revision after it knows what was explained."""
        from chatcli.session.output import make_renderer

        messages.append({"role": "user", "content": DESCRIBE})
        renderer = make_renderer("auto", "hide", self.env, choices=1,
                                 model=self.settings.model)
        result = self._turn(messages, renderer)
        messages.append({"role": "assistant", "content": str(result.message.get("content")
                                                              or "")})

    def outcome(self, outcome: dict[str, Any]) -> None:
        """What became of the last command made (run or not, and its exit status)."""
        if self.recorder is not None:
            self.recorder.record_outcome(outcome, self.row)

    def _turn(self, messages: Sequence[Message], renderer: Any) -> TurnResult:
        from chatcli.engine.turn import run_turn
        from chatcli.session.output import report_outcome

        body = build_request(self.settings, messages, self.fields, stream=True)
        result = run_turn(self.client, body, renderer, trace_id=self.trace_id,
                          recorder=self.recorder)
        report_outcome(result, self.env, usage=False)
        return result
