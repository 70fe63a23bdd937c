"""Parsed chunks become typed events; the only place untyped JSON is read.

Events are ``NamedTuple``s: one is made per token, and they are the cheapest
immutable record to build and to define (start-up counts). Compare them by
type first: two events of different types may hold equal fields.

``ChunkParser`` is stateful because some quirks span chunks: a ``<think>``
block at the start of content, and tool-call deltas that omit ``index``.
A non-streamed ``chat.completion`` goes through the same events, so every
renderer and the accumulator see one shape whatever the server sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from chatcli.errors import ProtocolError, ServerError


class TextDelta(NamedTuple):
    text: str
    choice: int = 0


class ReasoningDelta(NamedTuple):
    text: str
    choice: int = 0


class RefusalDelta(NamedTuple):
    text: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of one tool call; ``arguments`` is a piece of a JSON string.

    A dataclass, not a tuple: its API name ``index`` would hide ``tuple.index``.
    """

    index: int
    id: str | None
    name: str | None
    arguments: str
    choice: int = 0
    type: str | None = None


class LogprobsDelta(NamedTuple):
    content: tuple[Any, ...]
    choice: int = 0


class AudioDelta(NamedTuple):  # spoken output: base64 data and transcript, either may be ""
    data: str
    transcript: str
    choice: int = 0
    id: str | None = None


class AnnotationsDelta(NamedTuple):  # url_citation (web search sources) and such, as sent
    items: tuple[Any, ...]
    choice: int = 0


class ReasoningDetailsDelta(NamedTuple):  # kept whole, so that they can be sent back
    items: tuple[Any, ...]
    choice: int = 0


class Finish(NamedTuple):
    reason: str
    choice: int = 0


class Usage(NamedTuple):
    data: dict[str, Any]


class Meta(NamedTuple):
    """Response identity; sent again only when a chunk changes it."""

    id: str | None
    model: str | None
    created: int | None
    system_fingerprint: str | None


Event = (
    TextDelta | ReasoningDelta | RefusalDelta | ToolCallDelta | LogprobsDelta
    | AudioDelta | AnnotationsDelta | ReasoningDetailsDelta | Finish | Usage | Meta
)

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


