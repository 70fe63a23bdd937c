"""Property tests: whatever a server sends, the terminal gets only chatcli's own escapes.

Arbitrary text, reasoning and tool calls, mixing every hostile payload, Markdown
syntax, character references and random unicode, go through the RichRenderer on
the console chatcli writes with, live frames included; whole answers go through
``markdown()`` in one go. ``CHATCLI_FUZZ_EXAMPLES`` sets the example count.
"""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.control import Control

from chatcli.protocol.events import Event, Finish, ReasoningDelta, TextDelta, ToolCallDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions
from chatcli.render.answer_markdown import markdown
from chatcli.render.terminal import RichRenderer
from terminal_allowlist import PAYLOADS, violations
from test_fuzz import FUZZ
from test_render_rich import console, ticking

MARKDOWN = ["\n", "\n\n", "# ", "## ", "- ", "1. ", "> ", "```", "```python\n", "~~~", "    ",
            "**", "*", "_", "`", "[", "](", ")", "![", "<", ">", "<https://x.example>",
            "[a](https://x.example)", "| a | b |\n|---|---|\n", "| ", "---\n", "===\n", "\\",
            "<br>", "<div>", "<!-- ", " -->", "&amp;", "&lt;", "\t", "  \n", "[r]: /u\n"]
REFERENCES = ["&#x202E;", "&#x202e;", "&#x2066;", "&#x2069;", "&#x2028;", "&#x2029;", "&#27;",
              "&#x1b;", "&#x9b;", "&#x9d;", "&#13;", "&#x0d;", "&#8;", "&#x7f;", "&#x200f;",
              "&#x61c;", "&#xd83d;", "&#0;", "&#12;", "&#x85;", "&rlm;", "&lrm;"]
JSON_ESCAPES = ['\\u009b', '\\u009d', '\\u202e', '\\u2066', '\\u001b', '\\u0007', '\\u2028',
                '\\ud83d', '\\r', '\\b', '{"a": "', '"}', '[', ']', ', "k": ']

pieces = st.one_of(
    st.sampled_from(sorted(PAYLOADS.values())),
    st.sampled_from(MARKDOWN),
    st.sampled_from(REFERENCES),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x3000), max_size=6),
)
server_text = st.lists(pieces, max_size=12).map("".join)
argument_text = st.lists(st.one_of(pieces, st.sampled_from(JSON_ESCAPES)),
                         max_size=10).map("".join)

events = st.one_of(
    st.builds(TextDelta, server_text),
    st.builds(ReasoningDelta, server_text),
    st.builds(ToolCallDelta, st.integers(0, 1), st.none() | st.just("call_1"),
              st.none() | server_text, st.none() | argument_text),
)


def rendered(stream: list[Event], abort: bool, step: float) -> str:
    out = console(interactive=True, colour="256")
    clock = ticking(step)
    renderer = RichRenderer(out, RenderOptions(), clock=lambda: next(clock))
    renderer.start()
    for event in stream:
        renderer.on_events([event], None)
        out.print(Control())  # let the Live draw its frame now, as its thread would
    content = "".join(e.text for e in stream if isinstance(e, TextDelta))
    result = TurnResult(completion={"choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}}]})
    (renderer.abort if abort else renderer.finish)(result)
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


@FUZZ
@given(st.lists(events, max_size=10), st.booleans(), st.sampled_from([0.01, 0.1, 1.0]))
def test_a_streamed_turn_writes_only_chatcli_escapes(stream: list[Event], abort: bool,
                                                    step: float) -> None:
    assert violations(rendered([*stream, Finish("stop")], abort, step)) == []


@FUZZ
@given(st.lists(pieces, max_size=40).map("".join), st.sampled_from([20, 80]))
def test_a_whole_answer_in_one_go_writes_only_chatcli_escapes(answer: str, width: int) -> None:
    out = console(width, colour="truecolor")
    out.print(markdown(answer), crop=False)
    assert isinstance(out.file, io.StringIO)
    assert violations(out.file.getvalue()) == []
