"""Where output goes: the process's streams, guarded, and whether each is a terminal.

``Environment`` holds stdin, stdout, stderr and what they are connected to, so
tests can hand in their own; it finds the terminal to ask questions on (also
through ``/dev/tty`` when stdin is a pipe) and loads settings, saying their
warnings once. Nothing here chooses how an answer looks (``session.output``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from chatcli.output_guard import GuardedStream, guard_stream, stream_is_terminal

if TYPE_CHECKING:
    from chatcli.config import Settings
from chatcli.errors import UsageError
from chatcli.sanitize import redact_secrets


class Environment:
    """The process's streams and what they are connected to.

    stdout and stderr are always guarded (``output_guard``): on a terminal, text
    written to them shows control characters escaped, whoever writes it.
    """

    def __init__(self, stdin: TextIO, stdout: TextIO | GuardedStream,
                 stderr: TextIO | GuardedStream, stdin_is_terminal: bool,
                 stdout_is_terminal: bool, stderr_is_terminal: bool) -> None:
        self.stdin = stdin
        self.stdout = guard_stream(stdout, stdout_is_terminal)
        self.stderr = guard_stream(stderr, stderr_is_terminal)
        self.stdin_is_terminal = stdin_is_terminal
        self.stdout_is_terminal = stdout_is_terminal
        self.stderr_is_terminal = stderr_is_terminal

    @classmethod
    def from_process(cls) -> Environment:
        from chatcli.config import terminal_variables

        variables = terminal_variables()
        return cls(
            stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr,
            stdin_is_terminal=sys.stdin is None or sys.stdin.isatty(),
            stdout_is_terminal=stream_is_terminal(sys.stdout, variables),
            stderr_is_terminal=stream_is_terminal(sys.stderr, variables),
        )

    def read_stdin(self, limit: int | None = None) -> str:
        """All of stdin as UTF-8 text; more than ``limit`` bytes is a usage error."""
        if self.stdin is None:
            return ""
        size = -1 if limit is None else limit + 1  # never more than the limit and one byte
        buffer = getattr(self.stdin, "buffer", None)
        raw: str | bytes = self.stdin.read(size) if buffer is None else buffer.read(size)
        if limit is not None and len(raw) > limit:
            raise UsageError(f"stdin: more than {limit / 1_048_576:g} MB"
                             " (--max-attachment-mb)")
        if isinstance(raw, str):
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"stdin is not UTF-8 text ({exc.reason})") from None

    def question_streams(self) -> tuple[TextIO, GuardedStream] | None:
        """Where to ask the user something: the terminal, even when stdin is a pipe
        (``/dev/tty``); None where there is no terminal to ask on."""
        if self.stdin is not None and self.stdin_is_terminal and self.stderr_is_terminal:
            return self.stdin, self.stderr
        if not self.stderr_is_terminal:
            return None
        try:  # two streams: a terminal cannot seek, which "r+" would need
            keys = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
            screen = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
        except OSError:
            return None
        return keys, guard_stream(screen, True)

    def log(self, line: str) -> None:
        """One diagnostic line on stderr, every known secret redacted."""
        self.stderr.write(redact_secrets(line) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.log(f"chatcli: warning: {message}")

    def settings(self, flags: Mapping[str, Any], *,
                 template: tuple[str, Mapping[str, Any]] | None = None,
                 quiet: bool = False) -> Settings:
        """Settings for these flags (and the template in use), with any warning about them
        said once, here (``quiet``: they were said already)."""
        from chatcli.config import load_settings

        settings = load_settings(flags, template=template)
        for warning in () if quiet else settings.warnings:
            self.warn(warning)
        return settings
