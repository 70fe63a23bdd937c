"""Property tests for the decoder, the chunk parser and the accumulator.

Any split of a valid stream gives the same result; arbitrary bytes and JSON
never raise anything but chatcli's own protocol errors. The CI run uses the
default example count; a longer pass sets ``CHATCLI_FUZZ_EXAMPLES``.
"""

from __future__ import annotations

import contextlib
import json
import os
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatcli.errors import ProtocolError, ServerError
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.events import ChunkParser
from test_streams import decode

EXAMPLES = int(os.environ.get("CHATCLI_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                    max_size=40)
eol = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A stream of events with comments and fields, any line endings, and its data."""
    end = draw(eol)
    parts: list[str] = []
    datas: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            parts.append(":" + draw(line_text) + end)
        lines = draw(st.lists(line_text, min_size=1, max_size=3))
        if draw(st.booleans()):
            parts.append("event: message" + end)
        parts.extend(f"data: {line}{end}" for line in lines)
        parts.append(end)
        datas.append("\n".join(lines))
    return "".join(parts).encode(), datas


def split_at(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts})
    edges = [0, *points, len(raw)]
    return [raw[a:b] for a, b in pairwise(edges)]


@FUZZ
@given(sse_streams(), st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_of_a_stream_gives_the_same_events(stream: tuple[bytes, list[str]],
                                                     cuts: list[int]) -> None:
    raw, datas = stream
    whole = decode([raw])
    assert [e.data for e in whole] == datas
    assert decode(split_at(raw, cuts)) == whole


@FUZZ
@given(st.binary(max_size=400), st.lists(st.integers(0, 1000), max_size=8))
def test_arbitrary_bytes_never_break_the_decoder(raw: bytes, cuts: list[int]) -> None:
    assert decode(split_at(raw, cuts)) == decode([raw])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["choices", "delta", "message", "content", "index", "tool_calls",
                         "function", "name", "arguments", "id", "finish_reason", "usage",
                         "reasoning_content", "reasoning", "refusal", "logprobs", "error",
                         "model", "created", "type", "x"]), inner, max_size=5),
    max_leaves=25,
)


tool_calls = st.lists(st.fixed_dictionaries({}, optional={
    "index": json_values, "id": json_values, "type": json_values,
    "function": json_values | st.fixed_dictionaries({}, optional={
        "name": json_values, "arguments": json_values})}), max_size=3)
deltas = st.fixed_dictionaries({}, optional={
    "content": json_values, "reasoning_content": json_values, "reasoning": json_values,
    "refusal": json_values, "role": json_values, "tool_calls": json_values | tool_calls,
    "function_call": json_values})
choices = st.lists(st.fixed_dictionaries({}, optional={
    "index": json_values, "delta": json_values | deltas, "message": json_values | deltas,
    "finish_reason": json_values, "logprobs": json_values}), max_size=3)
chunks = st.fixed_dictionaries({}, optional={
    "id": json_values, "model": json_values, "created": json_values,
    "system_fingerprint": json_values, "choices": json_values | choices,
    "usage": json_values, "error": st.none() | json_values})


@FUZZ
@given(json_values | chunks)
def test_arbitrary_json_raises_only_chatcli_errors(value: Any) -> None:
    parser = ChunkParser()
    accumulator = Accumulator()
    try:
        for event in parser.parse(json.dumps(value)):
            accumulator.add(event)
        for event in parser.flush():
            accumulator.add(event)
    except (ProtocolError, ServerError):
        return
    completion = accumulator.completion()
    json.dumps(completion)
    for field in ("id", "model", "system_fingerprint"):
        assert completion[field] is None or isinstance(completion[field], str)


@FUZZ
@given(chunks)
def test_arbitrary_completions_raise_only_chatcli_errors(value: dict[str, Any]) -> None:
    with contextlib.suppress(ProtocolError, ServerError):
        ChunkParser().parse_completion(value)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_chatcli_errors(text: str) -> None:
    with contextlib.suppress(ProtocolError, ServerError):
        ChunkParser().parse(text)


@FUZZ
@given(st.text(max_size=300), st.lists(st.integers(0, 300), max_size=10), st.booleans())
def test_any_split_of_content_assembles_the_same_message(text: str, cuts: list[int],
                                                         think: bool) -> None:
    content = f"<think>{text[:20]}</think>{text}" if think else text
    points = sorted({c % (len(content) + 1) for c in cuts})
    edges = [0, *points, len(content)]
    pieces = [content[a:b] for a, b in pairwise(edges)]

    def assemble(parts: list[str]) -> dict[str, Any]:
        parser = ChunkParser()
        accumulator = Accumulator()
        for part in [*parts, None]:
            delta = {"content": part} if part is not None else {}
            chunk = {"choices": [{"index": 0, "delta": delta,
                                  "finish_reason": None if part is not None else "stop"}]}
            for event in parser.parse(json.dumps(chunk)):
                accumulator.add(event)
        return accumulator.completion()["choices"][0]["message"]

    assert assemble(pieces) == assemble([content])
