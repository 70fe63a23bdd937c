"""Folds events into the finished response, one choice per ``index``.

Text is kept as lists of pieces and joined once at the end, so a long answer
(or a long ``reasoning_details`` stream) costs linear time. Tool calls are keyed
by their ``index`` (fixtures parallel_tool_calls.sse, tool_first_index_1.sse),
arguments concatenated. Nothing here reads the network or prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatcli.protocol.events import (
    AnnotationsDelta,
    AudioDelta,
    Event,
    Finish,
    LogprobsDelta,
    Meta,
    ReasoningDelta,
    ReasoningDetailsDelta,
    RefusalDelta,
    TextDelta,
    ThinkUnclosed,
    ToolCallDelta,
    Usage,
)
from chatcli.sanitize import whole_characters


class TextBuffer:
    """Text arriving in many small pieces, kept compact.

    Pieces are joined every ``BATCH`` appends, so a million-token answer holds
    a few hundred strings rather than a million small objects: memory stays
    close to the text's own size.
    """

    BATCH = 4096
    __slots__ = ("_joined", "_pieces")

    def __init__(self) -> None:
        self._joined: list[str] = []
        self._pieces: list[str] = []

    def append(self, piece: str) -> None:
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) >= self.BATCH:
            self._joined.append("".join(pieces))
            self._pieces = []

    def __str__(self) -> str:
        return "".join(self._joined) + "".join(self._pieces)

    def __bool__(self) -> bool:
        return bool(self._joined or self._pieces)


@dataclass
class ToolCallState:
    index: int
    id: str | None = None
    type: str = "function"
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id or f"call_{self.index}",
            "type": self.type,
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }


@dataclass
class ChoiceState:
    index: int
    content: TextBuffer = field(default_factory=TextBuffer)
    reasoning: TextBuffer = field(default_factory=TextBuffer)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallState] = field(default_factory=dict)
    logprobs: list[Any] = field(default_factory=list)
    reasoning_logprobs: list[Any] = field(default_factory=list)  # of thinking tokens
    finish_reason: str | None = None
    reasoning_details: list[Any] = field(default_factory=list)
    detail_pieces: list[str] = field(default_factory=list)  # text of the last detail, in pieces
    annotations: list[Any] = field(default_factory=list)
    annotation_keys: set[str] = field(default_factory=set)
    think_unclosed: bool = False  # content opened <think> and never closed it
    audio_id: str | None = None
    audio_data: TextBuffer = field(default_factory=TextBuffer)
    audio_transcript: TextBuffer = field(default_factory=TextBuffer)

    @property
    def text(self) -> str:
        return str(self.content)

    def message(self) -> dict[str, Any]:
        """The assistant message in wire format, ready to send back."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.reasoning:
            message["reasoning_content"] = str(self.reasoning)
        if self.reasoning_details:
            message["reasoning_details"] = _whole_json(joined_details(self))
        if self.audio_id or self.audio_data or self.audio_transcript:
            message["audio"] = {"id": self.audio_id, "data": str(self.audio_data),
                                "transcript": str(self.audio_transcript)}
        if self.annotations:
            message["annotations"] = _whole_json(self.annotations)
        if self.refusal:
            message["refusal"] = "".join(self.refusal)
        if self.tool_calls:
            message["tool_calls"] = [
                {k: v for k, v in call.wire().items() if k != "index"}
                for _, call in sorted(self.tool_calls.items())
            ]
        return message

    def logprobs_wire(self) -> dict[str, Any] | None:
        """``logprobs`` of the choice: the answer's under ``content``, the thinking's apart.

        Those filed as thinking for a choice that ends with no reasoning text (a ``<think>``
        never closed, or text held back that was the answer) are the answer's after all.
        """
        content, thinking = self.logprobs, self.reasoning_logprobs
        if thinking and not self.reasoning:
            content, thinking = [*thinking, *content], []
        if not thinking:
            return {"content": content} if content else None
        return {"content": content or None, "reasoning_content": thinking}


