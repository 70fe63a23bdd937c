"""The secret check end to end: nothing is sent before the decision; refused without a
terminal, redacted or allowed by flag or setting, asked about on a terminal."""

from __future__ import annotations

import base64
import json
import os
import random
import string
import sys
from pathlib import Path

import pytest

from clirun import process_env, run_cli, unpublished, write_config
from fakeapi import SSE, FakeAPI, Raw, text_stream

_random = random.Random(11)


def token(prefix: str, size: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A credential-shaped value made at run time: no live-looking literal in this file."""
    return prefix + "".join(_random.choice(alphabet) for _ in range(size))


GITHUB = token("ghp_", 36)
AWS_ID = token("AKIA", 16, string.ascii_uppercase + string.digits)



def sent_text(fakeapi: FakeAPI) -> str:
    return json.dumps(fakeapi.requests[-1].json()["messages"])


def test_without_a_terminal_a_secret_on_stdin_is_refused_and_nothing_sent(
        fakeapi: FakeAPI) -> None:
    log = f"starting\nusing key\naws_access_key_id = {AWS_ID}\n"
    result = run_cli(["--base-url", fakeapi.base_url, "why does this fail?"], stdin=log)
    assert result.exit_code == 2
    assert result.stderr == ("chatcli: error: stdin line 3 holds what looks like an AWS access"
                             " key id (aws-access-key); not sent (use --redact-secrets or"
                             " --allow-secrets)\nTry 'chatcli ask --help'.\n")
    assert fakeapi.requests == []
    assert not (Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db").exists()


def test_a_file_finding_names_the_file_and_line(fakeapi: FakeAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.env"
    notes.write_text(f"# settings\nDEBUG=1\nGITHUB_TOKEN={GITHUB}\n")
    result = run_cli(["--base-url", fakeapi.base_url, "-f", str(notes), "review"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"chatcli: error: {notes} line 3 holds what looks like")
    assert "(github-token)" in result.stderr and GITHUB not in result.stderr
    assert fakeapi.requests == []


def test_redact_secrets_sends_placeholders_and_the_history_keeps_them(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.env"
    notes.write_text(f"GITHUB_TOKEN={GITHUB}\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--redact-secrets", "-f", str(notes),
                      f"and {AWS_ID}"])
    assert result.exit_code == 0, result.stderr
    body = sent_text(fakeapi)
    assert GITHUB not in body and AWS_ID not in body
    assert "GITHUB_TOKEN=[REDACTED:github-token]" in body
    assert "and [REDACTED:aws-access-key]" in body
    assert result.stderr.startswith("chatcli: warning: redacted before sending: 2 possible"
                                    " secrets: the prompt line 1 (aws-access-key)")
    conversation = json.loads(run_cli(["history", "list", "--json"]).stdout)[0]["id"]
    stored = run_cli(["history", "show", "--json", conversation]).stdout
    assert GITHUB not in stored and "[REDACTED:github-token]" in stored


def test_allow_secrets_sends_the_text_as_it_is(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--allow-secrets", f"key {AWS_ID}"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert AWS_ID in sent_text(fakeapi)


def test_both_flags_at_once_are_a_usage_error(fakeapi: FakeAPI) -> None:
    result = run_cli(["--base-url", fakeapi.base_url, "--allow-secrets", "--redact-secrets",
                      f"key {AWS_ID}"])
    assert result.exit_code == 2
    assert "cannot be used together" in result.stderr


@pytest.mark.parametrize(("mode", "sent"), [("redact", "[REDACTED:aws-access-key]"),
                                            ("off", None), ("refuse", None)])
def test_the_secret_scan_setting(fakeapi: FakeAPI, mode: str, sent: str | None) -> None:
    write_config(f'[profiles.p]\nbase_url = "{fakeapi.base_url}"\nsecret_scan = "{mode}"\n')
    if mode != "refuse":
        fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["-P", "p", f"key {AWS_ID}"], env={"TTY_COMPATIBLE": "1"})
    if mode == "refuse":  # even with a terminal to ask on
        assert result.exit_code == 2
        assert fakeapi.requests == []
        return
    assert result.exit_code == 0, result.stderr
    assert (sent or AWS_ID) in sent_text(fakeapi)


def test_a_text_attachment_is_scanned_and_redacted_inside(fakeapi: FakeAPI,
                                                          tmp_path: Path) -> None:
    config = tmp_path / "deploy.json"
    config.write_text(json.dumps({"token": GITHUB}))
    fakeapi.add(Raw(404, b"{}", "application/json"), path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(Raw(404, b"{}", "application/json"), path="/v1/models/gpt-4o-mini")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--redact-secrets", "--attach",
                      str(config), "check it"])
    assert result.exit_code == 0, result.stderr
    part = fakeapi.requests[-1].json()["messages"][0]["content"][1]
    data = part["file"]["file_data"].split(",", 1)[1]
    assert base64.b64decode(data).decode() == '{"token": "[REDACTED:github-token]"}'


def test_ordinary_prompts_and_code_pass_untouched(fakeapi: FakeAPI) -> None:
    code = Path(__file__).resolve().parent.parent / "src" / "chatcli" / "endpoint" / "client.py"
    fakeapi.add(SSE(text_stream(["ok"])))
    unpublished(fakeapi)  # a big request: the model's window is looked up (and not found)
    result = run_cli(["--base-url", fakeapi.base_url, "-f", str(code), "review"])
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(("answer", "expected"), [("r", "[REDACTED:github-token]"),
                                                  ("s", GITHUB), ("a", None)])
def test_on_a_terminal_the_user_is_asked(fakeapi: FakeAPI, tmp_path: Path, answer: str,
                                         expected: str | None) -> None:
    import pexpect

    notes = tmp_path / "notes.env"
    notes.write_text(f"GITHUB_TOKEN={GITHUB}\n")
    if expected is not None:
        fakeapi.add(SSE(text_stream(["ok"])))
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "--base-url", fakeapi.base_url,
                                           "-f", str(notes), "review"],
                          env=process_env({"TERM": "xterm"}), timeout=30, dimensions=(40, 120),
                          encoding="utf-8")
    child.expect("1 possible secret in what is about to be sent")
    child.expect(r"notes.env line 1, column 14: github-token: ghp_… \(40 chars\)")
    child.expect(r"\[s\]end / \[r\]edact / \[a\]bort: ")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    assert GITHUB not in screen
    if expected is None:
        assert child.exitstatus == 2
        assert "not sent: the secret check was answered with abort" in screen
        assert fakeapi.requests == []
    else:
        assert child.exitstatus == 0, screen
        assert expected in sent_text(fakeapi)


def repl_session(fakeapi: FakeAPI, keys: str, answers: str = "",
                 **options: object) -> tuple[str, str, object]:
    """The REPL on ``keys``; the secret question reads ``answers`` from the terminal."""
    import io

    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from chatcli.repl.prompt import chat
    from chatcli.session.environment import Environment
    from chatcli.session.options import AskRequest

    env = Environment(stdin=io.StringIO(answers), stdout=io.StringIO(), stderr=io.StringIO(),
                      stdin_is_terminal=True, stdout_is_terminal=False, stderr_is_terminal=False)
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}, **options)  # type: ignore[arg-type]
    history = InMemoryHistory()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        chat(request, env, input=pipe, output=DummyOutput(), history=history)
    return env.stdout.stream.getvalue(), env.stderr.stream.getvalue(), history


def test_the_repl_asks_about_a_pasted_secret_and_redacts(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    out, err, _ = repl_session(fakeapi, f"my key is {AWS_ID}\r", answers="r\n")
    assert "1 possible secret in what is about to be sent" in out
    assert "the message line 1, column 11: aws-access-key: AKIA… (20 chars)" in out
    assert "[REDACTED:aws-access-key]" in sent_text(fakeapi)
    assert AWS_ID not in sent_text(fakeapi)
    assert err.startswith("chatcli: warning: redacted before sending:")


def test_an_aborted_repl_message_is_not_sent_and_comes_back_to_the_prompt(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.env"
    notes.write_text(f"GITHUB_TOKEN={GITHUB}\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    # Abort, then Enter sends the line again (it came back), this time answered "send".
    out, err, _ = repl_session(fakeapi, f"/attach {notes}\rlook\r\r", answers="a\ns\n")
    assert "chatcli: error: not sent: the secret check was answered with abort" in err
    assert len(fakeapi.requests) == 1
    sent = sent_text(fakeapi)
    assert "look" in sent and GITHUB in sent  # the attachment stayed queued
    assert f"{notes} line 1, column 14: github-token" in out


def test_the_repl_refuses_when_the_setting_says_so(fakeapi: FakeAPI) -> None:
    write_config('secret_scan = "refuse"\n')
    _, err, _ = repl_session(fakeapi, f"key {AWS_ID}\r")
    assert err == ("chatcli: error: the message line 1 holds what looks like an AWS access key"
                   " id (aws-access-key); not sent (use --redact-secrets or --allow-secrets)\n")
    assert fakeapi.requests == []


def test_the_repl_checks_the_opening_system_message(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    repl_session(fakeapi, "hi\r", redact_secrets=True, system=f"use {GITHUB}")
    assert fakeapi.requests[-1].json()["messages"][0] == {
        "role": "system", "content": "use [REDACTED:github-token]"}


def test_with_stdin_piped_the_question_goes_to_the_terminal(fakeapi: FakeAPI) -> None:
    import pexpect

    fakeapi.add(SSE(text_stream(["ok"])))
    command = (f"printf 'line one\\nGITHUB_TOKEN={GITHUB}\\n' | {sys.executable} -m chatcli"
               f" --base-url {fakeapi.base_url} -O plain why")
    child = pexpect.spawn("bash", ["-c", command], env=process_env({"TERM": "xterm"}),
                          timeout=30, dimensions=(40, 120), encoding="utf-8")
    child.expect(r"stdin line 2, column 14: github-token: ghp_… \(40 chars\)")
    child.expect(r"\[s\]end / \[r\]edact / \[a\]bort: ")
    child.sendline("r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "GITHUB_TOKEN=[REDACTED:github-token]" in sent_text(fakeapi)
