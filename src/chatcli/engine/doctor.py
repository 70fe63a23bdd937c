"""Probes of what an endpoint and model actually do, found by a handful of tiny requests.

Each probe is data (a name and a function of a ``Session``), so the list can be
run, reordered or cut by tests against scripted servers. A probe answers "ok" or
"no" with what it found, or "inconclusive" when the answer that would have said
"no" was cut off by the token limit; any exception becomes an "error" row and the
next probe runs, except that an endpoint which cannot be reached at all (the
"reachable" probe's network failure or timeout) ends the run with that error.
Requests go through ``ChatClient`` and ``run_turn`` with a renderer that
keeps chunks and shows nothing: this module never prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chatcli.engine.turn import Unseen, run_turn
from chatcli.errors import (
    ChatcliError,
    NetworkError,
    RequestError,
    RequestRejected,
    RequestTimeout,
)
from chatcli.protocol.events import Event, ReasoningDelta, Usage
from chatcli.protocol.messages import Message, build_request
from chatcli.protocol.result import TurnResult

if TYPE_CHECKING:
    from chatcli.endpoint.client import ChatClient

Status = Literal["ok", "no", "inconclusive", "error"]
Clock = Callable[[], float]
# Every probe's token limit. A reasoning model thinks before it answers, and at a few
# dozen tokens its tool calls or JSON never arrive; a plain model stops long before.
MAX_TOKENS = 1024
CUT_OFF = "answer cut off by the token limit (finish_reason: length)"
# 4xx answers that mean "this feature is not supported" rather than a broken setup.
NOT_FEATURE_STATUSES = frozenset({401, 403, 404, 408, 429})
PIXEL_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42m"
             "P8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PING_TOOL = {"type": "function", "function": {
    "name": "ping", "description": "Ping a number.",
    "parameters": {"type": "object", "properties": {"n": {"type": "integer"}},
                   "required": ["n"]}}}
OK_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
             "additionalProperties": False}


@dataclass(frozen=True)
class Finding:
    """What one probe concluded."""

    status: Status
    found: str


@dataclass(frozen=True)
class ProbeResult:
    """One row of the report."""

    name: str
    status: Status
    found: str
    seconds: float


@dataclass(frozen=True)
class Report:
    """Every probe's row, for one endpoint and model."""

    base_url: str
    model: str
    results: list[ProbeResult]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Capture(Unseen):
    """A renderer that keeps each chunk's JSON and shows nothing (``turn.Renderer``)."""

    def __init__(self) -> None:
        self.raws: list[str] = []
        self.events: list[Event] = []

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        self.events.extend(events)
        if raw is not None:
            self.raws.append(raw)


@dataclass
class Exchange:
    """One finished probe request: the result, its chunks as objects, its events."""

    result: TurnResult
    objects: list[dict[str, Any]]
    events: list[Event]

    @property
    def streamed(self) -> bool:
        return any("delta" in choice for choice in self.choices())

    def choices(self) -> list[dict[str, Any]]:
        return [c for obj in self.objects for c in obj.get("choices") or ()
                if isinstance(c, dict)]

    def parts(self) -> list[dict[str, Any]]:
        """Every delta (streamed) or message (JSON reply) that arrived."""
        found = [c.get("delta") or c.get("message") for c in self.choices()]
        return [part for part in found if isinstance(part, dict)]

    @property
    def message(self) -> dict[str, Any]:
        return self.result.message

    @property
    def cut_off(self) -> bool:
        """The answer ended at the token limit, so what is missing may only be late."""
        return any(choice.get("finish_reason") == "length"
                   for choice in self.result.completion["choices"])


