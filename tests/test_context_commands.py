"""``-f '!COMMAND'``: the command's stdout inlined, labelled ``!COMMAND``; a failure is a
usage error showing its stderr; on a terminal the user is asked first."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from clirun import process_env, refused, sent
from fakeapi import SSE, FakeAPI, text_stream


@pytest.fixture(autouse=True)
def _plain_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")


def test_the_output_is_inlined_labelled_with_the_command(fakeapi: FakeAPI) -> None:
    content, stderr = sent(fakeapi, "-f", "!echo hi", "explain")
    assert content == "explain\n\n```!echo hi\nhi\n```"
    assert stderr == ""


def test_the_command_runs_in_a_shell_with_stdin_closed(fakeapi: FakeAPI) -> None:
    content, _ = sent(fakeapi, "-f", "!printf 'a|%s\\n' b | tr a-z A-Z; cat; echo end", "x")
    assert content == "x\n\n```!printf 'a|%s\\n' b | tr a-z A-Z; cat; echo end\nA|B\nend\n```"


def test_a_failure_shows_the_status_and_stderr(fakeapi: FakeAPI) -> None:
    stderr = refused(fakeapi, "-f", "!echo partial; echo 'no such thing' >&2; exit 3", "x")
    assert stderr == ("chatcli: error: -f '!echo partial; echo 'no such thing' >&2; exit 3':"
                      " exited with status 3:\nno such thing\nTry 'chatcli ask --help'.\n")


def test_a_failure_with_silent_stderr_says_so(fakeapi: FakeAPI) -> None:
    stderr = refused(fakeapi, "-f", "!exit 3", "x")
    assert stderr.startswith("chatcli: error: -f '!exit 3': exited with status 3"
                             " (nothing on stderr)\n")


def test_output_over_the_context_cap_is_a_usage_error(fakeapi: FakeAPI) -> None:
    stderr = refused(fakeapi, "--max-context-kb", "1", "-f", "!yes", "x")
    assert stderr.startswith("chatcli: error: -f '!yes': its output is over the 1 KB limit"
                             " (--max-context-kb 1)\n")


def test_an_empty_command_is_a_usage_error(fakeapi: FakeAPI) -> None:
    assert "give a command after the !" in refused(fakeapi, "-f", "!", "x")


def test_the_output_is_checked_for_secrets_under_its_label(fakeapi: FakeAPI) -> None:
    tail = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"  # the command holds no key; its output does
    command = f"!printf 'API_KEY = \"%s%s\"\\n' sk-proj- {tail}"
    stderr = refused(fakeapi, "-f", command, "x")
    assert stderr.startswith(f"chatcli: error: {command} line 1 holds what looks like an")
    assert "sk-proj-" + tail not in stderr


def spawn(api: FakeAPI, *args: str) -> Any:
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "--base-url", api.base_url,
                                           "-O", "plain", *args],
                          env=process_env({"TERM": "xterm-256color", "SHELL": "/bin/sh"}),
                          dimensions=(40, 120), timeout=30)
    child.logfile_read = io.BytesIO()
    return child


def test_on_a_terminal_no_runs_nothing_and_sends_nothing(fakeapi: FakeAPI,
                                                         tmp_path: Any) -> None:
    import pexpect

    mark = tmp_path / "ran"
    child = spawn(fakeapi, "-f", f"!touch {mark}; echo hi", "x")
    child.expect(r"Run `touch .*; echo hi` and send its output\? \[y/N\] ")
    child.sendline("n")
    child.expect(r"not run, nothing sent")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert not mark.exists()
    assert fakeapi.requests == []


def test_on_a_terminal_yes_runs_it_and_sends_the_output(fakeapi: FakeAPI) -> None:
    import pexpect

    fakeapi.add(SSE(text_stream(["Done."])))
    child = spawn(fakeapi, "-f", "!echo hi", "x")
    child.expect(r"Run `echo hi` and send its output\? \[y/N\] ")
    child.sendline("y")
    child.expect("Done.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert fakeapi.requests[-1].json()["messages"][-1]["content"] == "x\n\n```!echo hi\nhi\n```"


def test_yes_runs_it_on_a_terminal_without_asking(fakeapi: FakeAPI) -> None:
    import pexpect

    fakeapi.add(SSE(text_stream(["Done."])))
    child = spawn(fakeapi, "--yes", "-f", "!echo hi", "x")
    child.expect("Done.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert b"send its output" not in child.logfile_read.getvalue()
    assert fakeapi.requests[-1].json()["messages"][-1]["content"] == "x\n\n```!echo hi\nhi\n```"
