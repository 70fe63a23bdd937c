"""Where output goes: the process's streams, the renderer for them, and the lines after.

``Environment`` holds stdin, stdout, stderr and whether each is a terminal,
so tests can hand in their own. The terminal renderer (and with it Rich's
Markdown and Pygments) is imported only when it is chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO, cast

from chatcli.config import stream_is_terminal
from chatcli.output_guard import GuardedStream, guard_stream

if TYPE_CHECKING:
    from chatcli.config import Settings
from chatcli.engine.turn import Renderer
from chatcli.errors import UsageError
from chatcli.protocol.result import TurnResult
from chatcli.render import ReasoningMode, RenderOptions
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
        return cls(
            stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr,
            stdin_is_terminal=sys.stdin is None or sys.stdin.isatty(),
            stdout_is_terminal=stream_is_terminal(sys.stdout),
            stderr_is_terminal=stream_is_terminal(sys.stderr),
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

    def settings(self, flags: Mapping[str, Any]) -> Settings:
        """Settings for these flags, with any warning about them said once, here."""
        from chatcli.config import load_settings

        settings = load_settings(flags)
        for warning in settings.warnings:
            self.warn(warning)
        return settings


def make_renderer(mode: str, reasoning: str, env: Environment, *, choices: int,
                  model: str, logprobs: bool = False, top_logprobs: int = 0) -> Renderer:
    """The renderer for ``-O mode``; ``auto`` is rich on a terminal, plain otherwise."""
    options = RenderOptions(reasoning=cast(ReasoningMode, reasoning), choices=choices,
                            model=model, logprobs=logprobs, top_logprobs=top_logprobs)
    if mode == "auto":
        mode = "rich" if env.stdout_is_terminal else "plain"
    if mode == "rich":
        from chatcli.render.console import terminal_console
        from chatcli.render.terminal import RichRenderer

        console = terminal_console(env.stdout)
        err = terminal_console(env.stderr, terminal=env.stderr_is_terminal)
        return RichRenderer(console, options, err=err if options.logprobs else None)
    if mode == "json":
        from chatcli.render.json_modes import JsonRenderer

        return JsonRenderer(env.stdout, hide_reasoning=reasoning == "hide",
                            terminal=env.stdout_is_terminal)
    if mode == "events":
        from chatcli.render.json_modes import EventsRenderer

        return EventsRenderer(env.stdout, terminal=env.stdout_is_terminal)
    from chatcli.render.plain import PlainRenderer

    return PlainRenderer(env.stdout, env.stderr, options, out_is_terminal=env.stdout_is_terminal,
                         err_is_terminal=env.stderr_is_terminal)


def report_outcome(result: TurnResult, env: Environment, *, usage: bool,
                   verbose: bool = False) -> None:
    """Warnings about how the answer ended, and the ``--usage`` line, on stderr."""
    for warning in result.warnings:
        env.warn(warning)
    if verbose:
        for note in result.notes:
            env.log(f"chatcli: note: {note}")
    for choice in result.completion["choices"]:
        label = f"choice {choice['index']}: " if len(result.completion["choices"]) > 1 else ""
        reason = choice.get("finish_reason")
        if reason == "length":
            env.warn(f"{label}the answer was cut off at the token limit (finish_reason: length)")
        elif reason == "content_filter":
            env.warn(f"{label}the answer was stopped by a content filter"
                     " (finish_reason: content_filter)")
        refusal = choice["message"].get("refusal")
        if refusal:
            env.warn(f"{label}the model refused: {' '.join(refusal.split())}")
    if usage:
        env.log(usage_line(result))


def usage_line(result: TurnResult) -> str:
    """Tokens and timing in one line; a count that is not a sane number shows as ``-``."""
    data = _table(result.completion.get("usage"))
    prompt = _number(data.get("prompt_tokens"))
    completion = _number(data.get("completion_tokens"))
    reasoning = _number(_table(data.get("completion_tokens_details")).get("reasoning_tokens"))
    cached = _number(_table(data.get("prompt_tokens_details")).get("cached_tokens"))
    parts = [f"{name} {'-' if value is None else value}" for name, value in (
        ("prompt", prompt), ("completion", completion), ("reasoning", reasoning),
        ("cached", cached))]
    first = result.time_to_first_token
    parts.append(f"first token {first:.2f}s" if first is not None else "first token -")
    parts.append(f"total {result.duration:.2f}s")
    generating = result.duration - (first or 0.0)
    if completion and generating > 0:
        parts.append(f"{completion / generating:.1f} tok/s")
    return "usage: " + " · ".join(parts)


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> int | None:
    """A token count: an int in a range a float can hold; anything else is unknown."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return None