class ThinkSplitter:
    """Routes a leading ``<think>…</think>`` block of content to reasoning.

    Fixture think_tags.sse: some gateways put reasoning inside content. Tags may
    be split across chunks, so undecided text is held back until it is clear.
    """

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> after -> text
        self._held = ""

    def split(self, text: str) -> tuple[str, str]:
        """Return (reasoning, content) for this piece of content."""
        if self._state == "text":
            return "", text
        self._held += text
        if self._state == "start":
            probe = self._held.lstrip()
            if probe.startswith(THINK_OPEN):
                self._state = "think"
                self._held = probe[len(THINK_OPEN):]
            elif THINK_OPEN.startswith(probe):
                return "", ""  # could still become "<think>"
            else:
                self._state = "text"
                held, self._held = self._held, ""
                return "", held
        reasoning = ""
        if self._state == "think":
            end = self._held.find(THINK_CLOSE)
            if end < 0:
                cut = len(self._held) - _partial_suffix(self._held, THINK_CLOSE)
                reasoning, self._held = self._held[:cut], self._held[cut:]
                return reasoning, ""
            reasoning = self._held[:end]
            self._held = self._held[end + len(THINK_CLOSE):]
            self._state = "after"
        return reasoning, self._after()

    @property
    def decided(self) -> bool:
        """Nothing more can be reasoning: every later piece is plain content."""
        return self._state == "text"

    def _after(self) -> str:
        stripped = self._held.lstrip()
        if not stripped:
            self._held = ""
            return ""
        self._state = "text"
        self._held = ""
        return stripped

    def flush(self) -> tuple[str, str]:
        """End of stream: whatever is held is reasoning if inside think, else text."""
        held, self._held = self._held, ""
        if self._state == "think":
            return held, ""
        return "", held if self._state != "after" else held.lstrip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ChunkParser:
    """Turns each SSE data payload (or a whole completion) into events."""

    def __init__(self, split_think: bool = True) -> None:
        self._split_think = split_think
        self._think: dict[int, ThinkSplitter] = {}
        self._meta: tuple[Any, ...] = (None, None, None, None)
        self._last_ident: tuple[Any, ...] = ()
        self._plain: set[int] = set()  # choices whose content is known not to open <think>
        self._tool_ids: dict[int, list[str | None]] = {}

    def parse(self, data: str) -> list[Event]:
        """Events of one streamed chunk; raises on malformed data or an error object."""
        try:
            chunk, end = _scan(data, 0)  # json.loads without its two whitespace scans
            if end != len(data):
                chunk = json.loads(data)
        except (StopIteration, ValueError, RecursionError):
            chunk = _loads_or_raise(data)  # leading whitespace; or raises the reason
        if not isinstance(chunk, dict):
            raise ProtocolError(f"chunk is not a JSON object: {_excerpt(data)}")
        if chunk.get("error"):
            raise ServerError(f"error inside the stream: {error_message(chunk)}")
        events: list[Event] = []
        self._take_meta(chunk, events)
        choices = chunk.get("choices") or ()
        if not isinstance(choices, list | tuple):
            raise ProtocolError(f"chunk has choices that are not a list: {_excerpt(data)}")
        for choice in choices:
            if isinstance(choice, dict):
                self._take_choice(choice, choice.get("delta") or {}, events)
        usage = chunk.get("usage")
        if isinstance(usage, dict) and usage:
            events.append(Usage(usage))
        return events

    def parse_completion(self, body: dict[str, Any]) -> list[Event]:
        """Events of a non-streamed ``chat.completion`` (or JSON sent despite ``stream``)."""
        if body.get("error"):
            raise ServerError(f"error in the response: {error_message(body)}")
        if not isinstance(body.get("choices"), list):
            raise ProtocolError("response has no choices")
        events: list[Event] = []
        self._take_meta(body, events)
        for choice in body["choices"]:
            if isinstance(choice, dict):
                message = choice.get("message") or choice.get("delta") or {}
                self._take_choice(choice, message, events)
        events.extend(self.flush())
        usage = body.get("usage")
        if isinstance(usage, dict) and usage:
            events.append(Usage(usage))
        return events

    def flush(self) -> list[Event]:
        """End of stream: release text a ``<think>`` splitter still holds."""
        return [event for index in self._think for event in self._flush_choice(index)]

    def _take_meta(self, chunk: dict[str, Any], events: list[Event]) -> None:
        fields = (chunk.get("id"), chunk.get("model"), chunk.get("created"),
                  chunk.get("system_fingerprint"))
        if fields == self._last_ident:
            return  # the usual case: every chunk repeats the same identity
        self._last_ident = fields
        typed = [value if isinstance(value, kind) and not isinstance(value, bool) else None
                 for value, kind in zip(fields, _META_TYPES, strict=True)]
        merged: tuple[Any, ...] = tuple(new if new is not None else old
                                        for new, old in zip(typed, self._meta, strict=True))
        if merged != self._meta:
            self._meta = merged
            events.append(Meta(*merged))

    def _take_choice(self, choice: dict[str, Any], delta: Any, events: list[Event]) -> None:
        index = choice.get("index")
        index = index if isinstance(index, int) else 0
        if not isinstance(delta, dict):
            raise ProtocolError(f"choice {index} has a delta that is not an object")
        content = delta.get("content")
        if len(delta) == 1 and content is not None:  # the usual delta: content alone
            if isinstance(content, str) and content:
                self._take_content(content, index, events)
        else:
            self._take_delta(delta, content, index, events)
        logprobs = choice.get("logprobs")
        if logprobs and isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            events.append(LogprobsDelta(tuple(logprobs["content"]), index))
        finish = choice.get("finish_reason")
        if finish and isinstance(finish, str):
            events.extend(self._flush_choice(index))
            events.append(Finish(finish, index))

    def _take_delta(self, delta: dict[str, Any], content: Any, index: int,
                    events: list[Event]) -> None:
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")  # fixture reasoning_field.sse
        details = delta.get("reasoning_details")
        if isinstance(details, list) and details:
            events.append(ReasoningDetailsDelta(tuple(details), index))
            if not (isinstance(reasoning, str) and reasoning):
                # reasoning_details.sse; with both (reasoning_field.sse) count the text once
                reasoning = details_text(details)
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning, index))
        if isinstance(content, str) and content:
            self._take_content(content, index, events)
        _take_extras(delta, index, events)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            events.append(RefusalDelta(refusal, index))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for position, call in enumerate(tool_calls):
                if isinstance(call, dict):
                    events.append(self._tool_delta(call, position, index))
        function_call = delta.get("function_call")  # legacy single-function responses
        if isinstance(function_call, dict):
            events.append(self._tool_delta({"function": function_call, "index": 0}, 0, index))

    def _take_content(self, content: str, index: int, events: list[Event]) -> None:
        if not self._split_think or index in self._plain:
            events.append(TextDelta(content, index))
            return
        splitter = self._think.get(index)
        if splitter is None:
            splitter = self._think[index] = ThinkSplitter()
        reasoning, text = splitter.split(content)
        if splitter.decided:
            self._plain.add(index)
        if reasoning:
            events.append(ReasoningDelta(reasoning, index))
        if text:
            events.append(TextDelta(text, index))

    def _flush_choice(self, index: int) -> list[Event]:
        splitter = self._think.get(index)
        if splitter is None:
            return []
        reasoning, text = splitter.flush()
        events: list[Event] = []
        if reasoning:
            events.append(ReasoningDelta(reasoning, index))
        if text:
            events.append(TextDelta(text, index))
        return events

    def _tool_delta(self, call: dict[str, Any], position: int, choice: int) -> ToolCallDelta:
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        assert isinstance(function, dict)
        call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
        index = call.get("index")
        ids = self._tool_ids.setdefault(choice, [])
        if not isinstance(index, int):
            # Fixture tool_missing_index.sse: a new id starts a new call,
            # otherwise the fragment continues the latest call.
            if call_id is not None and call_id not in ids:
                index = len(ids) if ids else position
            else:
                index = ids.index(call_id) if call_id in ids else max(len(ids) - 1, position)
        if call_id is not None and call_id not in ids:
            ids.append(call_id)
        arguments = function.get("arguments")
        if isinstance(arguments, dict | list):
            arguments = json.dumps(arguments)  # some gateways send parsed arguments
        name = function.get("name")
        return ToolCallDelta(
            index=index,
            id=call_id,
            name=name if isinstance(name, str) and name else None,
            arguments=arguments if isinstance(arguments, str) else "",
            choice=choice,
            type=call.get("type") if isinstance(call.get("type"), str) else None,
        )


