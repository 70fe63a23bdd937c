"""The entry point as a real process: start-up imports, Ctrl-C, and a reader that goes away."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from chatcli import __version__
from clirun import process_env, run_process, wait_until_polling
from fakeapi import SSE, FakeAPI, Gate, chunk, sse_bytes, text_stream


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "chatcli", *args],
                          capture_output=True, text=True, env=process_env(), check=False,
                          stdin=subprocess.DEVNULL, timeout=60)
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, done.stderr
    return modules


def test_python_dash_m_and_version() -> None:
    result = run_process(["--version"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"chatcli {__version__}\n", "")


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["--version"]])
def test_start_up_never_imports_heavy_modules(args: list[str]) -> None:
    modules = imported_modules(*args)
    for heavy in ("prompt_toolkit", "rich.markdown", "sqlite3", "pygments", "httpx"):
        assert heavy not in modules, f"{' '.join(args)} imported {heavy}"


def test_the_pipe_path_does_not_import_rich(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    modules = imported_modules("--base-url", fakeapi.base_url, "hi")
    assert "httpx" in modules
    assert "sqlite3" in modules  # the history is on
    for heavy in ("rich.markdown", "rich.console", "prompt_toolkit", "pygments"):
        assert heavy not in modules
    fakeapi.add(SSE(text_stream(["ok"])))
    assert "sqlite3" not in imported_modules("--base-url", fakeapi.base_url, "--no-history", "hi")


# What a plain one-shot prompt must not pay for: the other commands' options, templates,
# tools, the tokenizer, budgets, notifications, media, the secret rules (the pre-filter
# found nothing), Markdown and the REPL.
NOT_FOR_A_PLAIN_PROMPT = (
    "chatcli.cli.app", "chatcli.cli.app_batch", "chatcli.cli.app_compare",
    "chatcli.cli.app_endpoint", "chatcli.cli.app_history", "chatcli.cli.app_templates",
    "chatcli.config.templates", "chatcli.session.tooling",
    "chatcli.tools", "chatcli.session.tokenizer", "tiktoken", "chatcli.session.budget",
    "chatcli.session.notify", "chatcli.media.attachments", "chatcli.secrets.tokens",
    "chatcli.secrets.assignments", "chatcli.secrets.values", "chatcli.session.compaction",
    "chatcli.repl", "prompt_toolkit", "rich", "markdown_it", "pygments", "sqlite3")


def test_a_plain_prompt_imports_only_what_it_uses(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    modules = imported_modules("--base-url", fakeapi.base_url, "--no-history", "hi")
    assert {"httpx", "chatcli.cli.app_ask", "chatcli.engine.turn"} <= modules
    assert sorted(set(NOT_FOR_A_PLAIN_PROMPT) & modules) == []


def test_a_template_loads_the_template_machinery(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    modules = imported_modules("--base-url", fakeapi.base_url, "--no-history", "-T",
                               "explain", "hi")
    assert {"chatcli.session.templates", "chatcli.config.templates"} <= modules


def test_the_command_words_are_the_app_s_commands() -> None:
    from typer.main import get_command

    from chatcli.cli.app import app
    from chatcli.cli.command_words import COMMAND_WORDS

    group = get_command(app)
    assert {name: frozenset(getattr(command, "commands", {}))
            for name, command in group.commands.items()  # type: ignore[attr-defined]
            } == COMMAND_WORDS


def read_until(stream: int, wanted: bytes, deadline: float = 30.0) -> bytes:
    """Read a pipe until ``wanted`` has arrived; fail (never hang) after ``deadline``."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    data = b""
    end = time.monotonic() + deadline
    while wanted not in data:
        remaining = end - time.monotonic()
        if remaining <= 0 or not selector.select(remaining):
            raise AssertionError(f"never saw {wanted!r}; got {data!r}")
        piece = os.read(stream, 65536)
        if not piece:
            raise AssertionError(f"stream closed before {wanted!r}; got {data!r}")
        data += piece
    selector.close()
    return data


def spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "chatcli", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=process_env())


def test_ctrl_c_mid_answer_keeps_the_partial_and_exits_130(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="Half an ans")],
                                            done=False),
                            rest=sse_bytes([chunk(content="wer."), chunk(finish_reason="stop")])))
    child = spawn(["--base-url", fakeapi.base_url, "hi"])
    assert child.stdout is not None and child.stderr is not None
    seen = read_until(child.stdout.fileno(), b"Half an ans")
    wait_until_polling(child.pid)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    gate.release()
    assert (child.returncode, seen + out, err) == (130, b"Half an ans\n",
                                                   b"chatcli: interrupted\n")


def test_ctrl_c_while_waiting_for_the_first_token(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=b": waiting\n\n", rest=text_stream(["late"])))
    child = spawn(["--base-url", fakeapi.base_url, "hi"])
    gate.wait_reached()
    wait_until_polling(child.pid)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    gate.release()
    assert (child.returncode, out, err) == (130, b"", b"chatcli: interrupted\n")


def test_a_reader_that_goes_away_gets_a_quiet_141(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="Hello world")],
                                            done=False),
                            rest=text_stream(["more " * 20000])))
    child = spawn(["--base-url", fakeapi.base_url, "hi"])
    assert child.stdout is not None and child.stderr is not None
    assert read_until(child.stdout.fileno(), b"Hello")[:5] == b"Hello"
    child.stdout.close()  # like `head -c 5` exiting
    gate.release()
    err = child.stderr.read()
    child.wait(timeout=30)
    child.stderr.close()
    assert (child.returncode, err) == (141, b"")


def test_shell_pipeline_into_head(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["word "] * 50000)))
    script = (f'"{sys.executable}" -m chatcli --base-url {fakeapi.base_url} hi | head -c 5;'
              ' echo " ${PIPESTATUS[0]}"')
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=process_env(),
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert (done.stdout, done.stderr) == (b"word  141\n", b"")


def test_rich_mode_on_a_pseudo_terminal_survives_ctrl_c(fakeapi: FakeAPI) -> None:
    import pexpect

    gate = fakeapi.add(Gate(
        first=sse_bytes([chunk(role="assistant", content="# Title\n\nFirst paragraph.\n\n"),
                         chunk(content="Second, unfin")], done=False),
        rest=sse_bytes([chunk(content="ished."), chunk(finish_reason="stop")])))
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "--base-url", fakeapi.base_url, "hi"],
                          env=process_env({"TERM": "xterm-256color"}), dimensions=(40, 120),
                          timeout=30)
    child.expect("First paragraph.")
    child.expect("Second, unfin")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    gate.release()
    assert child.exitstatus == 130
    screen = child.before.decode()
    assert "chatcli: interrupted" in screen
    assert "Second, unfin" in screen


def test_a_short_plain_answer_needs_no_markdown_parser() -> None:
    import io

    from rich.console import Console
    from rich.text import Text

    from chatcli.render.answer_markdown import markdown
    from chatcli.render.terminal import plain_line

    for line in ("hello world", "Paris is the capital of France.", "yes"):
        assert plain_line(line, 80)
        shown = []
        for renderable in (markdown(line), Text(line)):
            console = Console(file=io.StringIO(), force_terminal=True, width=80)
            console.print(renderable, crop=False)
            shown.append(console.file.getvalue())  # type: ignore[attr-defined]
        assert shown[0] == shown[1]  # the same on the screen
    for marked in ("**bold**", "# head", "1. item", "- item", "a `b`", "two\nlines",
                   "&amp;", "    code", "x" * 90, "a_b", "<b>", "| t |", "~~s~~", "a\\*"):
        assert not plain_line(marked, 80), marked
