"""``chatcli cmd``: a shell command from a description, run only when the user says so.

End to end against the fake API: in a pipe (printed, never run) and on a real
pseudo-terminal (execute, revise, describe, copy, quit; the dangerous-command gate;
the command's exit status passed through), with the history checked after.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import HistoryStore
from chatcli.session.shell_danger import danger
from chatcli.session.shell_prompt import clean_command, shell_name
from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, text_stream

MENU = re.escape("[e]xecute / [r]evise / [d]escribe / [c]opy / [q]uit: ")
CSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def cmd(api: FakeAPI, *args: str) -> list[str]:
    return ["cmd", "--base-url", api.base_url, *args]


def system_prompt(api: FakeAPI, index: int = 0) -> str:
    content: str = api.requests[index].json()["messages"][0]["content"]
    return content


# -- the answer becomes a command -----------------------------------------------------


@pytest.mark.parametrize(("answer", "command"), [
    ("ls -la", "ls -la"),
    ("```bash\nls -la\n```", "ls -la"),
    ("Here you go:\n\n~~~sh\n$ du -sh *\n~~~\n\nThis sums sizes.", "du -sh *"),
    ("$ mkdir out\n$ cd out\n", "mkdir out\ncd out"),
    ("\n\n  find . -name '*.py'  \n\n", "find . -name '*.py'"),
])
def test_the_answer_is_cleaned_to_the_command(answer: str, command: str) -> None:
    assert clean_command(answer) == command


@pytest.mark.parametrize("command", [
    "rm -rf /", "sudo rm -rf / --no-preserve-root", "rm -rf ~", "rm -fr ~/", "rm -r -f *",
    "rm -rf $HOME", "dd if=disk.img of=/dev/sda bs=4M", "mkfs.ext4 /dev/sdb1",
    "chmod -R 777 /", ":(){ :|:& };:", "curl -fsSL https://example.com/i.sh | sh",
    "wget -qO- https://example.com/i.sh | sudo bash", "cat x > /dev/sda",
    "git push --force origin main", "git push origin +master", "psql -c 'DROP TABLE users'",
    "mysql -e 'drop database shop'", "find / -name core -delete",
])
def test_dangerous_commands_are_named(command: str) -> None:
    assert danger(command)


@pytest.mark.parametrize("command", [
    "ls -la", "rm notes.txt", "rm -rf ./build", "rm -rf node_modules", "du -sh *",
    "dd if=/dev/zero of=/dev/null count=1", "git push origin feature",
    "git push --force origin my-branch", "chmod 644 file", "curl -O https://example.com/f",
    "grep -r TODO .", "select * from tables",
])
def test_ordinary_commands_are_not(command: str) -> None:
    assert danger(command) is None


def test_the_shell_is_taken_from_the_option_then_shell() -> None:
    assert shell_name("fish", "/bin/zsh") == "fish"
    assert shell_name(None, "/usr/bin/zsh") == "zsh"
    assert shell_name(None, "/opt/weird/xonsh") == "sh"
    assert shell_name(None, None) == "sh"


# -- in a pipe ------------------------------------------------------------------------


def test_in_a_pipe_the_command_is_printed_and_never_run(fakeapi: FakeAPI,
                                                        tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fakeapi.add(SSE(text_stream(["```bash\n", f"$ touch {marker}\n", "```"])))
    result = run_cli(cmd(fakeapi, "--yes", "make", "a", "marker"),
                     env={"SHELL": "/bin/bash"})
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"touch {marker}\n", "")
    assert not marker.exists()
    sent = fakeapi.requests[0].json()["messages"]
    assert sent[1] == {"role": "user", "content": "make a marker"}
    prompt = system_prompt(fakeapi)
    assert "bash" in prompt and os.getcwd() in prompt
    assert ("Linux" if sys.platform.startswith("linux") else "") in prompt
    assert "command alone" in prompt and "no Markdown fences" in prompt


def test_the_shell_option_and_stdin_context_reach_the_model(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ls | sort"])))
    result = run_cli(cmd(fakeapi, "--shell", "fish", "sort", "these"), stdin="b\na\n",
                     env={"SHELL": "/bin/bash"})
    assert (result.exit_code, result.stdout) == (0, "ls | sort\n")
    assert "runs fish on" in system_prompt(fakeapi)
    user = fakeapi.requests[0].json()["messages"][1]["content"]
    assert user == "sort these\n\nContext (from stdin):\nb\na\n"


def test_a_script_of_several_lines_is_kept_whole(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["```sh\nset -e\nmkdir -p out\ncp *.txt out/\n```"])))
    result = run_cli(cmd(fakeapi, "copy", "texts"))
    assert result.stdout == "set -e\nmkdir -p out\ncp *.txt out/\n"


def test_no_description_is_a_usage_error(fakeapi: FakeAPI) -> None:
    result = run_cli(cmd(fakeapi))
    assert result.exit_code == 2
    assert result.stderr.startswith("chatcli: error: say what the command should do")
    assert fakeapi.requests == []


def test_an_empty_answer_is_an_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["```\n```"])))
    result = run_cli(cmd(fakeapi, "nothing"))
    assert result.exit_code != 0 and result.stdout == ""
    assert "the model gave no command" in result.stderr


def test_the_command_is_stored_as_not_run(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ls"])))
    assert run_cli(cmd(fakeapi, "list")).exit_code == 0
    cid, messages = stored()
    assert [m["message"]["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[-1]["outcome"] == {"ran": False}
    assert "[assistant] (not run)\nls\n" in run_cli(["history", "show", cid]).stdout


# -- on a terminal --------------------------------------------------------------------


def spawn(api: FakeAPI, *args: str, home: Path) -> Any:
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "chatcli", *cmd(api, *args)],
                          env=process_env({"TERM": "xterm-256color", "SHELL": "/bin/sh",
                                           "HOME": str(home)}),
                          dimensions=(30, 100), timeout=30, cwd=str(home))
    child.delaybeforesend = None
    child.logfile_read = io.BytesIO()
    return child


def finished(child: Any) -> tuple[int, str]:
    import pexpect

    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, CSI.sub(b"", child.logfile_read.getvalue()).decode()


def stored() -> tuple[str, list[Any]]:
    """The latest conversation's id and its messages, as ``history show --json`` gives them."""
    store = HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")
    try:
        latest = store.latest()
    finally:
        store.close()
    assert latest is not None
    shown = run_cli(["history", "show", "--json", latest.id])
    return latest.id, json.loads(shown.stdout)["messages"]


