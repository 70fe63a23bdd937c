"""One item of a batch: its request, built as ``ask`` builds one, sent through the pace.

Runs on a worker thread: it reads files (``-f``, ``--files``) and the network,
never the history or stdout. A 429 that outlasts the client's own retries slows
the whole batch (``batch_pace``) and the item waits its turn again, up to
``requeues`` times; any other failure is the item's result, never the batch's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakSet

from chatcli.dotted import deep_merge
from chatcli.errors import ChatcliError, RateLimited, UsageError
from chatcli.protocol.messages import build_request
from chatcli.protocol.result import TurnResult
from chatcli.session.batch_input import BatchItem
from chatcli.session.batch_pace import Pace
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest
from chatcli.session.outgoing import SecretPolicy

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient, ResponseStream
    from chatcli.protocol.messages import Message

BACKOFF = 2.0  # seconds new requests wait after a 429 that named no Retry-After


@dataclass
class Done:
    """What became of an item: a result, or the error it ended with (``started``: it was
    sent, or tried to be; False when the batch stopped before its turn)."""

    item: BatchItem
    result: TurnResult | None = None
    error: ChatcliError | None = None
    messages: list[Message] | None = None
    body: dict[str, Any] | None = None
    started: bool = True
    duration: float = 0.0


@dataclass
class Worker:
    """What every item shares: the base request (its template applied), the settings, the
    client and the pace. ``resolve`` applies a template with an item's own ``vars``."""

    request: AskRequest
    settings: Settings
    client: ChatClient
    pace: Pace
    env: Environment
    policy: SecretPolicy
    resolve: Callable[[dict[str, str]], tuple[AskRequest, Settings]]
    requeues: int = 8
    clock: Callable[[], float] = time.monotonic
    _streams: WeakSet[ResponseStream] = field(default_factory=WeakSet, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, item: BatchItem) -> Done:
        started = self.clock()
        try:
            done = self._run(item)
        except Exception as exc:  # a bug is this item's failure, not the batch's end
            done = Done(item, error=ChatcliError(f"{type(exc).__name__}: {exc}"))
        done.duration = self.clock() - started
        return done

    def _run(self, item: BatchItem) -> Done:
        if item.problem is not None:
            return Done(item, error=UsageError(item.problem))
        try:
            messages, body = self.body_of(item)
        except ChatcliError as exc:
            return Done(item, error=exc)
        for attempt in range(self.requeues + 1):
            if not self.pace.acquire():
                return Done(item, started=False)
            try:
                result = self._send(body)
            except RateLimited as exc:
                self.pace.release(ok=False)
                wait = BACKOFF if exc.retry_after is None else exc.retry_after
                self.pace.rate_limited(wait)
                if attempt == self.requeues:
                    return Done(item, error=exc, messages=messages, body=body)
                continue
            except ChatcliError as exc:
                self.pace.release(ok=False)
                return Done(item, error=exc, messages=messages, body=body)
            except BaseException:
                self.pace.release(ok=False)
                raise
            self.pace.release(tokens=answer_tokens(result.completion.get("usage")))
            return Done(item, result, messages=messages, body=body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, body: Mapping[str, Any]) -> TurnResult:
        from chatcli.engine.turn import Unseen, run_turn

        tracked = cast("ChatClient", _Tracked(self.client, self._streams, self._lock))
        return run_turn(tracked, body, Unseen(), trace_id=None)

    def cancel(self) -> None:
        """Cut every answer being received (the second Ctrl-C): shutting the sockets down
        wakes the threads blocked reading them."""
        import socket

        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            network = stream.response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def body_of(self, item: BatchItem) -> tuple[list[Message], dict[str, Any]]:
        """The item's messages and request: the batch's options, then the item's own."""
        from chatcli.session.fields import request_fields
        from chatcli.session.inputs import gather

        request, settings = (self.resolve(item.vars) if item.vars
                             else (self.request, self.settings))
        request = replace(request, prompt=[item.prompt] if item.prompt else [],
                          system=item.system if item.system is not None else request.system,
                          files=[*request.files, *item.files], messages=None)
        gathered = gather(request, self.env, self.policy, piped="", settings=settings)
        messages: list[Message] = list(gathered.opening)
        if item.messages is not None:
            messages += [cast("Message", m) for m in item.messages
                         if not (m.get("role") == "system" and gathered.opening)]
        if gathered.text or gathered.parts:
            from chatcli.protocol.messages import user_message

            messages.append(user_message(gathered.text, gathered.parts))
        if not any(m.get("role") != "system" for m in messages):
            raise UsageError(f"item {item.id}: nothing to send")
        fields = deep_merge(request_fields(request), item.fields)
        if item.model:
            fields["model"] = item.model
        return messages, build_request(settings, messages, fields, stream=request.stream)


class _Tracked:
    """The shared client, with each stream it opens kept (weakly) so it can be cut."""

    def __init__(self, client: ChatClient, streams: WeakSet[ResponseStream],
                 lock: threading.Lock) -> None:
        self._client, self._streams, self._lock = client, streams, lock

    def open_chat(self, body: Mapping[str, Any], trace_id: str | None = None) -> ResponseStream:
        stream = self._client.open_chat(body, trace_id)
        with self._lock:
            self._streams.add(stream)
        return stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def answer_tokens(usage: Any) -> int:
    """The tokens an answer's usage reports (its total, else prompt plus completion)."""
    if not isinstance(usage, Mapping):
        return 0
    total = usage.get("total_tokens")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens")]
    return sum(p for p in parts if isinstance(p, int) and not isinstance(p, bool))
