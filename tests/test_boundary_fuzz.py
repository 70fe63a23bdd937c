"""Property tests: through every renderer other than Rich's (plain, json, events) and the
guarded streams, a terminal gets no control character of the server's; a pipe gets the
text byte for byte. (The Rich renderer has its own in ``test_render_fuzz``.)
"""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from chatcli.output_guard import GuardedStream, write_json
from chatcli.protocol.accumulator import Accumulator
from chatcli.protocol.events import Event, Finish, ReasoningDelta, TextDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.json_modes import EventsRenderer, JsonRenderer
from chatcli.render.plain import PlainRenderer
from terminal_allowlist import violations
from test_fuzz import FUZZ
from test_render_fuzz import events as event_strategy
from test_render_fuzz import server_text


def result_of(events: list[Event]) -> TurnResult:
    accumulator = Accumulator()
    for event in events:
        accumulator.add(event)
    return TurnResult(completion=accumulator.completion())


def raw_chunk(event: Event) -> str | None:
    """The chunk an event came in, as JSON text (what the events renderer copies)."""
    if isinstance(event, TextDelta):
        delta: dict[str, object] = {"content": event.text}
    elif isinstance(event, ReasoningDelta):
        delta = {"reasoning_content": event.text}
    else:
        return None
    return json.dumps({"choices": [{"index": 0, "delta": delta}]}, ensure_ascii=False)


def streams(terminal: bool) -> tuple[GuardedStream, GuardedStream]:
    return (GuardedStream(io.StringIO(), terminal), GuardedStream(io.StringIO(), terminal))


@FUZZ
@given(st.lists(event_strategy, max_size=10))
def test_plain_on_a_terminal_writes_nothing_a_terminal_obeys(events: list[Event]) -> None:
    out, err = streams(True)
    renderer = PlainRenderer(out, err, RenderOptions(reasoning="show"), out_is_terminal=True,
                             err_is_terminal=True)
    renderer.start()
    for event in [*events, Finish("stop")]:
        renderer.on_events([event], None)
        renderer.flush()
    renderer.finish(result_of(events))
    assert not violations(out.stream.getvalue() + err.stream.getvalue())


@FUZZ
@given(st.lists(event_strategy, max_size=10))
def test_json_and_events_on_a_terminal_stay_valid_json_and_safe(events: list[Event]) -> None:
    out, _ = streams(True)
    renderer = JsonRenderer(out, terminal=True)
    renderer.finish(result_of(events))
    text = out.stream.getvalue()
    assert not violations(text)
    assert json.loads(text)["object"] == "chat.completion"
    out, _ = streams(True)
    lines = EventsRenderer(out, terminal=True)
    for event in events:
        lines.on_events([event], raw_chunk(event))
        lines.flush()
    text = out.stream.getvalue()
    assert not violations(text)
    assert all(json.loads(line) for line in text.splitlines())


@FUZZ
@given(server_text)
def test_a_guarded_terminal_escapes_and_a_pipe_passes_bytes(text: str) -> None:
    terminal, pipe = GuardedStream(io.StringIO(), True), GuardedStream(io.StringIO(), False)
    terminal.write(text)
    write_json(terminal, {"text": text})
    assert not violations(terminal.stream.getvalue())
    pipe.write(text)
    assert pipe.stream.getvalue() == text
