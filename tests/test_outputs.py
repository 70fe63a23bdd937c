"""Spoken output, sources, reasoning_details and coloured logprobs."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from rich.console import Console

from chatcli.media.audio_out import write_audio
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.events import ChunkParser
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.plain import PlainRenderer
from chatcli.render.terminal import RichRenderer

SOUND = b"RIFF\0\0\0\0WAVEdata"


def fold(*chunks: dict[str, object]) -> Accumulator:
    parser, acc = ChunkParser(), Accumulator()
    for chunk in chunks:
        for event in parser.parse(json.dumps(chunk)):
            acc.add(event)
    return acc


def delta(**fields: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": fields}]}


def test_streamed_audio_is_joined_and_written(tmp_path: Path) -> None:
    encoded = base64.b64encode(SOUND).decode()
    acc = fold(delta(audio={"id": "audio_1", "transcript": "Hel"}),
               delta(audio={"data": encoded[:8], "transcript": "lo"}),
               delta(audio={"data": encoded[8:]}))
    message = acc.completion()["choices"][0]["message"]
    assert message["audio"] == {"id": "audio_1", "data": encoded, "transcript": "Hello"}
    target = tmp_path / "out.wav"
    assert write_audio(TurnResult(acc.completion()), str(target)) == len(SOUND)
    assert target.read_bytes() == SOUND


def test_reasoning_details_alone_are_shown_and_kept() -> None:
    acc = fold(delta(reasoning_details=[{"type": "reasoning.text", "text": "Th", "index": 0}]),
               delta(reasoning_details=[{"type": "reasoning.text", "text": "ink", "index": 0},
                                        {"type": "reasoning.encrypted", "data": "xx"}]))
    message = acc.completion()["choices"][0]["message"]
    assert message["reasoning_content"] == "Think"
    assert message["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Think", "index": 0},
        {"type": "reasoning.encrypted", "data": "xx"}]


def test_plain_shows_the_transcript_and_sources_on_stderr() -> None:
    acc = fold(delta(audio={"transcript": "Hi there"}),
               delta(annotations=[{"type": "url_citation", "url_citation": {
                   "url": "https://a.test", "title": "A"}}]))
    out, err = io.StringIO(), io.StringIO()
    renderer = PlainRenderer(out, err, RenderOptions())
    parser = ChunkParser()
    renderer.on_events(parser.parse(json.dumps(delta(audio={"transcript": "Hi there"}))), None)
    renderer.finish(TurnResult(acc.completion()))
    assert out.getvalue() == "Hi there\n"
    assert err.getvalue() == "[1] A — https://a.test\n"


def test_rich_colours_tokens_and_lists_the_least_likely() -> None:
    out = Console(file=io.StringIO(), width=80, height=40, force_terminal=True,
                  color_system="standard", legacy_windows=False)
    err = Console(file=io.StringIO(), width=80, color_system=None, force_terminal=True)
    renderer = RichRenderer(out, RenderOptions(logprobs=True, top_logprobs=2),
                            clock=lambda: 0.0, err=err)
    entries = [{"token": "Hi", "logprob": 0.0, "top_logprobs": []},
               {"token": "!", "logprob": -2.0,
                "top_logprobs": [{"token": ".", "logprob": -0.2}]}]
    renderer.finish(TurnResult({"choices": [{"index": 0, "logprobs": {"content": entries},
                                             "message": {"content": "Hi!"}}]}))
    assert isinstance(out.file, io.StringIO) and isinstance(err.file, io.StringIO)
    shown = out.file.getvalue()
    assert "Hi\x1b[31m!\x1b[0m" in shown
    assert "'!' 14% → '.' 82%" in shown
    assert err.file.getvalue() == "token probability: ≥ 0.9 · ≥ 0.5 · < 0.5\n"