@dataclass
class Session:
    """The client and model under test, with the shared requests made once."""

    client: ChatClient
    model: str
    clock: Clock = time.monotonic
    _memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, work: Callable[[], Any]) -> Any:
        """``work()`` the first time, its value (or exception) after that."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, work())
            except Exception as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    def models(self) -> dict[str, Any]:
        return dict(self.once("models", self.client.list_models))

    def chat(self, messages: list[Message], fields: Mapping[str, Any], *,
             stream: bool) -> Exchange:
        fields = {"model": self.model, "max_tokens": MAX_TOKENS, **fields}
        body = build_request(self.client.settings, messages, fields, stream=stream)
        capture = Capture()
        result = run_turn(self.client, body, capture, clock=self.clock)
        objects = [obj for obj in map(_loads, capture.raws) if obj is not None]
        return Exchange(result, objects, capture.events)

    def basic(self) -> Exchange:
        """The one streamed request that streaming, usage, reasoning and latency share."""
        exchange: Exchange = self.once("basic", lambda: self.chat(
            [{"role": "user", "content": "Reply with the single word OK."}],
            {"stream_options": {"include_usage": True}}, stream=True))
        return exchange


def _loads(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _user(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


def _no(exchange: Exchange, found: str) -> Finding:
    """A "no" finding, unless the answer was cut off: then an absence proves nothing."""
    return Finding("inconclusive", CUT_OFF) if exchange.cut_off else Finding("no", found)


def probe_reachable(session: Session) -> Finding:
    try:
        session.models()
    except RequestError as exc:
        if exc.status is None:
            raise
        return Finding("ok", f"HTTP {exc.status} from GET /models")
    return Finding("ok", "GET /models answered")


def probe_authenticated(session: Session) -> Finding:
    try:
        session.models()
        return Finding("ok", "the models list accepts the key")
    except RequestError as exc:
        if exc.status in (401, 403):
            return Finding("no", f"HTTP {exc.status}: {exc.message}")
    try:  # some gateways list no models: a chat request settles it
        session.basic()
    except RequestError as exc:
        if exc.status in (401, 403):
            return Finding("no", f"HTTP {exc.status}: {exc.message}")
        raise
    return Finding("ok", "a chat request accepts the key")


def probe_models(session: Session) -> Finding:
    entries = session.models().get("data")
    if not isinstance(entries, list):
        return Finding("no", "the answer has no 'data' array")
    ids = {str(e.get("id")) for e in entries if isinstance(e, dict)}
    listed = "listed" if session.model in ids else "not listed"
    plural = "" if len(entries) == 1 else "s"
    return Finding("ok", f"{len(entries)} model{plural}, {session.model} {listed}")


def probe_streaming(session: Session) -> Finding:
    exchange = session.basic()
    if not exchange.streamed:
        return Finding("no", "answered with one JSON object despite stream: true")
    return Finding("ok", f"{len(exchange.objects)} chunks")


def probe_usage(session: Session) -> Finding:
    exchange = session.basic()
    usage = next((e.data for e in exchange.events if isinstance(e, Usage)), None)
    if not exchange.streamed or usage is None:
        return Finding("no", "no usage chunk")
    return Finding("ok", f"{usage.get('prompt_tokens', '?')} prompt,"
                         f" {usage.get('completion_tokens', '?')} completion tokens")


def probe_reasoning(session: Session) -> Finding:
    exchange = session.basic()
    for name in ("reasoning_content", "reasoning"):
        if any(isinstance(p.get(name), str) and p[name] for p in exchange.parts()):
            return Finding("ok", name)
    if any(isinstance(e, ReasoningDelta) for e in exchange.events):
        return Finding("ok", "<think> in content")
    return Finding("no", "none")


def probe_first_token(session: Session) -> Finding:
    exchange = session.basic()
    latency = exchange.result.time_to_first_token
    if latency is None:
        return _no(exchange, "no content arrived")
    return Finding("ok", f"{latency * 1000:.0f} ms")


def _tool_calls(session: Session, prompt: str, extra: Mapping[str, Any]) -> Exchange:
    return session.chat(_user(prompt), {"tools": [PING_TOOL], "tool_choice": "required",
                                        **extra}, stream=True)


def probe_tools(session: Session) -> Finding:
    exchange = _tool_calls(session, "Call ping with n=1.", {})
    calls = exchange.message.get("tool_calls") or []
    if not calls:
        return _no(exchange, "answered with text, no tool call")
    how = "streamed" if exchange.streamed else "in one JSON reply"
    return Finding("ok", f"{calls[0]['function']['name']}, {how}")


def probe_parallel_tools(session: Session) -> Finding:
    exchange = _tool_calls(session, "Call ping twice at once: with n=1 and with n=2.",
                           {"parallel_tool_calls": True})
    count = len(exchange.message.get("tool_calls") or [])
    found = f"{count} call{'s' if count != 1 else ''}"
    return Finding("ok", found) if count >= 2 else _no(exchange, found)


def _json_reply(session: Session,
                response_format: Mapping[str, Any]) -> tuple[Exchange, Any]:
    """The exchange, and its content parsed as JSON (None when it is not)."""
    exchange = session.chat(_user('Reply with the JSON object {"ok": true} and nothing else.'),
                            {"response_format": dict(response_format)}, stream=False)
    content = exchange.message.get("content")
    try:
        return exchange, json.loads(content) if isinstance(content, str) else None
    except (ValueError, RecursionError):
        return exchange, None


def probe_json_object(session: Session) -> Finding:
    exchange, value = _json_reply(session, {"type": "json_object"})
    if not isinstance(value, dict):
        return _no(exchange, "the reply is not a JSON object")
    return Finding("ok", "a JSON object")


def probe_json_schema(session: Session) -> Finding:
    exchange, value = _json_reply(session, {"type": "json_schema", "json_schema": {
        "name": "probe", "schema": OK_SCHEMA, "strict": True}})
    if not isinstance(value, dict) or not isinstance(value.get("ok"), bool):
        return _no(exchange, "the reply does not match the schema")
    return Finding("ok", "matches the schema")


def probe_image(session: Session) -> Finding:
    messages: list[Message] = [{"role": "user", "content": [
        {"type": "text", "text": "What colour is this pixel? One word."},
        {"type": "image_url", "image_url": {"url": PIXEL_PNG}}]}]
    session.chat(messages, {}, stream=False)
    return Finding("ok", "a 1x1 PNG accepted")


@dataclass(frozen=True)
class Probe:
    """A named check; ``run`` raises or returns a ``Finding``.

    A ``gate`` probe that cannot connect at all (refused, DNS, TLS, timeout) ends the
    run with that error: every later probe would fail the same way, one timeout each.
    """

    name: str
    run: Callable[[Session], Finding]
    gate: bool = False


PROBES: tuple[Probe, ...] = (
    Probe("reachable", probe_reachable, gate=True),
    Probe("authenticated", probe_authenticated),
    Probe("models listed", probe_models),
    Probe("streaming", probe_streaming),
    Probe("usage chunk", probe_usage),
    Probe("reasoning", probe_reasoning),
    Probe("tool calls", probe_tools),
    Probe("parallel tool calls", probe_parallel_tools),
    Probe("json_object", probe_json_object),
    Probe("json_schema", probe_json_schema),
    Probe("image input", probe_image),
    Probe("first token", probe_first_token),
)


def run_probe(probe: Probe, session: Session) -> ProbeResult:
    """One probe, timed; what it raises becomes its row, save a gate's network failure."""
    started = session.clock()
    try:
        finding = probe.run(session)
    except (NetworkError, RequestTimeout) as exc:
        if probe.gate:
            raise
        finding = Finding("error", _describe(exc))
    except RequestRejected as exc:
        rejected = exc.status is not None and exc.status not in NOT_FEATURE_STATUSES
        finding = Finding("no" if rejected else "error", _describe(exc))
    except ChatcliError as exc:
        finding = Finding("error", _describe(exc))
    except Exception as exc:  # a probe's own bug must not hide the other rows
        finding = Finding("error", f"{type(exc).__name__}: {exc}")
    return ProbeResult(probe.name, finding.status, finding.found, session.clock() - started)


def _describe(exc: ChatcliError) -> str:
    """The error without its random trace id, so reports compare across runs."""
    status = getattr(exc, "status", None)
    return f"HTTP {status}: {exc.message}" if status is not None else exc.message


def run_doctor(client: ChatClient, model: str, probes: Sequence[Probe] = PROBES,
               clock: Clock = time.monotonic) -> Report:
    """Run every probe in order against the client's endpoint and ``model``.

    Raises the network error when a gate probe finds the endpoint unreachable.
    """
    session = Session(client, model, clock)
    results = [run_probe(probe, session) for probe in probes]
    return Report(client.settings.base_url, model, results)
