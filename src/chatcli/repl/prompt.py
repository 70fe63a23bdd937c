"""The REPL's prompt: prompt-toolkit's keys, completion, toolbar and input history, and the
loop that hands each line to a ``ChatSession``.

Keys come from the terminal, from ``/dev/tty`` when stdin is a pipe; piped text becomes
context for the first message. What a line does is ``repl.ChatSession``'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Literal, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import has_focus
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input, create_input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output, create_output

from chatcli.config import data_dir
from chatcli.errors import UsageError
from chatcli.paths import create_private_file
from chatcli.repl.commands import COMMANDS, HISTORY_LIMIT, handle
from chatcli.repl.session import ChatSession, open_session
from chatcli.sanitize import visible
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest


class ChatCompleter(Completer):
    """Completes command names, then arguments: models, paths, conversation ids, words."""

    def __init__(self, session: ChatSession) -> None:
        self.session = session
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        name, space, rest = text[1:].partition(" ")
        if not space:
            for command, spec in COMMANDS.items():
                if command.startswith(name):
                    yield Completion(f"/{command}", -len(text), display_meta=spec.help)
        elif name in ("attach", "image", "save", "extract"):
            word = rest.rsplit(" ", 1)[-1]
            yield from self.paths.get_completions(Document(word, len(word)), complete_event)
        elif " " not in rest:
            for value, meta in self._choices(name):
                if value.lower().startswith(rest.lower()):
                    yield Completion(value, -len(rest), display_meta=visible(meta))

    def _choices(self, name: str) -> list[tuple[str, str]]:
        if name == "model":
            return [(model, "") for model in self.session.model_names_now()]
        if name == "template":
            from chatcli.repl.template_commands import template_names

            return template_names()
        if name == "load" and self.session.store is not None:
            found = self.session.store.conversations(HISTORY_LIMIT)
            return [*((c.id, c.title) for c in found),
                    *((c.name, c.title) for c in found if c.name)]
        words = {"reasoning": ("show", "hide"), "copy": ("code",)}.get(name, ())
        return [(word, "") for word in words]


def key_bindings() -> KeyBindings:
    """Enter sends (prompt-toolkit's own); these add new lines and the editor."""
    keys = KeyBindings()
    editing = has_focus(DEFAULT_BUFFER)

    @keys.add("escape", "enter", filter=editing)
    @keys.add("c-j", filter=editing)
    def _new_line(event: KeyPressEvent) -> None:
        event.current_buffer.newline(copy_margin=False)

    @keys.add("c-x", "c-e", filter=editing)
    def _edit(event: KeyPressEvent) -> None:
        event.current_buffer.open_in_editor()  # $VISUAL or $EDITOR; the text comes back

    return keys


def input_history(env: Environment) -> History:
    """Typed lines, kept in ``input_history`` in the data directory (created private)."""
    path = data_dir() / "input_history"
    try:
        create_private_file(path)
    except OSError as exc:
        env.warn(f"input history {path}: {exc.strerror}; lines are not kept")
        return InMemoryHistory()
    return FileHistory(str(path))


def build_prompt(session: ChatSession, *, input: Input | None = None,
                 output: Output | None = None, history: History | None = None
                 ) -> PromptSession[str]:
    """The prompt, reading ``input`` and drawing on ``output`` (the terminal by default)."""
    return PromptSession(
        "> ", history=input_history(session.env) if history is None else history,
        completer=ChatCompleter(session), complete_while_typing=False,
        complete_in_thread=True,  # the first GET /models must not freeze the keys
        key_bindings=key_bindings(), bottom_toolbar=session.toolbar, prompt_continuation=". ",
        input=input, output=output)


def run_loop(session: ChatSession, prompt: PromptSession[str]) -> None:
    """Read lines until /exit or Ctrl-D; Ctrl-C at the prompt clears the line."""
    while True:
        try:
            line = prompt.prompt(default=session.take_pending())
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        if not handle(session, line):
            return


def chat(request: AskRequest, env: Environment, *, piped: str = "", input: Input | None = None,
         output: Output | None = None, history: History | None = None) -> ChatSession:
    """The whole REPL on the given streams; returns the session as it ended."""
    with open_session(request, env, piped) as session:
        prompt = build_prompt(session, input=input, output=output, history=history)
        greet(env)
        if request.prompt:
            handle(session, " ".join(request.prompt), message=True)
        run_loop(session, prompt)
    return session


GREETING = "/help lists the commands and keys · Ctrl-D or /exit leaves"


def greet(env: Environment) -> None:
    """One dim line on a terminal: how to get help, how to leave."""
    if env.stdout_is_terminal:
        from chatcli.render.dim import dim_line

        dim_line(env.stdout, GREETING)


def run_chat(request: AskRequest, env: Environment | None = None) -> None:
    """``chatcli chat``: keys from the terminal, answers rendered on it."""
    env = env or Environment.from_process()
    from chatcli.session.extract import extracting

    if extracting(request) or request.lang is not None:
        raise UsageError("-x, --extract-last, --code and --lang are for one answer (chatcli ask)",
                         hint="In chat, /extract writes a code block of the last answer.")
    if request.copy or request.editor:
        raise UsageError("--copy and --editor are for one answer (chatcli ask)",
                         hint="In chat, /copy copies the last answer.")
    if request.dry_run or request.save is not None:  # as the one-shot command does them
        from chatcli.session.ask import run_ask

        run_ask(request, env)
        return
    with ExitStack() as closing:
        keys = env.stdin if _is_tty(env.stdin) else _open_tty(closing, "r")
        screen = env.stdout.stream if _is_tty(env.stdout.stream) else _open_tty(closing, "w")
        limit = int(request.max_attachment_mb * 1_048_576)
        piped = "" if env.stdin_is_terminal else env.read_stdin(limit)
        terminal = Environment(keys, screen, env.stderr, stdin_is_terminal=True,
                               stdout_is_terminal=True, stderr_is_terminal=env.stderr_is_terminal)
        chat(request, terminal, piped=piped, input=create_input(keys),
             output=create_output(screen))


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _open_tty(closing: ExitStack, mode: Literal["r", "w"]) -> TextIO:
    try:  # closed by the ExitStack
        stream = closing.enter_context(open("/dev/tty", mode, encoding="utf-8"))  # noqa: SIM115
    except OSError:
        raise UsageError("chatcli chat needs a terminal: stdin is not one, and there is"
                         " no /dev/tty",
                         hint="In a pipe or a script, use chatcli ask (or chatcli PROMPT)."
                         ) from None
    return stream
