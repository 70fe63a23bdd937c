"""The protocol layer's pieces on their own, fed hostile input: the SSE decoder,
the chunk parser and the accumulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcli.errors import ProtocolError
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.error_bodies import json_or_none
from chatcli.protocol.events import (
    AnnotationsDelta,
    ChunkParser,
    Event,
    ReasoningDetailsDelta,
    TextDelta,
)
from chatcli.protocol.sse import SSEDecoder, SSEEvent
from chatcli.sanitize import whole_characters


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


# -- whole characters across chunks -----------------------------------------

def test_a_pair_cut_in_every_text_part_is_joined() -> None:
    choice = fold({"content": "a\ud83d"}, {"content": "\ude00b"},
                  {"reasoning_content": "r\ud83d"}, {"reasoning_content": "\ude00"},
                  {"audio": {"transcript": "t\ud83d"}}, {"audio": {"transcript": "\ude00"}})
    message = choice["message"]
    assert (message["content"], message["reasoning_content"]) == ("a\U0001f600b", "r\U0001f600")
    assert message["audio"]["transcript"] == "t\U0001f600"


def test_halves_left_at_the_end_become_replacement_characters() -> None:
    message = fold({"content": "c\ud83d"}, {"reasoning_content": "r\ud83d"},
                   {"refusal": "x\udc00y"},
                   {"tool_calls": [{"index": 0, "id": "c1", "function": {
                       "name": "f", "arguments": "{\"a\": \"\ud83d"}}]},
                   finish=None)["message"]
    assert message["content"] == "c\ufffd"
    assert message["reasoning_content"] == "r\ufffd"
    assert message["refusal"] == "x\ufffdy"
    assert message["tool_calls"][0]["function"]["arguments"] == '{"a": "\ufffd'


def test_a_pair_cut_in_one_choice_does_not_join_another_s() -> None:
    parser, acc = ChunkParser(), Accumulator()
    for index, text in [(0, "\ud83d"), (1, "\ude00"), (0, "\ude00")]:
        for event in parser.parse(json.dumps({"choices": [{"index": index,
                                                           "delta": {"content": text}}]})):
            acc.add(event)
    for event in parser.flush():
        acc.add(event)
    texts = [c["message"]["content"] for c in acc.completion()["choices"]]
    assert texts == ["\U0001f600", "\ufffd"]


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(["a", "é", "\U0001f600", "\ud83d", "\ude00", "\udbff", " "]),
               max_size=30), st.lists(st.integers(0, 30), max_size=6), st.booleans())
def test_any_split_of_text_with_surrogates_gives_whole_characters(
        text: str, cuts: list[int], thinking: bool) -> None:
    points = sorted({cut % (len(text) + 1) for cut in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    part = "reasoning_content" if thinking else "content"
    message = fold(*({part: piece} for piece in pieces if piece))["message"]
    assert message.get(part) == (whole_characters(text) or None)


def test_ascii_text_passes_as_it_came() -> None:
    events = ChunkParser().parse('{"choices":[{"index":0,"delta":{"content":"plain"}}]}')
    assert events == [TextDelta("plain", 0)]


def test_lone_surrogates_in_kept_objects_are_written_as_replacement_characters() -> None:
    acc = Accumulator()
    acc.add(AnnotationsDelta(({"type": "url_citation", "title": "x\ud800"},)))
    acc.add(ReasoningDetailsDelta(({"type": "reasoning.text", "text": "a\ud83d", "index": 0},)))
    acc.add(ReasoningDetailsDelta(({"type": "reasoning.text", "text": "\ude00", "index": 0},)))
    message = acc.completion()["choices"][0]["message"]
    assert message["annotations"] == [{"type": "url_citation", "title": "x\ufffd"}]
    assert message["reasoning_details"] == [
        {"type": "reasoning.text", "text": "a\U0001f600", "index": 0}]


# -- cleaned optional fields ------------------------------------------------

def test_usage_keeps_sane_counts_and_amounts() -> None:
    parser = ChunkParser()
    usage = {"prompt_tokens": 3, "completion_tokens": True, "cost": 0.0012, "is_byok": False,
             "prompt_tokens_details": {"cached_tokens": 1, "audio_tokens": None,
                                       "bad": [1]}, "server_tool_use": {"web_search": 2},
             "total_tokens": 2**53, "nested": [1, 2], "provider": "x\ud800"}
    (event,) = parser.parse(json.dumps({"choices": [], "usage": usage}))
    assert event == type(event)({
        "prompt_tokens": 3, "cost": 0.0012, "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 1, "audio_tokens": None},
        "server_tool_use": {"web_search": 2}, "provider": "x\ufffd"})
    assert parser.notes == [
        "ignored usage.completion_tokens: not a count",
        "ignored parts of usage.prompt_tokens_details that are not counts",
        "ignored usage.total_tokens: not a count",
        "ignored usage.nested: not a count"]


def test_usage_that_is_not_an_object_is_ignored() -> None:
    parser = ChunkParser()
    assert parser.parse('{"choices": [], "usage": "lots"}') == []
    assert parser.notes == ["ignored usage that is not an object"]


def test_notes_are_said_once_and_few() -> None:
    parser = ChunkParser()
    for _ in range(3):
        parser.parse(json.dumps({"choices": [], "usage": {"prompt_tokens": -1}}))
    parser.parse(json.dumps({"choices": [], "usage": {f"k{i}_tokens": "x" for i in range(50)}}))
    assert parser.notes[0] == "ignored usage.prompt_tokens: not a count"
    assert len(parser.notes) == 20


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
