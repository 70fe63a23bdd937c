"""Fitting a conversation into the model's context window before it is sent.

The conversation is cut into turns: a user message and what follows it up to the next
user message (answers, tool calls and their results, so a call is never sent without
its result). System messages and pinned messages always stay, and so does the last
turn, the one being asked. When the request would be over the window less the room
kept for the answer, the ``context`` policy decides: ``truncate`` leaves out the
oldest turns until it fits and says how many; ``error`` stops before sending (exit 4)
and says by how much it is over; ``compact`` has a model summarise the turns
``truncate`` would leave out and sends the summary in their place (``compaction``),
leaving them out after all if no summary comes. Sizes are estimates (``token_estimate``), except an
answer's own size where the server reported it. Nothing here prints.

A window the config gives is always used; the endpoint is asked only when the
request (with a little room for the answer) could be over ``SMALLEST_WINDOW``: a
short prompt never waits on a lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chatcli.errors import ChatcliError, ExitCode
from chatcli.session.token_estimate import message_tokens, output_reserve, text_tokens

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.engine.turn import Recorder
    from chatcli.protocol.result import TurnResult
    from chatcli.session.compaction import Compactor

POLICIES = ("truncate", "compact", "error")
SYSTEM_ROLES = ("system", "developer")
SMALLEST_WINDOW = 4096  # below this, a lookup is not worth it (a smaller window: the config)
Size = Callable[[Mapping[str, Any]], int]


class KeepSummary(Protocol):
    def __call__(self, replaced: Sequence[Any], turn: list[dict[str, Any]], /, *,
                 model: str | None, usage: Mapping[str, Any] | None) -> bool: ...


class OverContext(ChatcliError):
    """Not sent: the conversation does not fit the model's window (exit 4, as the server's
    own refusal would be)."""

    exit_code = ExitCode.REJECTED


@dataclass(frozen=True)
class Fitted:
    """What goes out: the messages, how many turns were left out, and the sizes."""

    messages: list[Any]
    left_out: int
    tokens: int  # about how many tokens the messages sent take
    window: int | None
    limit: int | None  # the window less the room kept for the answer
    summarised: int = 0  # turns sent as a summary instead
    summariser: str | None = None  # the model that wrote it
    note: str | None = None  # why turns were left out that were to be summarised


def turns(messages: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """The messages' indices, cut into turns; a system message is a turn of its own."""
    found: list[list[int]] = []
    for index, message in enumerate(messages):
        starts = (message.get("role") in (*SYSTEM_ROLES, "user") or not found
                  or messages[found[-1][0]].get("role") in SYSTEM_ROLES)
        if starts:
            found.append([index])
        else:
            found[-1].append(index)
    return found


def fit(messages: Sequence[Any], limit: int, *, pinned: Sequence[Any] = (),
        size: Size = message_tokens) -> tuple[list[Any], int, int]:
    """``messages`` with the oldest droppable turns left out until they fit ``limit``
    tokens: the messages kept, how many turns went, and about how many tokens are left."""
    groups = turns(messages)
    sizes = [sum(size(messages[i]) for i in group) for group in groups]
    total = sum(sizes)
    keep = [True] * len(groups)
    pinned_ids = {id(m) for m in pinned}
    left_out = 0
    for number, group in enumerate(groups[:-1]):
        if total <= limit:
            break
        first = messages[group[0]]
        if first.get("role") in SYSTEM_ROLES or any(
                id(messages[i]) in pinned_ids for i in group):
            continue
        keep[number] = False
        total -= sizes[number]
        left_out += 1
    kept = [messages[i] for number, group in enumerate(groups) if keep[number] for i in group]
    return kept, left_out, total


