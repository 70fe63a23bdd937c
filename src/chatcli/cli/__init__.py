"""The command line's one error boundary: every failure becomes an exit code.

``run`` invokes the Typer app without Click's standalone handling, so each
exception is mapped here, once: chatcli's own errors print one line,
``chatcli: error: …`` (``--debug`` adds the traceback); Ctrl-C exits 130; a
reader that closed stdout gets a quiet 141.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from chatcli.errors import (
    ChatcliError,
    ExitCode,
    HangupSignal,
    Interrupted,
    OutputClosed,
    TerminateSignal,
    UsageError,
)
from chatcli.output_guard import guard_stream, stream_is_terminal
from chatcli.sanitize import redact_secrets


def run(argv: Sequence[str] | None = None) -> None:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and exit."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.exit(main(args))


def main(args: list[str]) -> int:
    """Run the CLI and return its exit code instead of exiting."""
    command = _command_for(args)
    debug = "--debug" in args
    _whole_writes()
    previous = {signum: signal.signal(signum, handler) for signum, handler in (
        (signal.SIGTERM, _on_terminate), (signal.SIGHUP, _on_hangup))}
    try:
        undecodable = _undecodable_argument(args)
        if undecodable is not None:
            return report(UsageError(undecodable), debug)
        return _invoke(command, args, debug)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _command_for(args: list[str]) -> Any:
    """The Click command to run ``args``: for a prompt, the app of ``ask`` alone (building
    every command's options costs a plain prompt about 30 ms); else the whole app."""
    from typer.main import get_command

    from chatcli.cli.command_words import COMMAND_WORDS, ROOT_OPTIONS, is_prompt

    # A word that names another command, or a root option: the whole app, at once.
    if args and args[0] not in ROOT_OPTIONS and (args[0] == "ask"
                                                 or args[0] not in COMMAND_WORDS):
        from chatcli.cli.app_root import new_app

        only_ask = get_command(new_app(chat=False))
        if is_prompt(only_ask.commands["ask"], args):  # type: ignore[attr-defined]
            return only_ask
    from chatcli.cli.app import app

    return get_command(app)


def _whole_writes() -> None:
    """Make every write to stdout and stderr complete or fail.

    Under ``PYTHONUNBUFFERED`` (``python -u``) the text streams sit on raw files,
    whose ``write`` may take part of the data and drop the rest unseen: a reader
    that closed early (``| head -c1``) would then go unnoticed. A buffered writer
    in between writes everything, or raises ``BrokenPipeError``.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        raw = getattr(stream, "buffer", None)
        if isinstance(stream, io.TextIOWrapper) and isinstance(raw, io.RawIOBase):
            setattr(sys, name, io.TextIOWrapper(
                io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors,
                line_buffering=stream.line_buffering, write_through=True))


def _undecodable_argument(args: list[str]) -> str | None:
    """A usage error for the first argument that is not UTF-8 (Python keeps its bytes as
    lone surrogates), naming it; None when every argument is text."""
    for position, arg in enumerate(args, start=1):
        if any("\udc80" <= char <= "\udcff" for char in arg):
            raw = arg.encode("utf-8", "surrogateescape")
            return f"argument {position} is not UTF-8 text: {raw!r}"
    return None


def _invoke(command: Any, args: list[str], debug: bool) -> int:
    from typer._click.exceptions import ClickException
    from typer._click.exceptions import UsageError as ClickUsageError
    from typer.exceptions import Abort

    try:
        outcome = command.main(args, prog_name="chatcli", standalone_mode=False)
    except ClickUsageError as exc:  # it may quote argv: through the guard like everything else
        path = exc.ctx.command_path if exc.ctx is not None else "chatcli"
        _write_err(f"chatcli: error: {exc.format_message()}\nTry '{path} --help'.\n")
        return int(exc.exit_code)
    except ClickException as exc:
        _write_err(f"chatcli: error: {exc.format_message()}\n")
        return int(exc.exit_code)
    except OutputClosed:
        return _closed_stdout()
    except Interrupted as exc:
        _write_err(f"chatcli: {exc.message}\n")
        return int(exc.exit_code)
    except ChatcliError as exc:
        if isinstance(exc, UsageError) and exc.hint is None:
            exc.hint = f"Try '{_command_path(command, args)} --help'."
        return report(exc, debug)
    except Abort:  # end of input where input was asked for
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the last resort: still one line, and the code for a bug
        if debug:
            _write_traceback()
        _write_err(f"chatcli: error: internal error: {type(exc).__name__}: {exc}"
                   f"{'' if debug else ' (run with --debug for a traceback)'}\n")
        return ExitCode.INTERNAL
    return outcome if isinstance(outcome, int) else ExitCode.OK


def report(exc: ChatcliError, debug: bool) -> int:
    if debug:
        _write_traceback()
    hint = f"{exc.hint}\n" if exc.hint else ""
    _write_err(f"chatcli: error: {exc.describe()}\n{hint}")
    return int(exc.exit_code)


def _command_path(command: Any, args: list[str]) -> str:
    """``chatcli ask``, ``chatcli history show``: the command ``args`` ran, for a hint."""
    from chatcli.cli.command_words import command_line

    try:
        words = command_line(command.commands, command.commands["ask"], args)
    except UsageError:
        words = ["ask"]
    path, current = ["chatcli"], command
    for word in words:
        current = getattr(current, "commands", {}).get(word)
        if current is None:
            break
        path.append(word)
    return " ".join(path)


def _on_terminate(signum: int, frame: object) -> None:
    raise TerminateSignal()


def _on_hangup(signum: int, frame: object) -> None:
    """The terminal went away: nobody is left to read, so output goes nowhere from now on,
    and the turn unwinds as for SIGTERM, keeping what arrived."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    raise HangupSignal()


def _write_traceback() -> None:
    import traceback  # only when asked for: it costs start-up time

    _write_err(traceback.format_exc())


def _write_err(text: str) -> None:
    """stderr, through the guard (server text in an error is escaped on a terminal), with
    every secret chatcli knows redacted (a traceback may quote a key or a header)."""
    from chatcli.config import terminal_variables

    stderr = guard_stream(sys.stderr, stream_is_terminal(sys.stderr, terminal_variables()))
    try:
        stderr.write(redact_secrets(text))
        stderr.flush()
    except (OSError, ValueError):
        pass


def _closed_stdout() -> int:
    # The reader went away (``chatcli … | head``): be quiet, and stop Python
    # from complaining when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return ExitCode.BROKEN_PIPE
