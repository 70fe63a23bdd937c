"""How an answer is shown: the renderer for ``-O``, and the lines said after it.

The terminal renderer (and with it Rich's Markdown and Pygments) is imported
only when it is chosen. ``report_outcome`` gives the warnings about how an answer
ended and the ``--usage`` line, on stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from chatcli.engine.turn import Renderer
from chatcli.protocol.result import TurnResult
from chatcli.render import ReasoningMode, RenderOptions
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.session.cost import Cost


def make_renderer(mode: str, reasoning: str, env: Environment, *, choices: int,
                  model: str, logprobs: bool = False, top_logprobs: int = 0,
                  extract: bool = False, opening: str = "") -> Renderer:
    """The renderer for ``-O mode``; ``auto`` is rich on a terminal, plain otherwise.
    With ``extract`` stdout gets nothing while the answer streams (``session.extract``);
    ``opening``: the fence of the code block a continued answer goes on inside, so
    Markdown shows what comes as code (it is not printed as text)."""
    options = RenderOptions(reasoning=cast(ReasoningMode, reasoning), choices=choices,
                            model=model, logprobs=logprobs, top_logprobs=top_logprobs)
    if extract:
        return _preview(env, options)
    if mode == "auto":
        mode = "rich" if env.stdout_is_terminal else "plain"
    if mode == "rich":
        from chatcli.render.console import terminal_console
        from chatcli.render.terminal import RichRenderer

        console = terminal_console(env.stdout)
        err = terminal_console(env.stderr, terminal=env.stderr_is_terminal)
        return RichRenderer(console, options, err=err if options.logprobs else None,
                            opening=opening)
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


def _preview(env: Environment, options: RenderOptions) -> Renderer:
    """``-x``: a transient preview on stderr if it is a terminal; else what plain output
    says on stderr (reasoning if asked, tool calls, sources), and nothing on stdout."""
    if env.stderr_is_terminal:
        from chatcli.render.console import terminal_console
        from chatcli.render.extract_view import PreviewRenderer

        return PreviewRenderer(terminal_console(env.stderr), options)
    from chatcli.render.plain import PlainRenderer

    return PlainRenderer(_Discard(), env.stderr, options, err_is_terminal=False)


class _Discard:
    """A text sink that keeps nothing: stdout's place while ``-x`` holds the answer back."""

    def write(self, text: str, /) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def report_outcome(result: TurnResult, env: Environment, *, usage: bool,
                   verbose: bool = False, cost: Cost | None = None,
                   more: str | None = None) -> None:
    """Warnings about how the answer ended, and the ``--usage`` line (with the cost, when
    the prices are known), on stderr; ``more``: how this front end continues an answer
    cut off at the token limit."""
    for warning in result.warnings:
        env.warn(warning)
    if verbose:
        for note in result.notes:
            env.log(f"chatcli: note: {note}")
    for choice in result.completion["choices"]:
        label = f"choice {choice['index']}: " if len(result.completion["choices"]) > 1 else ""
        reason = choice.get("finish_reason")
        if reason == "length":
            offer = f"; {more}" if more and not label else ""
            env.warn(f"{label}the answer was cut off at the token limit (finish_reason:"
                     f" length){offer}")
        elif reason == "content_filter":
            env.warn(f"{label}the answer was stopped by a content filter"
                     " (finish_reason: content_filter)")
        refusal = choice["message"].get("refusal")
        if refusal:
            env.warn(f"{label}the model refused: {' '.join(refusal.split())}")
    if usage:
        env.log(usage_line(result, cost))


def usage_line(result: TurnResult, cost: Cost | None = None) -> str:
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
    if cost is not None:
        parts.append(cost_words(cost))
    return "usage: " + " · ".join(parts)


def cost_words(cost: Cost) -> str:
    """"cost $0.0042 (input $0.003, cached $0.0002, output $0.001, reasoning $0.0004)"."""
    from chatcli.session.cost import dollars

    return (f"cost {dollars(cost.total)} (input {dollars(cost.input)}, cached"
            f" {dollars(cost.cached_input)}, output {dollars(cost.output)}, reasoning"
            f" {dollars(cost.reasoning)})")


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> int | None:
    """A token count: an int in a range a float can hold; anything else is unknown."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return None


def save_audio(result: TurnResult, path: str, env: Environment) -> None:
    """``--audio-out``: the answer's spoken audio into ``path``, or a warning that it had none."""
    from chatcli.media.audio_out import write_audio

    if write_audio(result, path) is None:
        env.warn(f"--audio-out {path}: the response held no audio"
                 " (ask with --modalities text --modalities audio)")
