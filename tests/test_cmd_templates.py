"""``chatcli cmd -T``: a template adds to the shell instructions (its system text after
them, its prompt around the description, its model, params and options as settings),
and what ``cmd`` sends is checked for credentials as ``ask``'s input is."""

from __future__ import annotations

import io
import json
import random
import re
import string
import sys
from pathlib import Path
from typing import Any

from clirun import process_env, run_cli, write_config
from fakeapi import SSE, FakeAPI, text_stream
from test_templates import write_template

_random = random.Random(5)
GITHUB = "ghp_" + "".join(_random.choice(string.ascii_letters + string.digits)
                          for _ in range(36))
MENU = re.escape("[e]xecute / [r]evise / [d]escribe / [c]opy / [q]uit: ")

SAFE = ('description = "careful commands"\n'
        'system = "Prefer {{tool}}; never delete anything."\n'
        'prompt = "Task: {{input}}"\n'
        'model = "template-model"\n'
        'params = { temperature = 0.1 }\n'
        'options = ["seed=7"]\n'
        'defaults = { tool = "find" }\n')


def cmd(fakeapi: FakeAPI, *args: str, stdin: str | None = None, answer: str = "ls") -> Any:
    fakeapi.add(SSE(text_stream([answer])))
    return run_cli(["cmd", "--base-url", fakeapi.base_url, "--no-history", *args],
                   stdin=stdin, env={"SHELL": "/bin/bash"})


def test_the_template_follows_the_shell_prompt_and_wraps_the_description(
        fakeapi: FakeAPI) -> None:
    write_template("safe", SAFE)
    result = cmd(fakeapi, "-T", "safe", "list", "big", "files", stdin="a.log\nb.log\n")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ls\n", "")
    body = fakeapi.requests[-1].json()
    system, user = body["messages"]
    assert system["role"] == "system" and len(body["messages"]) == 2
    shell_rules, _, added = system["content"].partition("\n\n")
    assert shell_rules.startswith("You write shell commands. The user runs bash")
    assert added == "Prefer find; never delete anything."
    assert user == {"role": "user", "content":
                    "Task: list big files\n\nContext (from stdin):\na.log\nb.log\n"}
    assert (body["model"], body["temperature"], body["seed"]) == ("template-model", 0.1, 7)


def test_params_fill_variables_and_flags_win_over_the_template(fakeapi: FakeAPI) -> None:
    write_template("safe", SAFE)
    result = cmd(fakeapi, "-T", "safe", "-p", "tool", "fd", "-m", "flag-model", "find", "logs")
    assert result.exit_code == 0, result.stderr
    body = fakeapi.requests[-1].json()
    assert body["messages"][0]["content"].endswith("\n\nPrefer fd; never delete anything.")
    assert body["model"] == "flag-model"


def test_template_errors_are_usage_errors_before_sending(fakeapi: FakeAPI) -> None:
    write_template("needs", 'prompt = "In {{dir}}: {{input}}"\n')
    cases = {
        ("-T", "needs", "list"): "template needs needs a value for dir: give -p dir VALUE",
        ("-T", "needs", "-p", "nope", "x", "list"): "template needs has no variable 'nope'",
        ("-p", "dir", "x", "list"): "-p/--param fills a template's variables",
        ("-T", "missing", "list"): "missing",
    }
    for args, words in cases.items():
        result = run_cli(["cmd", "--base-url", fakeapi.base_url, *args])
        assert result.exit_code in (2, 3), (args, result.stderr)
        assert words in result.stderr, (args, result.stderr)
        assert result.stdout == ""
    assert fakeapi.requests == []


def test_keys_cmd_has_no_use_for_are_named(fakeapi: FakeAPI, tmp_path: Path) -> None:
    write_template("answers", 'system = "be brief"\noutput = "json"\nreasoning = "show"\n')
    result = cmd(fakeapi, "-T", "answers", "list")
    assert result.exit_code == 0
    assert result.stderr == ("chatcli: warning: template answers: cmd does not apply"
                             " output, reasoning\n")


def test_the_dry_run_shows_the_template_applied(fakeapi: FakeAPI) -> None:
    write_template("safe", SAFE)
    result = run_cli(["cmd", "--base-url", fakeapi.base_url, "--dry-run", "-T", "safe",
                      "tidy", "up"])
    assert result.exit_code == 0, result.stderr
    assert "Task: tidy up" in result.stdout and "template-model" in result.stdout
    assert fakeapi.requests == []


def test_a_profile_system_and_template_are_not_applied_to_commands(fakeapi: FakeAPI) -> None:
    write_template("safe", SAFE)
    write_config('[profiles.lab]\nsystem = "Answer in verse."\ntemplate = "safe"\n')
    result = cmd(fakeapi, "-P", "lab", "list")
    assert result.exit_code == 0, result.stderr
    system, user = fakeapi.requests[-1].json()["messages"]
    assert "verse" not in system["content"] and "Prefer" not in system["content"]
    assert user["content"] == "list"


# -- the secret check -------------------------------------------------------------------


def test_a_secret_on_stdin_is_refused_in_a_pipe_and_nothing_sent(fakeapi: FakeAPI) -> None:
    result = run_cli(["cmd", "--base-url", fakeapi.base_url, "use", "this", "token"],
                     stdin=f"GITHUB_TOKEN={GITHUB}\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("chatcli: error: stdin line 1 holds what looks like")
    assert GITHUB not in result.stderr
    assert fakeapi.requests == []


def test_redact_secrets_sends_placeholders(fakeapi: FakeAPI) -> None:
    result = cmd(fakeapi, "--redact-secrets", "export", GITHUB, stdin=f"TOKEN={GITHUB}\n")
    assert result.exit_code == 0, result.stderr
    sent = json.dumps(fakeapi.requests[-1].json())
    assert GITHUB not in sent and sent.count("[REDACTED:github-token]") == 2
    assert result.stderr.startswith("chatcli: warning: redacted before sending:")


def test_allow_secrets_sends_the_text_as_it_is(fakeapi: FakeAPI) -> None:
    result = cmd(fakeapi, "--allow-secrets", "export", GITHUB)
    assert result.exit_code == 0, result.stderr
    assert GITHUB in fakeapi.requests[-1].json()["messages"][1]["content"]


def test_a_secret_in_a_revision_is_asked_about_on_the_terminal(fakeapi: FakeAPI,
                                                               tmp_path: Path) -> None:
    import pexpect

    fakeapi.add(SSE(text_stream(["ls"])))
    fakeapi.add(SSE(text_stream(["ls -a"])))
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "cmd", "--base-url",
                                           fakeapi.base_url, "list"],
                          env=process_env({"TERM": "xterm-256color", "SHELL": "/bin/sh",
                                           "HOME": str(tmp_path)}),
                          dimensions=(30, 100), timeout=30, cwd=str(tmp_path),
                          encoding="utf-8")
    child.logfile_read = io.StringIO()
    child.expect(MENU)
    child.send("r\r")
    child.expect("revise: ")
    child.send(f"also use {GITHUB}\r")
    child.expect(r"the revision line 1, column 10: github-token: ghp_… \(40 chars\)")
    child.expect(r"\[s\]end / \[r\]edact / \[a\]bort: ")
    child.send("r\r")
    child.expect(MENU)
    child.send("q\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    revision = fakeapi.requests[-1].json()["messages"][-1]["content"]
    assert revision == "also use [REDACTED:github-token]"