_META_TYPES = (str, str, int, str)  # id, model, created, system_fingerprint
_DETAIL_KEYS = {"reasoning.text": "text", "reasoning.summary": "summary"}
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner, undeclared


def _take_extras(delta: dict[str, Any], index: int, events: list[Event]) -> None:
    """Spoken output and annotations; fixtures audio.sse and annotations.sse."""
    if isinstance(audio := delta.get("audio"), dict):
        data, text, ident = (audio.get(k) for k in ("data", "transcript", "id"))
        events.append(AudioDelta(
            data if isinstance(data, str) else "", text if isinstance(text, str) else "",
            index, ident if isinstance(ident, str) and ident else None))
    if isinstance(annotations := delta.get("annotations"), list) and annotations:
        events.append(AnnotationsDelta(tuple(annotations), index))


def details_text(details: list[Any]) -> str:
    """The readable text of ``reasoning_details``; encrypted items have none to show."""
    return "".join(
        value for item in details if isinstance(item, dict)
        for value in (item.get(_DETAIL_KEYS.get(str(item.get("type")), "")),)
        if isinstance(value, str))


def _loads_or_raise(data: str) -> Any:
    """The slow path: leading whitespace is fine, anything else malformed is not."""
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ProtocolError(f"malformed chunk in the stream: {_excerpt(data)}") from exc
    except RecursionError:  # JSON nested past Python's stack: fixture-free, 100,000 levels
        raise ProtocolError(f"chunk nested too deeply to read: {_excerpt(data)}") from None


def error_message(body: Any) -> str:
    """The server's own words from any error shape we have met."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("msg") or json.dumps(error)
            code = error.get("code") or error.get("type")
            return f"{message} ({code})" if code and str(code) not in str(message) else str(message)
        if isinstance(error, str) and error:
            return error
        detail = body.get("detail")
        if detail:
            return detail if isinstance(detail, str) else json.dumps(detail)
        if isinstance(body.get("message"), str):
            return str(body["message"])
        return json.dumps(body)
    return str(body)


def _excerpt(text: str, limit: int = 80) -> str:
    flat = text.replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "…"
