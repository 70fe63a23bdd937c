"""Parsed chunks become typed events; the only place untyped JSON is read.

Events are ``NamedTuple``s, the cheapest record to build per token: compare them
by type first. ``ChunkParser`` keeps state for quirks that span chunks, cleans
optional fields (usage, logprobs) and says what it dropped in ``notes``; a
non-streamed completion gives the same events. It never prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from chatcli.errors import ProtocolError, ServerError
from chatcli.protocol.error_bodies import (
    StreamError,
    error_message,
    event_error,
    excerpt,
    stream_error,
)
from chatcli.protocol.optional_fields import clean_logprobs, clean_usage
from chatcli.protocol.text_pieces import PairJoiner, ThinkSplitter, whole


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
    A dataclass, not a tuple: its API name ``index`` would hide ``tuple.index``."""

    index: int
    id: str | None
    name: str | None
    arguments: str
    choice: int = 0
    type: str | None = None


class LogprobsDelta(NamedTuple):  # part: "content", or "reasoning" for thinking tokens
    content: tuple[Any, ...]
    choice: int = 0
    part: str = "content"


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


class ThinkUnclosed(NamedTuple):  # content opened <think>, never closed: that was the answer
    choice: int = 0


class Finish(NamedTuple):
    reason: str
    choice: int = 0


class Usage(NamedTuple):
    data: dict[str, Any]


class Meta(NamedTuple):  # response identity; sent again only when a chunk changes it
    id: str | None
    model: str | None
    created: int | None
    system_fingerprint: str | None


Event = (
    TextDelta | ReasoningDelta | RefusalDelta | ToolCallDelta | LogprobsDelta | AudioDelta
    | AnnotationsDelta | ReasoningDetailsDelta | ThinkUnclosed | Finish | Usage | Meta
)