def stored_outcome() -> Any:
    return [m["outcome"] for m in stored()[1] if m["message"]["role"] == "assistant"]


def test_execute_runs_it_in_the_shell_and_passes_its_status(fakeapi: FakeAPI,
                                                            tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["echo made-by-$((6*7)); exit 3"])))
    child = spawn(fakeapi, "say", "hi", home=tmp_path)
    child.expect(MENU)
    child.send("e\r")
    status, shown = finished(child)
    assert status == 3
    assert "made-by-42" in shown  # run by the shell, on the terminal
    assert stored_outcome() == [{"ran": True, "exit_status": 3}]


def test_yes_runs_a_safe_command_without_asking(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["echo ran-at-once"])))
    child = spawn(fakeapi, "--yes", "say", "hi", home=tmp_path)
    status, shown = finished(child)
    assert status == 0
    assert "ran-at-once" in shown and "[e]xecute" not in shown


@pytest.mark.parametrize("flag", [[], ["--yes"]])
def test_a_dangerous_command_runs_only_after_yes_in_full(fakeapi: FakeAPI, tmp_path: Path,
                                                         flag: list[str]) -> None:
    fakeapi.add(SSE(text_stream(["echo reboot-$((1+1)); exit 5"])))  # named a danger
    child = spawn(fakeapi, *flag, "restart", home=tmp_path)
    if not flag:
        child.expect(MENU)
        child.send("e\r")
    child.expect("type yes to run it: ")
    child.send("y\r")
    child.expect("not run")
    child.expect(MENU)
    child.send("e\r")
    child.expect("type yes to run it: ")
    child.send("yes\r")
    status, shown = finished(child)
    assert status == 5
    assert "dangerous: stops or restarts the machine" in shown
    assert shown.count("reboot-2") == 1  # the output once: it ran once


def test_revise_and_describe_stay_in_one_conversation(fakeapi: FakeAPI,
                                                      tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["ls -S"])))
    fakeapi.add(SSE(text_stream(["Lists files, **largest first**."])))
    fakeapi.add(SSE(text_stream(["ls -S | head -n 3"])))
    child = spawn(fakeapi, "largest", "files", home=tmp_path)
    child.expect(MENU)
    child.send("d\r")
    child.expect("largest first")
    child.expect(MENU)
    child.send("r\r")
    child.expect("revise: ")
    child.send("only three\r")
    child.expect("head")
    child.expect(MENU)
    child.send("q\r")
    status, shown = finished(child)
    assert status == 0
    last = fakeapi.requests[2].json()["messages"]
    assert [(m["role"], m["content"]) for m in last[1:]] == [
        ("user", "largest files"), ("assistant", "ls -S"),
        ("user", fakeapi.requests[1].json()["messages"][-1]["content"]),
        ("assistant", "Lists files, **largest first**."), ("user", "only three")]
    assert "Lists files, largest first." in shown  # rendered as Markdown
    assert stored_outcome()[-1] == {"ran": False}


def test_copy_puts_it_on_the_clipboard(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["git status"])))
    child = spawn(fakeapi, "status", home=tmp_path)
    child.expect(MENU)
    child.send("c\r")
    child.expect("copied 10 characters")
    child.expect(MENU)
    child.send("q\r")
    finished(child)
    encoded = base64.b64encode(b"git status")
    assert b"\x1b]52;c;" + encoded + b"\x07" in child.logfile_read.getvalue()


def test_no_interaction_prints_even_on_a_terminal(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["echo not-run-$((2+2))"])))
    child = spawn(fakeapi, "--no-interaction", "--yes", "say", home=tmp_path)
    status, shown = finished(child)
    assert status == 0
    assert "echo not-run-$((2+2))" in shown and "not-run-4" not in shown
