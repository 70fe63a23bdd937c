"""``chatcli compare``: one request, several models (or profiles) at once, side by side.

The messages are gathered once, as ``ask`` gathers them; each contestant gets its
own settings (its model, or its profile's endpoint and model) and client, and
they stream at the same time on threads. On a terminal the answers stream in
columns (``render.compare_view``) with the time to first token, tokens/s, tokens
and cost under each; in a pipe, or with ``-O json``, one JSON object has an entry
per contestant. ``--judge MODEL`` then asks a model to compare the answers.
Nothing is kept in the history. The exit status is the most severe failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chatcli.engine.turn import Unseen
from chatcli.errors import ChatcliError, ExitCode, UsageError
from chatcli.protocol.events import ReasoningDelta, TextDelta
from chatcli.protocol.messages import build_request
from chatcli.protocol.result import TurnResult
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.protocol.messages import Message

JUDGE_INSTRUCTIONS = (
    "You compare answers that different models gave to the same request. Judge them on"
    " correctness first, then completeness, clarity and concision. Name the best one by"
    " its letter, say in a few sentences why, and note any mistake an answer makes.")


@dataclass
class Contestant:
    """One side of the comparison, and what it has answered so far (written by its
    thread, read by the display)."""

    name: str
    settings: Settings
    text: str = ""
    first: float | None = None  # seconds to the first token
    result: TurnResult | None = None
    error: ChatcliError | None = None
    cost: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def figures(self) -> str:
        """``first token 0.42s · 35.1 tok/s · 512 tokens · $0.0012``."""
        from chatcli.session.cost import dollars

        parts = [f"first token {self.first:.2f}s" if self.first is not None else "waiting…"]
        if self.result is not None:
            usage = self.result.completion.get("usage") or {}
            tokens = usage.get("completion_tokens")
            generating = self.result.duration - (self.first or 0.0)
            if isinstance(tokens, int) and generating > 0:
                parts.append(f"{tokens / generating:.1f} tok/s")
            if isinstance(tokens, int):
                parts.append(f"{tokens} tokens")
            if self.cost is not None:
                parts.append(dollars(self.cost))
            parts.append(f"{self.result.duration:.2f}s")
        return " · ".join(parts)


class _Collector(Unseen):
    """A renderer that keeps the answer's text for the display (the terminal is drawn by
    the main thread alone)."""

    def __init__(self, contestant: Contestant) -> None:
        self.contestant = contestant
        self.started = time.monotonic()

    def start(self) -> None:
        self.started = time.monotonic()

    def on_events(self, events: Sequence[Any], raw: str | None) -> None:
        texts = [e.text for e in events if type(e) is TextDelta and e.choice == 0]
        if (texts or any(type(e) is ReasoningDelta for e in events)) and (
                self.contestant.first is None):
            self.contestant.first = time.monotonic() - self.started
        if texts:
            with self.contestant.lock:
                self.contestant.text += "".join(texts)

def contestants(request: AskRequest, env: Environment, models: Sequence[str],
                profiles: Sequence[str]) -> list[Contestant]:
    """Each model (``-m``) and each profile (``-P``) given, with its own settings."""
    if len(models) + len(profiles) < 2:
        hint = "Try: chatcli compare -m gpt-4o -m gpt-4o-mini PROMPT"
        if not models and not profiles and request.prompt:  # "chatcli compare tcp and udp"
            hint += (f". To send it as a prompt: chatcli ask --"
                     f" 'compare {' '.join(request.prompt)}'")
        raise UsageError("compare needs two or more: give -m MODEL and/or -P PROFILE at least"
                         " twice", hint=hint)
    found = [Contestant(model, env.settings({**request.flags, "model": model}))
             for model in models]
    for profile in profiles:
        settings = env.settings({**request.flags, "profile": profile, "model": None})
        found.append(Contestant(f"{profile}: {settings.model}", settings))
    return found


def run_compare(request: AskRequest, models: Sequence[str], profiles: Sequence[str],
                judge: str | None, env: Environment | None = None) -> None:
    from chatcli.session.inputs import gather_messages
    from chatcli.session.outgoing import terminal_policy
    from chatcli.session.templates import resolve

    env = env or Environment.from_process()
    request, settings, _ = resolve(request, env)
    sides = contestants(request, env, models, profiles)
    policy = terminal_policy(env, settings.secret_scan, allow=request.allow_secrets,
                             redact=request.redact_secrets)
    messages, _ = gather_messages(request, env, policy, settings)
    from chatcli.session.fields import request_fields

    fields = request_fields(request)
    as_json = request.output == "json" or not env.stdout_is_terminal
    if as_json:
        _race(request, env, sides, messages, fields, None)
    else:
        from chatcli.render.compare_view import CompareView

        view = CompareView(env.stdout)
        try:
            _race(request, env, sides, messages, fields, view)
        finally:
            view.close()
    verdict = _judged(request, env, settings, sides, messages, judge, as_json) if judge else None
    if as_json:
        from chatcli.output_guard import write_json

        write_json(env.stdout, {"answers": [_entry(side) for side in sides],
                                "judge": verdict})
    failures = [int(side.error.exit_code) for side in sides if side.error is not None]
    if failures:
        from chatcli.session.batch import SEVERITY, BatchFailed

        code = next((c for c in SEVERITY if c in failures), ExitCode.INTERNAL)
        raise BatchFailed(f"{len(failures)} of {len(sides)} answers failed", code)


def _race(request: AskRequest, env: Environment, sides: list[Contestant],
          messages: list[Message], fields: dict[str, Any], view: Any) -> None:
    """Every contestant at once; the display redrawn while they stream."""
    threads = [threading.Thread(target=_answer, args=(request, env, side, messages, fields),
                                daemon=True, name=f"compare-{n}")
               for n, side in enumerate(sides)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(timeout=0.08)
            if view is not None:
                view.update(_columns(sides))
    if view is not None:
        view.finish(_columns(sides))


def _answer(request: AskRequest, env: Environment, side: Contestant,
            messages: list[Message], fields: dict[str, Any]) -> None:
    from chatcli.engine.turn import run_turn
    from chatcli.session.connect import client_for
    from chatcli.session.cost import answer_cost

    body = build_request(side.settings, messages, {**fields, "model": side.settings.model},
                         stream=request.stream)
    try:
        with client_for(_quiet(env), side.settings, request) as client:
            side.result = run_turn(client, body, _Collector(side), trace_id=request.trace_id)
            # prices from the config and the cache: a comparison waits on no lookup
            cost = answer_cost(side.result.completion.get("usage"), side.settings,
                               side.settings.model, None)
            side.cost = cost.total if cost is not None else None
    except ChatcliError as exc:
        side.error = exc
    except Exception as exc:  # a bug in one column is that column's failure
        side.error = ChatcliError(f"{type(exc).__name__}: {exc}")


def _quiet(env: Environment) -> Environment:
    """The environment for a contestant's client: its retries are not drawn over the
    columns."""
    return Environment(env.stdin, env.stdout, env.stderr, env.stdin_is_terminal,
                       env.stdout_is_terminal, stderr_is_terminal=False)


def _columns(sides: Sequence[Contestant]) -> list[Any]:
    from chatcli.render.compare_view import Column

    columns = []
    for side in sides:
        with side.lock:
            text = side.text
        failed = side.error.describe() if side.error is not None else None
        columns.append(Column(side.name, text, side.figures(), failed))
    return columns


def _judged(request: AskRequest, env: Environment, settings: Settings,
            sides: Sequence[Contestant], messages: Sequence[Mapping[str, Any]],
            judge: str, as_json: bool) -> dict[str, Any]:
    """The judge's verdict: streamed below the columns on a terminal, kept for JSON."""
    from chatcli.engine.turn import run_turn
    from chatcli.session.connect import client_for
    from chatcli.session.output import make_renderer

    judged = env.settings({**request.flags, "model": judge})
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    asked = next((str(m.get("content")) for m in reversed(messages)
                  if m.get("role") == "user"), "")
    answers = "\n\n".join(
        f"## Answer {letters[n]} ({side.name})\n\n"
        + (str(side.result.message.get("content") or "") if side.result is not None
           else f"(no answer: {side.error.describe() if side.error else 'none'})")
        for n, side in enumerate(sides))
    body = build_request(judged, [{"role": "system", "content": JUDGE_INSTRUCTIONS},
                                  {"role": "user", "content": f"# The request\n\n{asked}\n\n"
                                                              f"# The answers\n\n{answers}"}],
                         {"model": judged.model}, stream=request.stream)
    renderer: Any = _Collector(Contestant(judged.model, judged))
    if not as_json:
        from chatcli.render.compare_view import rule

        rule(env.stdout, f"verdict of {judged.model}")
        renderer = make_renderer("rich", "hide", env, choices=1, model=judged.model)
    try:
        with client_for(_quiet(env), judged, replace(request, trace_id=None)) as client:
            result = run_turn(client, body, renderer)
    except ChatcliError as exc:
        env.warn(f"--judge {judge}: {exc.describe()}")
        return {"model": judged.model, "verdict": None, "error": exc.describe()}
    return {"model": judged.model, "verdict": result.message.get("content") or ""}


def _entry(side: Contestant) -> dict[str, Any]:
    """One contestant in the JSON object."""
    from chatcli.render.json_modes import describe

    entry: dict[str, Any] = {"name": side.name, "model": side.settings.model,
                             "profile": side.settings.profile}
    if side.result is None:
        return {**entry, "status": "error", "error": describe(side.error)}
    usage = side.result.completion.get("usage")
    tokens = (usage or {}).get("completion_tokens") if isinstance(usage, dict) else None
    generating = side.result.duration - (side.first or 0.0)
    return {**entry, "status": "ok", "answer": side.result.message.get("content") or "",
            "finish_reason": (side.result.completion.get("choices") or [{}])[0].get(
                "finish_reason"),
            "usage": usage, "cost": side.cost,
            "time_to_first_token": None if side.first is None else round(side.first, 3),
            "duration": round(side.result.duration, 3),
            "tokens_per_second": round(tokens / generating, 1)
            if isinstance(tokens, int) and generating > 0 else None,
            "trace_id": side.result.trace_id}