class ChunkParser:
    """Turns each SSE data payload (or a whole completion) into events.
    ``top_logprobs`` is the number of alternatives asked for, if known."""

    def __init__(self, split_think: bool = True, top_logprobs: int | None = None) -> None:
        self._split_think = split_think
        self._top = top_logprobs
        self._think: dict[int, ThinkSplitter] = {}
        self._meta: tuple[Any, ...] = (None, None, None, None)
        self._last_ident: tuple[Any, ...] = ()
        self._plain: set[int] = set()  # choices whose content is known not to open <think>
        self._tool_ids: dict[int, list[str | None]] = {}
        self._pairs = PairJoiner()
        self._high = self._pairs.held  # the same dict: one cheap look on the hot path
        self._errored = False  # a choice ended with finish_reason "error"
        self.notes: list[str] = []  # what was ignored, said once each (shown with -v)

    def parse(self, data: str, event: str | None = None) -> list[Event]:
        """Events of one streamed chunk; raises on malformed data or an error in any shape."""
        if event == "error":  # fixture event_error.sse
            raise StreamError(f"error inside the stream: {event_error(data)}")
        try:
            chunk = fast_loads(data)  # orjson: the common chunk, in about half the time
        except ValueError:  # what it refuses (a lone surrogate, NaN, a huge int): the stdlib
            chunk = _stdlib_loads(data)
        if not isinstance(chunk, dict):
            raise ProtocolError(f"chunk is not a JSON object: {excerpt(data)}")
        if not isinstance(chunk.get("choices") or (), list | tuple):
            raise ProtocolError(f"chunk has choices that are not a list: {excerpt(data)}")
        return self._take_body(chunk, "delta", "error inside the stream")

    def parse_completion(self, body: dict[str, Any]) -> list[Event]:
        """Events of a non-streamed ``chat.completion`` (or JSON sent despite ``stream``)."""
        if body.get("error") or body.get("object") == "error":
            raise ServerError(f"error in the response: {error_message(body)}")
        if not isinstance(body.get("choices"), list):
            raise ProtocolError("response has no choices")
        return self._take_body(body, "message", "error in the response", end=True)

    def _take_body(self, body: dict[str, Any], key: str, where: str,
                   end: bool = False) -> list[Event]:
        events: list[Event] = []
        self._take_meta(body, events)
        for choice in body.get("choices") or ():
            if isinstance(choice, dict):
                self._take_choice(choice, choice.get(key) or choice.get("delta") or {}, events)
        if end:
            events.extend(self.flush())
        if (usage := body.get("usage")) and (clean := clean_usage(usage, self._note)):
            events.append(Usage(clean))
        if body.get("error") or body.get("object") == "error" or self._errored:
            message = stream_error(body, self._errored)
            if message is not None:  # what came before the error in this chunk is kept
                raise StreamError(f"{where}: {message}", events)
        return events

    def flush(self) -> list[Event]:
        """End of stream: release text held back (a ``<think>`` undecided, half a pair)."""
        pending = dict.fromkeys([*self._think, *(key[0] for key in self._high)])
        return [event for index in pending for event in self._flush_choice(index)]

    def _note(self, note: str) -> None:
        if note not in self.notes and len(self.notes) < 20:
            self.notes.append(note)

    def _take_meta(self, chunk: dict[str, Any], events: list[Event]) -> None:
        fields = (chunk.get("id"), chunk.get("model"), chunk.get("created"),
                  chunk.get("system_fingerprint"))
        if fields == self._last_ident:
            return  # the usual case: every chunk repeats the same identity
        self._last_ident = fields
        typed = [(whole(value) if isinstance(value, str) else value)
                 if isinstance(value, kind) and not isinstance(value, bool) else None
                 for value, kind in zip(fields, _META_TYPES, strict=True)]
        merged: tuple[Any, ...] = tuple(new if new is not None else old
                                        for new, old in zip(typed, self._meta, strict=True))
        if merged != self._meta:
            self._meta = merged
            events.append(Meta(*merged))

    def _take_choice(self, choice: dict[str, Any], delta: Any, events: list[Event]) -> None:
        index = index if isinstance(index := choice.get("index"), int) else 0
        if not isinstance(delta, dict):
            raise ProtocolError(f"choice {index} has a delta that is not an object")
        start = len(events)
        content = delta.get("content")
        if len(delta) == 1 and content is not None:  # the usual delta: content alone
            if isinstance(content, str) and content:
                self._take_content(content, index, events)
        else:
            self._take_delta(delta, content, index, events)
        logprobs = choice.get("logprobs")
        if logprobs and isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            self._take_logprobs(logprobs["content"], index, content, events[start:], events)
        finish = choice.get("finish_reason")
        if finish and isinstance(finish, str):
            events.extend(self._flush_choice(index))
            if finish != "error":  # fixture finish_error.sse: not a finish but an error
                events.append(Finish(finish, index))
            self._errored = self._errored or finish == "error"

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
        if isinstance(reasoning, str) and reasoning and (
                reasoning := self._mend(reasoning, (index, "reasoning"))):
            events.append(ReasoningDelta(reasoning, index))
        if isinstance(content, str) and content:
            self._take_content(content, index, events)
        self._take_extras(delta, index, events)
        if isinstance(refusal := delta.get("refusal"), str) and refusal and (
                refusal := self._mend(refusal, (index, "refusal"))):
            events.append(RefusalDelta(refusal, index))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for position, call in enumerate(tool_calls):
                if isinstance(call, dict):
                    events.append(self._tool_delta(call, position, index))
        function_call = delta.get("function_call")  # legacy single-function responses
        if isinstance(function_call, dict):
            events.append(self._tool_delta({"function": function_call, "index": 0}, 0, index))

    def _mend(self, text: str, key: tuple[int, str | int]) -> str:
        """``text`` as whole characters (fixture split_surrogate.sse)."""
        return text if text.isascii() and not self._high else self._pairs.join(text, key)

    def _take_content(self, content: str, index: int, events: list[Event]) -> None:
        if (not content.isascii() or self._high) and not (
                content := self._pairs.join(content, (index, "content"))):
            return
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
        events: list[Event] = []
        for part in self._pairs.release(index):  # half a pair whose other half never came
            if part == "content":
                self._take_content("\ufffd", index, events)
            else:
                events.append(_LONE[part](index) if isinstance(part, str)
                              else ToolCallDelta(part, None, None, "\ufffd", index))
        splitter = self._think.get(index)
        if splitter is not None:
            text, unclosed = splitter.flush()
            if unclosed:
                events.append(ThinkUnclosed(index))
            if text:
                events.append(TextDelta(text, index))
        return events

    def _take_logprobs(self, entries: list[Any], index: int, content: Any,
                       made: list[Event], events: list[Event]) -> None:
        """Logprobs go with the part their chunk carried (fixture logprobs_reasoning.sse):
        the answer's, or its reasoning's, also when a ``<think>`` block routed the text."""
        kinds = {type(event) for event in made}
        thinking = TextDelta not in kinds and (ReasoningDelta in kinds or (
            isinstance(content, str) and bool(content) and index in self._think
            and index not in self._plain))
        clean = clean_logprobs(entries, self._top, self._note)
        if clean:
            events.append(LogprobsDelta(clean, index, "reasoning" if thinking else "content"))

    def _take_extras(self, delta: dict[str, Any], index: int, events: list[Event]) -> None:
        """Spoken output and annotations; fixtures audio.sse and annotations.sse."""
        if isinstance(audio := delta.get("audio"), dict):
            data, text, ident = (audio.get(k) for k in ("data", "transcript", "id"))
            text = self._mend(text, (index, "transcript")) if isinstance(text, str) and text else ""
            events.append(AudioDelta(
                whole(data) if isinstance(data, str) else "", text,
                index, whole(ident) if isinstance(ident, str) and ident else None))
        if isinstance(annotations := delta.get("annotations"), list) and annotations:
            events.append(AnnotationsDelta(tuple(annotations), index))

    def _tool_delta(self, call: dict[str, Any], position: int, choice: int) -> ToolCallDelta:
        function = found if isinstance(found := call.get("function"), dict) else {}
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
        name, kind = function.get("name"), call.get("type")
        return ToolCallDelta(
            index=index,
            id=whole(call_id) if call_id else None,
            name=whole(name) if isinstance(name, str) and name else None,
            arguments=self._mend(arguments, (choice, index))
            if isinstance(arguments, str) and arguments else "",
            choice=choice,
            type=whole(kind) if isinstance(kind, str) else None,
        )


