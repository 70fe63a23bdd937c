"""``--notify`` and ``notify_after``: the bell, and a desktop notification through
``notify-send`` where there is one, when an answer or a tool question arrives late
enough to be asked for. End to end against the fake API, with a stand-in notify-send
on PATH; the threshold with a scripted clock."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from chatcli.session.notify import Notifier, first_words
from clirun import process_env, repl_turns, run_cli, spawn_repl
from fakeapi import SSE, FakeAPI, text_stream

TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "100", "LINES": "40"}
ANSWER = "The build finished with two warnings about unused imports in the parser module today"


@pytest.fixture
def notify_send(tmp_path: Path) -> Path:
    """A ``notify-send`` that writes its arguments, one a line, to the returned file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "notified"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "{log}"\n')
    script.chmod(0o755)
    return log


def with_notifier(notify_send: Path) -> dict[str, str]:
    return {**TERMINAL, "PATH": f"{notify_send.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def test_notify_rings_and_notifies_with_the_first_words(fakeapi: FakeAPI,
                                                        notify_send: Path) -> None:
    fakeapi.add(SSE(text_stream([ANSWER])))
    result = run_cli(["--base-url", fakeapi.base_url, "--notify", "-O", "plain", "build?"],
                     env=with_notifier(notify_send))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ANSWER + "\n"
    assert result.stderr == "\a"
    assert notify_send.read_text().splitlines() == [
        "--app-name=chatcli", "chatcli", " ".join(ANSWER.split()[:12]) + " …"]


def test_without_notify_nothing_rings(fakeapi: FakeAPI, notify_send: Path) -> None:
    fakeapi.add(SSE(text_stream([ANSWER])))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "plain", "build?"],
                     env=with_notifier(notify_send))
    assert (result.exit_code, result.stderr) == (0, "")
    assert not notify_send.exists()


def test_a_quick_answer_under_notify_after_does_not_ring(fakeapi: FakeAPI,
                                                         notify_send: Path) -> None:
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("notify_after = 3600\n")
    fakeapi.add(SSE(text_stream([ANSWER])))
    result = run_cli(["--base-url", fakeapi.base_url, "-O", "plain", "build?"],
                     env=with_notifier(notify_send))
    assert (result.exit_code, result.stderr) == (0, "")
    assert not notify_send.exists()
    shown = run_cli(["config", "show"]).stdout
    assert re.search(r"^notify_after\s+3600\b", shown, re.MULTILINE), shown


def test_notify_after_must_be_seconds() -> None:
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("notify_after = 0\n")
    result = run_cli(["--no-history", "hi"])
    assert result.exit_code == 3
    assert "notify_after must be a number of seconds" in result.stderr


def test_the_threshold_counts_from_the_question() -> None:
    now = [100.0]
    rung: list[str] = []
    notifier = Notifier(30, lambda: rung.append("bell"), rung.append, clock=lambda: now[0])
    now[0] += 29
    notifier.arrived("too soon")
    assert rung == []
    now[0] += 2
    notifier.arrived("late enough")
    assert rung == ["bell", "late enough"]
    notifier.reset()
    now[0] += 10
    notifier.arrived("soon after the next question")
    assert rung == ["bell", "late enough"]


def test_a_waiting_question_rings_before_it_is_asked() -> None:
    events: list[str] = []
    notifier = Notifier(0, lambda: events.append("bell"), None, clock=lambda: 0.0)
    ask = notifier.before(lambda name: events.append(f"asked {name}") or "yes",
                          lambda name: f"run {name}?")
    assert ask("ls") == "yes"
    assert events == ["bell", "asked ls"]


def test_first_words() -> None:
    assert first_words("  one\ntwo   three ") == "one two three"
    assert first_words("a b c d", count=2) == "a b …"


def test_the_repl_rings_after_each_answer(fakeapi: FakeAPI, notify_send: Path) -> None:

    for answer in ("first answer", "second answer"):
        fakeapi.add(SSE(text_stream([answer])))
    child = spawn_repl(["--base-url", fakeapi.base_url, "--notify", "--no-history"],
                       with_notifier(notify_send))
    repl_turns(child, [("one", "first answer"), ("two", "second answer")], then="\a")
    assert child.exitstatus == 0
    notified = notify_send.read_text().splitlines()
    assert notified[2::3] == ["first answer", "second answer"]


def test_a_tool_question_rings_before_it_is_asked(fakeapi: FakeAPI) -> None:
    import pexpect

    from test_cli_tools import FUNCTIONS, weather_call

    fakeapi.add(SSE(weather_call()))
    fakeapi.add(SSE(text_stream(["Done."])))
    child: Any = pexpect.spawn(
        sys.executable, ["-m", "chatcli", "--base-url", fakeapi.base_url, "-O", "plain",
                         "--notify", "--no-history", "--functions", FUNCTIONS, "hi"],
        env=process_env({"TERM": "xterm-256color", "PATH": "/usr/bin:/bin"}),
        dimensions=(40, 120), timeout=30)
    child.logfile_read = io.BytesIO()
    child.expect(r"Run get_weather\? \[y\]es")
    assert b"\a" in child.logfile_read.getvalue()  # the bell came before the question
    child.sendline("y")
    child.expect("Done.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