def answer_room(body: Mapping[str, Any], window: int, max_output: int | None) -> int:
    """The tokens of ``window`` kept for the answer: the request's cap, else a guess of at
    most a quarter of a small window."""
    reserve = output_reserve(body, max_output)
    if not any(body.get(k) for k in ("max_tokens", "max_completion_tokens")):
        reserve = min(reserve, window // 4)
    return reserve


def fit_request(body: Mapping[str, Any], settings: Settings, policy: str, *,
                client: ChatClient | None, pinned: Sequence[Any] = (),
                size: Size = message_tokens, window: int | None = None,
                compact: Compactor | None = None) -> Fitted:
    """The messages of ``body`` as the policy lets them go out; ``window``: one the
    server named (a retry), else the model's known window; ``compact`` writes the
    summaries of the ``compact`` policy (without it, turns are left out)."""
    messages: list[Any] = list(body.get("messages") or [])
    tools = body.get("tools")
    extra = text_tokens(_json(tools)) if tools else 0
    tokens = sum(size(m) for m in messages) + extra
    known = None
    big = tokens + min(output_reserve(body, None), 1024) > SMALLEST_WINDOW
    if window is None and (big or settings.models):  # a short prompt without [models]: no work
        from chatcli.session.known_model import known_model

        # The config always; the endpoint only for a request that may be big.
        known = known_model(settings, str(body.get("model") or settings.model),
                            client=client if big else None, cached=big,
                            need=("context_window",))
        window = known.context_window
    if window is None:
        return Fitted(messages, 0, tokens, None, None)
    reserve = answer_room(body, window, known.max_output if known is not None else None)
    limit = max(window - reserve, 0)
    model = str(body.get("model") or settings.model)
    counted = None
    if settings.tokenizer == "tiktoken" and size is message_tokens and tokens > limit // 2:
        size, extra, counted = _exact(model, messages, tools, size, extra)
        tokens = sum(size(m) for m in messages) + extra
    if tokens <= limit:
        return Fitted(messages, 0, tokens, window, limit, note=counted)
    room = (f"{model}'s window of {window} tokens leaves {limit} after {reserve} for the"
            " answer")
    if policy == "error":
        raise OverContext(f"not sent: the conversation is about {tokens} tokens, {tokens - limit}"
                          f" over what {room}",
                          hint="Use --context truncate to leave out the oldest turns.")
    kept, left_out, left = fit(messages, limit - extra, pinned=pinned, size=size)
    if left + extra > limit:
        raise OverContext(f"not sent: even without the earlier turns the request is about"
                          f" {left + extra} tokens, over what {room}",
                          hint="Shorten the message or its attachments, or lower --max-tokens.")
    fitted = Fitted(kept, left_out, left + extra, window, limit, note=counted)
    if policy == "compact" and left_out and compact is not None:
        return _summarised(fitted, messages, compact, pinned, size, extra)
    return fitted


_SAID: set[str] = set()  # the tokenizer's notes, once a process


def _exact(model: str, messages: Sequence[Any], tools: Any, size: Size,
           extra: int) -> tuple[Size, int, str | None]:
    """The sizes by ``model``'s own vocabulary (``tokenizer = "tiktoken"``), if it can be
    had; else the estimate, and why (said once)."""
    from chatcli.session.tokenizer import text_counter

    counter, why = text_counter(model)
    if counter is None:
        note = why if why is not None and why not in _SAID else None
        _SAID.update([why] if why else [])
        return size, extra, note

    def exact(message: Mapping[str, Any]) -> int:
        return message_tokens(message, counter)
    return exact, counter(_json(tools)) if tools else 0, None


def _summarised(fitted: Fitted, messages: list[Any], compact: Compactor,
                pinned: Sequence[Any], size: Size, extra: int) -> Fitted:
    """``fitted`` with the turns it leaves out sent as a summary, if one comes and fits."""
    from dataclasses import replace

    from chatcli.session.compaction import CompactFailed, compacted

    sent = {id(m) for m in fitted.messages}
    gone = [m for m in messages if id(m) not in sent]
    try:
        turn = compact(gone)
    except CompactFailed as exc:
        return replace(fitted, note=f"context: {exc}; the oldest turns are left out instead")
    limit = fitted.limit or 0
    kept, more, left = fit(compacted(messages, gone, turn), limit - extra, pinned=pinned,
                           size=size)
    if left + extra > limit:  # the summary itself does not fit: as truncate left it
        return replace(fitted, note=f"context: the summary by {compact.model} does not fit"
                                    " either; the oldest turns are left out instead")
    return Fitted(kept, more, left + extra, fitted.window, limit, fitted.left_out,
                  compact.model)


def fitted_note(fitted: Fitted, model: str) -> str | None:
    """The line said when turns were left out or summarised (None when none were)."""
    done = []
    if fitted.summarised:
        done.append(f"{_turns(fitted.summarised)} summarised by {fitted.summariser}")
    if fitted.left_out:
        done.append(f"{_turns(fitted.left_out)} left out")
    if not done:
        return None
    return (f"context: {' and '.join(done)} to fit {model}'s window of {fitted.window} tokens"
            f" (about {fitted.tokens} tokens sent; the history keeps them all)")


def _turns(count: int) -> str:
    return f"{count} earlier {'turn' if count == 1 else 'turns'}"


def send_fitting(body: Mapping[str, Any], settings: Settings, policy: str, *,
                 client: ChatClient, send: Callable[[dict[str, Any]], TurnResult],
                 warn: Callable[[str], None], pinned: Sequence[Any] = (),
                 size: Size = message_tokens, compact: Compactor | None = None) -> TurnResult:
    """Fit ``body``, send it with ``send``; a server's refusal for context length is
    explained and, under ``truncate`` or ``compact``, sent once more after fitting to the
    window the server named (or the one known)."""
    from chatcli.errors import RequestRejected

    model = str(body.get("model") or settings.model)
    fitted = fit_request(body, settings, policy, client=client, pinned=pinned, size=size,
                         compact=compact)
    for note in (fitted.note, fitted_note(fitted, model)):
        if note:
            warn(note)
    try:
        return send({**body, "messages": fitted.messages})
    except RequestRejected as exc:
        from chatcli.protocol.context_limit import context_overflow

        overflow = context_overflow(exc.message)
        if overflow is None:
            raise
        if policy == "error":
            exc.hint = ("The conversation is over the model's context window: --context"
                        " truncate leaves out the oldest turns.")
            raise
        window = overflow.limit or fitted.window
        if window is None:
            exc.hint = (f"The conversation is over {model}'s context window, which chatcli"
                        f' does not know: set context_window under [models."{model}"].')
            raise
        # The estimate was short of the server's count: aim lower by the same ratio.
        counted = overflow.asked or fitted.tokens
        aim = max(int(window * min(fitted.tokens / counted, 1.0)) - 1, 0)
        refit = fit_request({**body, "messages": fitted.messages}, settings, policy,
                            client=None, pinned=pinned, size=size, window=aim, compact=compact)
        if not (refit.left_out or refit.summarised):
            exc.hint = "Even the latest message alone is over the context window."
            raise
        done = (f"{refit.summarised} more earlier turns summarised" if refit.summarised
                else f"{fitted.left_out + refit.left_out} earlier turns left out")
        warn(f"the server says the request is over {model}'s context window"
             f" ({window} tokens); sending it again with {done}")
        if refit.note:
            warn(refit.note)
        return send({**body, "messages": refit.messages})


class WholeRecord:
    """A recorder that keeps the whole conversation while a fitted part of it is sent, and
    the summaries made for it once its messages are stored (``keep``)."""

    def __init__(self, recorder: Recorder, whole: Sequence[Any],
                 keep: KeepSummary | None = None) -> None:
        self.recorder, self.whole, self.keep = recorder, whole, keep
        self.summaries: list[tuple[Sequence[Any], list[dict[str, Any]], str, Any]] = []

    def summary_made(self, replaced: Sequence[Any], turn: list[dict[str, Any]], model: str,
                     usage: Mapping[str, Any] | None) -> None:
        """Kept once the request is recorded: what it replaces may be new in it."""
        self.summaries.append((replaced, turn, model, usage))

    def record_request(self, messages: Sequence[Any], body: Mapping[str, Any]) -> None:
        self.recorder.record_request(self.whole, body)
        for replaced, turn, model, usage in self.summaries:
            if self.keep is not None:
                self.keep(replaced, turn, model=model, usage=usage)
        self.summaries = []

    def record_reply(self, result: TurnResult) -> None:
        self.recorder.record_reply(result)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
