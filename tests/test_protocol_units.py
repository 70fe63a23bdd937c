"""The protocol layer's pieces on their own, fed hostile input: the SSE decoder,
the chunk parser and the accumulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatcli.accumulator import Accumulator
from chatcli.error_bodies import json_or_none
from chatcli.errors import ProtocolError
from chatcli.events import (
    AnnotationsDelta,
    ChunkParser,
    Event,
    ReasoningDetailsDelta,
)
from chatcli.sse import SSEDecoder, SSEEvent


def decode(pieces: list[bytes], **options: Any) -> list[SSEEvent]:
    decoder = SSEDecoder(**options)
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.flush()


def fold(*deltas: dict[str, Any], finish: str | None = "stop") -> dict[str, Any]:
    parser, acc = ChunkParser(), Accumulator()
    chunks = [{"choices": [{"index": 0, "delta": delta}]} for delta in deltas]
    if finish:
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    for chunk in chunks:
        for event in parser.parse(json.dumps(chunk)):
            acc.add(event)
    for event in parser.flush():
        acc.add(event)
    return acc.completion()["choices"][0]


# -- the decoder ------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def test_a_leading_bom_is_dropped_however_it_is_cut() -> None:
    raw = BOM + b"data: first\n\ndata: second\n\n"
    want = [SSEEvent("first"), SSEEvent("second")]
    assert decode([raw]) == want
    for cut in range(1, len(raw)):
        assert decode([raw[:cut], raw[cut:]]) == want, cut
    assert decode([raw[i:i + 1] for i in range(len(raw))]) == want


def test_only_a_leading_bom_is_dropped() -> None:
    assert decode([b"data: a\n\n" + BOM + b"data: b\n\n"]) == [SSEEvent("a")]
    assert decode([b"data: " + BOM + b"x\n\n"]) == [SSEEvent("\ufeffx")]
    assert decode([BOM[:2]]) == []  # two bytes, then the end: no event, no error
    assert decode([BOM[:2], b"data: x\n\n"]) == []  # not a BOM: part of a field name


@pytest.mark.parametrize("pieces", [
    [b"data: " + b"x" * 995],  # one read
    [b"data: ", b"x" * 500, b"x" * 495],  # reads with no line end
    [b"\n", b"data: " + b"x" * 995],  # a line end, then a long tail
])
def test_an_unterminated_line_past_the_cap_is_a_protocol_error(pieces: list[bytes]) -> None:
    with pytest.raises(ProtocolError, match="grew past 1000 bytes without ending"):
        decode(pieces, max_event_bytes=1000)


def test_an_event_of_many_lines_past_the_cap_is_a_protocol_error() -> None:
    lines = [b"data: " + b"y" * 99 + b"\n" for _ in range(11)]
    with pytest.raises(ProtocolError, match="1000 bytes"):
        decode(lines, max_event_bytes=1000)
    with pytest.raises(ProtocolError, match="1 KiB"):
        decode(lines, max_event_bytes=1024)


def test_events_up_to_the_cap_pass_and_the_cap_is_per_event() -> None:
    event = b"data: " + b"z" * 994 + b"\n\n"  # 1000 bytes of data line before its end
    events = decode([event] * 5, max_event_bytes=1000)
    assert [len(e.data) for e in events] == [994] * 5


# -- folds that stay linear -------------------------------------------------

class CountedText(str):
    """A string that counts how often it is concatenated."""

    joins = 0

    def __add__(self, other: str) -> str:
        CountedText.joins += 1
        return CountedText(str.__add__(self, other))


class CountedItem(dict[str, Any]):
    """A dict that counts how often it is compared."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        CountedItem.compared += 1
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]


def test_reasoning_details_pieces_are_joined_once() -> None:
    CountedText.joins = 0
    acc = Accumulator()
    pieces = [CountedText(f"{i} ") for i in range(2000)]
    for piece in pieces:
        acc.add(ReasoningDetailsDelta(({"type": "reasoning.text", "text": piece, "index": 0,
                                        "signature": None},)))
    acc.add(ReasoningDetailsDelta(({"type": "reasoning.text", "signature": "sig", "index": 0,
                                    "text": ""},)))
    details = acc.completion()["choices"][0]["message"]["reasoning_details"]
    assert details == [{"type": "reasoning.text", "text": "".join(pieces), "index": 0,
                        "signature": "sig"}]
    assert CountedText.joins == 0


def test_reasoning_details_stay_right_when_read_mid_stream() -> None:
    acc = Accumulator()
    first = {"type": "reasoning.summary", "summary": "Sum", "index": 0}
    acc.add(ReasoningDetailsDelta((first,)))
    acc.add(ReasoningDetailsDelta(({**first, "summary": "ma"},)))
    assert acc.completion()["choices"][0]["message"]["reasoning_details"] == [
        {**first, "summary": "Summa"}]
    acc.add(ReasoningDetailsDelta(({**first, "summary": "ry"},
                                   {"type": "reasoning.encrypted", "data": "e"})))
    acc.add(ReasoningDetailsDelta(({"type": "reasoning.text", "text": "t", "index": 1},)))
    assert acc.completion()["choices"][0]["message"]["reasoning_details"] == [
        {**first, "summary": "Summary"}, {"type": "reasoning.encrypted", "data": "e"},
        {"type": "reasoning.text", "text": "t", "index": 1}]
    assert first == {"type": "reasoning.summary", "summary": "Sum", "index": 0}


def test_annotations_are_kept_once_without_comparing_each_with_all() -> None:
    CountedItem.compared = 0
    acc = Accumulator()
    items = [CountedItem(type="url_citation", url=f"https://{i}.test") for i in range(500)]
    # Some gateways repeat the whole list so far in every chunk.
    events: list[Event] = [AnnotationsDelta(tuple(items[:end])) for end in range(50, 501, 50)]
    events.append(AnnotationsDelta(({"url": "https://0.test", "type": "url_citation"},)))
    for event in events:
        acc.add(event)
    kept = acc.completion()["choices"][0]["message"]["annotations"]
    assert CountedItem.compared <= len(items)
    assert [dict(item) for item in kept] == [dict(item) for item in items]


# -- JSON nested past Python's stack ----------------------------------------

def test_deep_json_is_a_protocol_error_or_not_json() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ProtocolError, match="nested too deeply"):
        ChunkParser().parse(deep)
    with pytest.raises(ProtocolError, match="nested too deeply"):
        ChunkParser().parse("  " + deep)
    assert json_or_none(deep.encode()) is None
