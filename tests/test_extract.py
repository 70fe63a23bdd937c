"""Code extraction: ``-x``, ``--extract-last``, ``--code`` and the REPL's ``/extract``.

End to end against the fake API: answers with no, one and several fenced blocks,
streamed in pieces that cut the fences, give exactly their code on stdout; an answer
cut short gives nothing; on a real pseudo-terminal the preview on stderr is gone at
the end and the code stands highlighted.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from chatcli.render.code_blocks import CodeBlock, as_file, code_blocks
from clirun import run_cli
from fakeapi import (
    CHAT_PATH,
    SSE,
    FakeAPI,
    Gate,
    HangUp,
    chunk,
    sse_bytes,
    text_stream,
    tool_delta,
)
from test_interrupt_rendering import screen_of, spawn
from test_repl import answer, ask, err, out, repl

NESTED = ("Here is how to write a fence in Markdown:\n\n````markdown\n```python\nx = 1\n```\n"
          "````\n\nThat is all.\n")
SEVERAL = ("First install it:\n\n```sh\npip install thing\n```\n\nThen run this:\n\n"
           "~~~~ python title=run.py\nimport thing\n\nthing.run()\n~~~~\n\n"
           "- or, in a list:\n\n  ```js\n  run();\n  ```\n\nDone.")
CASES = {
    "one": ("Sure:\n\n```python\nprint('hi')\n```\n\nRun it with python.\n",
            "print('hi')\n", "print('hi')\n"),
    "several": (SEVERAL, "pip install thing\n\nimport thing\n\nthing.run()\n\nrun();\n",
                "run();\n"),
    "nested backticks": (NESTED, "```python\nx = 1\n```\n", "```python\nx = 1\n```\n"),
    "tilde and blank lines kept": ("~~~\na\n\n\nb\n~~~", "a\n\n\nb\n", "a\n\n\nb\n"),
    "unclosed at the end": ("Cut at the limit:\n```py\nx = 1\ny", "x = 1\ny\n", "x = 1\ny\n"),
}


def pieces(text: str, size: int = 3) -> list[str]:
    """``text`` in pieces of ``size`` characters: every fence is cut across chunks."""
    return [text[i:i + size] for i in range(0, len(text), size)]


def extract(fakeapi: FakeAPI, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(["--base-url", fakeapi.base_url, "--no-history", *args], env=env)


def sent_messages(fakeapi: FakeAPI) -> list[dict[str, Any]]:
    chats = [r for r in fakeapi.requests if r.path == CHAT_PATH]
    messages: list[dict[str, Any]] = chats[-1].json()["messages"]
    return messages


# -- finding the blocks -------------------------------------------------------------


def test_code_blocks_are_the_fences_commonmark_sees() -> None:
    assert code_blocks("```sh\na\n```\ntext\n````\nb\n```\nc\n````\n") == [
        CodeBlock("sh", "a"), CodeBlock("", "b\n```\nc")]
    assert code_blocks("no code ```here``` at all") == []
    assert code_blocks("``` a`b\nnot a fence\n```") == []  # a backtick in the info string
    assert code_blocks("cut short:\n```py\nx = 1\ny") == [CodeBlock("py", "x = 1\ny")]
    assert code_blocks("> ~~~~ rust extra\n> fn main() {}\n> ~~~~\n\n```\n```") == [
        CodeBlock("rust", "fn main() {}")]  # in a quote; the empty block gives nothing
    assert as_file([CodeBlock("", "a"), CodeBlock("", "b\n")]) == "a\n\nb\n\n"


# -- -x in a pipe ---------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("last", [False, True])
def test_stdout_gets_exactly_the_code(fakeapi: FakeAPI, case: str, last: bool) -> None:
    reply, every, final = CASES[case]
    fakeapi.add(SSE(text_stream(pieces(reply))))
    result = extract(fakeapi, "--extract-last" if last else "-x", "write it")
    assert (result.exit_code, result.stdout, result.stderr) == (0, final if last else every, "")


def test_a_stream_read_byte_by_byte_gives_the_same_code(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(pieces(SEVERAL, 1)), per_byte=True))
    result = extract(fakeapi, "--extract", "write it")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == CASES["several"][1]


def test_an_answer_without_a_fence_is_printed_whole_with_a_warning(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["Use `ls -l`", " for that."])))
    result = extract(fakeapi, "-x", "how?")
    assert result.exit_code == 0
    assert result.stdout == "Use `ls -l` for that.\n"
    assert result.stderr == "chatcli: warning: the answer has no code block; printed it whole\n"


@pytest.mark.parametrize("drop", ["hang up", "no finish"])
def test_an_answer_cut_short_writes_nothing_to_stdout(fakeapi: FakeAPI, drop: str) -> None:
    head = sse_bytes([chunk(role="assistant", content="Here:\n\n```python\nprint(1)\n"),
                      chunk(content="```\n")], done=False)
    fakeapi.add(HangUp(before=head) if drop == "hang up" else SSE(head))
    result = extract(fakeapi, "-x", "write it")
    assert result.exit_code != 0
    assert result.stdout == ""
    first, second, *rest = result.stderr.splitlines()
    assert first == "chatcli: warning: the answer is incomplete; nothing was written to stdout"
    assert second.startswith("chatcli: error: ")
    assert rest == []


def test_code_asks_for_code_only_in_the_language_given(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["```rust\nfn main() {}\n```"])))
    result = extract(fakeapi, "--code", "--lang", "rust", "-s", "Be brief.", "hello world")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "fn main() {}\n", "")
    system, user = sent_messages(fakeapi)
    assert system["role"] == "system"
    assert system["content"].startswith("Be brief.\n\nAnswer with code only")
    assert "fenced code block of rust" in system["content"]
    assert user == {"role": "user", "content": "hello world"}


def test_code_without_lang_leaves_the_language_to_the_prompt(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["Here:\n```\necho hi\n```\nthere"])))
    result = extract(fakeapi, "--code", "a bash one-liner")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "echo hi\n", "")
    system = sent_messages(fakeapi)[0]
    assert system["role"] == "system"
    assert system["content"].startswith("Answer with code only: the complete code in one"
                                        " fenced code block, and nothing")


def test_with_tools_stdout_gets_the_last_answers_code_only(fakeapi: FakeAPI,
                                                          tmp_path: Path) -> None:
    functions = tmp_path / "fx.py"
    functions.write_text('def add(a: int, b: int) -> int:\n    """Add."""\n    return a + b\n')
    fakeapi.add(SSE(sse_bytes([
        chunk(role="assistant", content="Let me add.\n```\nnot this\n```\n",
              tool_calls=[tool_delta(0, "c1", "add", '{"a": 1, "b": 2}')]),
        chunk(finish_reason="tool_calls")])))
    fakeapi.add(SSE(text_stream(["The sum:\n```\n3\n```\n"])))
    result = extract(fakeapi, "-x", "--functions", str(functions), "--yes", "add 1 and 2")
    assert (result.exit_code, result.stdout) == (0, "3\n")
    call, outcome = result.stderr.splitlines()  # the rounds are told on stderr
    assert call == 'tool call: add({"a":1,"b":2}) [c1]'
    assert re.fullmatch(r"tool result \[c1\] add \([0-9.]+s\): 3", outcome)


@pytest.mark.parametrize(("args", "message"), [
    (["--lang", "rust", "hi"], "--lang goes with --code"),
    (["-x", "-O", "json", "hi"], "-x prints code, -O json prints JSON: choose one"),
    (["chat", "-x"], "-x, --extract-last, --code and --lang are for one answer"),
])
def test_options_that_do_not_fit_are_usage_errors(fakeapi: FakeAPI, args: list[str],
                                                   message: str) -> None:
    result = extract(fakeapi, *args)
    assert (result.exit_code, result.stdout) == (2, "")
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"chatcli: error: {message}")
    assert hint


def test_with_a_forced_terminal_the_code_is_highlighted_and_stderr_previews(
        fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(pieces(CASES["one"][0]))))
    result = extract(fakeapi, "-x", "write it", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", result.stdout) == "print('hi')\n"
    assert "Run it with python." in result.stderr  # the preview, erased at the end
    assert result.stderr.endswith("\x1b[2K")


# -- on a real pseudo-terminal ------------------------------------------------------


def test_on_a_terminal_the_preview_goes_and_the_code_stays_highlighted(
        fakeapi: FakeAPI) -> None:
    import pexpect

    gate = fakeapi.add(Gate(
        first=sse_bytes([chunk(role="assistant", content="Some prose first.\n\n```python\n"),
                         chunk(content="def main():\n    return 42\n")], done=False),
        rest=sse_bytes([chunk(content="```\n\nAnd prose after.\n"),
                        chunk(finish_reason="stop")])))
    child = spawn(["--base-url", fakeapi.base_url, "--no-history", "-x", "write it"])
    child.expect("Some prose first")  # the live preview, on stderr
    gate.wait_reached()
    gate.release()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    raw = child.logfile_read.getvalue()
    shown = [line for line in screen_of(raw) if line]
    assert shown == ["def main():", "    return 42"]
    import pyte

    screen = pyte.Screen(80, 40)
    pyte.ByteStream(screen).feed(raw)
    row = next(y for y, line in enumerate(screen.display) if line.startswith("def main"))
    assert screen.buffer[row][0].fg != "default"  # "def", a keyword, in colour


# -- /extract in the REPL -------------------------------------------------------------


def test_extract_writes_the_nth_block_to_a_file(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(answer(*pieces(SEVERAL)))
    keys = (f"how?\r/extract {tmp_path}/last.py\r/extract 1 > {tmp_path}/one.sh\r"
            f"/extract 2 >{tmp_path}/two.py\r/extract 3\r")
    _, env = repl(ask(fakeapi), keys)
    assert (tmp_path / "last.py").read_text() == "run();\n"
    assert (tmp_path / "one.sh").read_text() == "pip install thing\n"
    assert (tmp_path / "two.py").read_text() == "import thing\n\nthing.run()\n"
    assert out(env).endswith(f"wrote 1 line of code to {tmp_path}/last.py\n"
                             f"wrote 1 line of code to {tmp_path}/one.sh\n"
                             f"wrote 3 lines of code to {tmp_path}/two.py\n"
                             "run();\n")
    assert err(env) == ""


def test_copy_code_takes_the_same_last_block(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer(NESTED))
    _, env = repl(ask(fakeapi), "how?\r/copy code\r")
    code = "```python\nx = 1\n```"
    assert f"\x1b]52;c;{base64.b64encode(code.encode()).decode()}\a" in out(env)


@pytest.mark.parametrize(("reply", "line", "message"), [
    (None, "/extract", "there is no answer to extract from"),
    ("no code here", "/extract", "the last answer has no code block"),
    ("```\na\n```\n```\nb\n```", "/extract 3", "the last answer has 2 code blocks, not 3"),
    ("```\na\n```", "/extract 0", "usage: /extract [N] [FILE] (N counts from 1)"),
    ("```\na\n```", "/extract a.py b.py", "usage: /extract [N] [FILE] (N counts from 1)"),
    ("```\na\n```", "/extract 1 >", "usage: /extract [N] [FILE]: > needs a FILE after it"),
])
def test_extract_errors_are_one_line(fakeapi: FakeAPI, reply: str | None, line: str,
                                     message: str) -> None:
    if reply is not None:
        fakeapi.add(answer(reply))
    _, env = repl(ask(fakeapi), ("question\r" if reply is not None else "") + line + "\r")
    assert err(env) == f"chatcli: error: {message}\n"


def test_extract_to_an_unwritable_file_says_why(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(answer("```\na\n```"))
    _, env = repl(ask(fakeapi), f"question\r/extract {tmp_path}/no/such/dir.py\r")
    assert err(env).startswith(f"chatcli: error: {tmp_path}/no/such/dir.py: cannot write: ")
    assert err(env).count("\n") == 1
