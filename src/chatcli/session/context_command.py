"""``-f '!COMMAND'``: a command the user wrote, run in their shell, its stdout inlined.

On a terminal (stdin and stderr both) the user is asked first unless ``--yes``; in a
pipe it runs without asking, since the user wrote it. It runs with stdin closed, for
at most ``TIME_LIMIT`` seconds and ``max_bytes`` of output; a failure, a timeout or
too much output is a ``UsageError`` (a failure's stderr shown through the sanitiser).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
from typing import IO, TYPE_CHECKING

from chatcli.errors import UsageError
from chatcli.sanitize import redact_secrets, visible

if TYPE_CHECKING:
    from chatcli.session.environment import Environment

TIME_LIMIT = 60.0
STDERR_LINES = 5  # of a failed command's stderr, shown in the error


def command_output(command: str, env: Environment, *, yes: bool, max_bytes: int,
                   over: str) -> str:
    """The command's stdout as text, once the user said yes (or was not asked)."""
    if not command.strip():
        raise UsageError("-f '!': give a command after the !, e.g. -f '!git diff'")
    if not yes and env.stdin_is_terminal and env.stderr_is_terminal:
        _confirm(command, env)
    from chatcli.config import user_shell

    shell = user_shell() or "/bin/sh"
    out, status, errors = _run([shell, "-c", command], command, max_bytes, over)
    if status != 0:
        tail = "\n".join(errors.decode("utf-8", "replace").rstrip().splitlines()[-STDERR_LINES:])
        shown = f":\n{visible(redact_secrets(tail))}" if tail else " (nothing on stderr)"
        raise UsageError(f"-f '!{visible(command)}': exited with status {status}{shown}")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"-f '!{visible(command)}': its output is not UTF-8 text"
                         f" ({exc.reason})") from None


def _confirm(command: str, env: Environment) -> None:
    from chatcli.session.terminal_question import typed_line

    streams = env.question_streams()
    if streams is None:
        return
    answer = typed_line(*streams, f"Run `{visible(command)}` and send its output? [y/N] ")
    if answer.lower() not in ("y", "yes"):
        raise UsageError(f"-f '!{visible(command)}': not run, nothing sent")


def _run(argv: list[str], command: str, max_bytes: int,
         over: str) -> tuple[bytes, int, bytes]:
    """stdout (at most ``max_bytes``), the exit status and stderr; killed past either
    limit. stderr goes to a temporary file, so a chatty command never blocks on it."""
    with tempfile.TemporaryFile() as errors:
        try:
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=errors)
        except OSError as exc:
            raise UsageError(f"-f '!{visible(command)}': cannot start {argv[0]}:"
                             f" {exc.strerror or exc}") from None
        assert child.stdout is not None
        chunks: list[bytes] = []
        reader = threading.Thread(target=_read, args=(child, child.stdout, chunks, max_bytes),
                                  daemon=True)
        reader.start()
        try:
            status = child.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise UsageError(f"-f '!{visible(command)}': still running after"
                             f" {TIME_LIMIT:g}s; stopped") from None
        finally:
            reader.join(TIME_LIMIT)  # a background job may hold stdout open: not for ever
            child.stdout.close()
        out = b"".join(chunks)
        if len(out) > max_bytes:
            raise UsageError(f"-f '!{visible(command)}': its output is over {over}")
        errors.seek(0)
        return out, status, errors.read()


def _read(child: subprocess.Popen[bytes], stream: IO[bytes], chunks: list[bytes],
          max_bytes: int) -> None:
    """Read stdout until it ends or passes ``max_bytes`` (then the command is stopped)."""
    size = 0
    while chunk := stream.read1(65536):  # type: ignore[attr-defined]
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            with contextlib.suppress(OSError):
                child.kill()
            return