_META_TYPES = (str, str, int, str)  # id, model, created, system_fingerprint
_LONE: dict[str, Callable[[int], Event]] = {  # U+FFFD for half a pair, by part
    "reasoning": lambda i: ReasoningDelta("\ufffd", i),
    "refusal": lambda i: RefusalDelta("\ufffd", i),
    "transcript": lambda i: AudioDelta("", "\ufffd", i)}
_DETAIL_KEYS = {"reasoning.text": "text", "reasoning.summary": "summary"}
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner, undeclared


def details_text(details: list[Any]) -> str:
    """The readable text of ``reasoning_details``; encrypted items have none to show."""
    return "".join(
        value for item in details if isinstance(item, dict)
        for value in (item.get(_DETAIL_KEYS.get(str(item.get("type")), "")),)
        if isinstance(value, str))


def _stdlib_loads(data: str) -> Any:
    """The standard library's decoding: its scanner first (json.loads without its two
    whitespace scans), then json.loads itself."""
    try:
        chunk, end = _scan(data, 0)
        return chunk if end == len(data) else json.loads(data)
    except (StopIteration, ValueError, RecursionError):
        return _loads_or_raise(data)  # leading whitespace; or raises the reason


def _no_fast_loads(data: str) -> Any:
    raise ValueError("no fast decoder")


try:  # optional (chatcli[fast]); what it accepts, it decodes as json.loads would
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - without it, the standard library does all
    fast_loads: Callable[[str], Any] = _no_fast_loads
else:
    fast_loads = _orjson_loads


def _loads_or_raise(data: str) -> Any:
    """The slow path: leading whitespace is fine, anything else malformed is not."""
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ProtocolError(f"malformed chunk in the stream: {excerpt(data)}") from exc
    except RecursionError:  # JSON nested past Python's stack: fixture-free, 100,000 levels
        raise ProtocolError(f"chunk nested too deeply to read: {excerpt(data)}") from None