class Accumulator:
    """Everything received so far; ``completion()`` is valid at any moment."""

    def __init__(self) -> None:
        self.choices: dict[int, ChoiceState] = {}
        self.usage: dict[str, Any] | None = None
        self.meta = Meta(None, None, None, None)

    def add(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.choice(event.choice).content.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self.choice(event.choice).reasoning.append(event.text)
        elif isinstance(event, ToolCallDelta):
            self._add_tool(event)
        elif isinstance(event, Finish):
            self.choice(event.choice).finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event.data
        elif isinstance(event, Meta):
            self.meta = event
        elif isinstance(event, RefusalDelta):
            self.choice(event.choice).refusal.append(event.text)
        elif isinstance(event, LogprobsDelta):
            state = self.choice(event.choice)
            kept = state.logprobs if event.part == "content" else state.reasoning_logprobs
            kept.extend(event.content)
        elif isinstance(event, AudioDelta):
            self._add_audio(event)
        elif isinstance(event, AnnotationsDelta):
            self._add_annotations(event)
        elif isinstance(event, ReasoningDetailsDelta):
            merge_details(self.choice(event.choice), event.items)
        elif isinstance(event, ThinkUnclosed):
            # Fixture think_unclosed.sse: the reasoning was the answer, which follows whole.
            state = self.choice(event.choice)
            state.reasoning, state.think_unclosed = TextBuffer(), True

    def choice(self, index: int) -> ChoiceState:
        state = self.choices.get(index)
        if state is None:
            state = self.choices[index] = ChoiceState(index)
        return state

    @property
    def finished(self) -> bool:
        """Every choice seen has a ``finish_reason``."""
        return bool(self.choices) and all(c.finish_reason for c in self.choices.values())

    def _add_tool(self, event: ToolCallDelta) -> None:
        calls = self.choice(event.choice).tool_calls
        call = calls.get(event.index)
        if call is None:
            call = calls[event.index] = ToolCallState(event.index)
        if event.id and not call.id:
            call.id = event.id
        if event.type:
            call.type = event.type
        if event.name:
            call.name += event.name if call.name != event.name else ""
        if event.arguments:
            call.arguments.append(event.arguments)

    def _add_annotations(self, event: AnnotationsDelta) -> None:
        # Some gateways repeat the whole list in several chunks: keep each once.
        state = self.choice(event.choice)
        for item in event.items:
            try:
                key = json.dumps(item, sort_keys=True)
            except (TypeError, ValueError, RecursionError):
                key = repr(item)
            if key not in state.annotation_keys:
                state.annotation_keys.add(key)
                state.annotations.append(item)

    def _add_audio(self, event: AudioDelta) -> None:
        state = self.choice(event.choice)
        if event.id and not state.audio_id:
            state.audio_id = event.id
        if event.data:
            state.audio_data.append(event.data)
        if event.transcript:
            state.audio_transcript.append(event.transcript)

    def completion(self) -> dict[str, Any]:
        """The response as one ``chat.completion`` object, streamed or not."""
        choices = []
        for index, state in sorted(self.choices.items()):
            choices.append({
                "index": index,
                "message": state.message(),
                "finish_reason": state.finish_reason,
                "logprobs": state.logprobs_wire(),
            })
        if not choices:
            choices.append({"index": 0, "message": {"role": "assistant", "content": None},
                            "finish_reason": None, "logprobs": None})
        return {
            "id": self.meta.id,
            "object": "chat.completion",
            "created": self.meta.created,
            "model": self.meta.model,
            "choices": choices,
            "usage": self.usage,
            "system_fingerprint": self.meta.system_fingerprint,
        }


_DETAIL_TEXT = {"reasoning.text": "text", "reasoning.summary": "summary"}


def merge_details(state: ChoiceState, items: tuple[Any, ...]) -> None:
    """Append ``reasoning_details``, joining streamed pieces of one text or summary.

    A stream sends each item in pieces sharing ``type`` and ``index``
    (fixture reasoning_details.sse); the message keeps one item per index,
    the shape a non-streamed response has. Other items are kept as they came.
    The pieces of the last item's text wait in ``detail_pieces``, joined once.
    """
    details = state.reasoning_details
    for item in items:
        if not isinstance(item, dict):
            continue
        key = _DETAIL_TEXT.get(str(item.get("type")))
        last = details[-1] if details else None
        if (key and isinstance(last, dict) and last.get("type") == item.get("type")
                and last.get("index") == item.get("index")
                and isinstance(last.get(key), str) and isinstance(item.get(key), str)):
            last.update((k, v) for k, v in item.items() if v is not None and k != key)
            state.detail_pieces.append(item[key])
            continue
        _close_detail(state)
        details.append(dict(item))
        if key and isinstance(item.get(key), str):
            state.detail_pieces = [item[key]]


def _close_detail(state: ChoiceState) -> None:
    """Write the joined text of the last detail into it."""
    if len(state.detail_pieces) > 1:
        last = state.reasoning_details[-1]
        last[_DETAIL_TEXT[str(last.get("type"))]] = "".join(state.detail_pieces)
    state.detail_pieces = []


def joined_details(state: ChoiceState) -> list[Any]:
    """``reasoning_details`` with the last item's text pieces joined; the state stays open."""
    pieces = state.detail_pieces
    if len(pieces) <= 1:
        return state.reasoning_details
    last = state.reasoning_details[-1]
    joined = "".join(pieces)
    state.detail_pieces = [joined]
    return [*state.reasoning_details[:-1], {**last, _DETAIL_TEXT[str(last["type"])]: joined}]


def _whole_json(value: list[Any]) -> list[Any]:
    """``value`` with lone surrogates in its strings made U+FFFD, so it can be written."""
    text = json.dumps(value, ensure_ascii=False)
    fixed = whole_characters(text)
    return value if fixed is text else list(json.loads(fixed))
