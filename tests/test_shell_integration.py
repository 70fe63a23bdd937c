"""``chatcli shell-integration``: Alt-E in a real bash replaces the command line's
description with the command ``chatcli cmd`` made, and leaves the line as it was when
chatcli fails. Driven through a pseudo-terminal against the fake API."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, Raw, text_stream

ALT_E = "\x1be"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_snippet_is_valid_for_its_shell(shell: str) -> None:
    result = run_cli(["shell-integration", shell])
    assert result.exit_code == 0 and result.stderr == ""
    assert f"chatcli cmd --shell {shell} --no-interaction" in result.stdout
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    check = ["fish", "--no-execute"] if shell == "fish" else [shell, "-n"]
    done = subprocess.run(check, input=result.stdout.encode(), capture_output=True,
                          check=False, timeout=30)
    assert done.returncode == 0, done.stderr


def shell_with_the_snippet(shell: str, api: FakeAPI, tmp_path: Path) -> Any:
    """An interactive ``shell`` that loaded the snippet, its prompt ``ready> ``, with
    ``chatcli`` on PATH talking to the fake API."""
    import pexpect

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "chatcli"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m chatcli "$@"\n')
    launcher.chmod(0o755)
    snippet = run_cli(["shell-integration", shell]).stdout
    env = process_env({"TERM": "xterm-256color", "PATH": f"{bin_dir}{os.pathsep}"
                       + os.environ.get("PATH", ""), "CHATCLI_BASE_URL": api.base_url,
                       "HOME": str(tmp_path), "INPUTRC": "/dev/null",
                       "ZDOTDIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    rc = tmp_path / "rc"
    if shell == "bash":
        rc.write_text("PS1='ready> '\n" + snippet)
        args = ["--noprofile", "--rcfile", str(rc), "-i"]
    elif shell == "zsh":
        (tmp_path / ".zshrc").write_text("PS1='ready> '\nunsetopt zle_bracketed_paste\n"
                                         + snippet)
        args = ["-i"]
    else:
        rc.write_text("function fish_prompt; echo -n 'ready> '; end\n"
                      "set -g fish_greeting ''\n" + snippet)
        args = ["--no-config", "-i", "-C", f"source {rc}"]
    child = pexpect.spawn(shell, args, env=env, dimensions=(24, 100), timeout=30,
                          cwd=str(tmp_path))
    child.delaybeforesend = None
    child.logfile_read = io.BytesIO()
    child.expect("ready> ")
    return child


def leave(child: Any) -> None:
    import pexpect

    child.sendline("exit")
    child.expect(pexpect.EOF)


SHELLS = [pytest.param(shell, marks=pytest.mark.skipif(
    shutil.which(shell) is None, reason=f"{shell} is not installed"))
    for shell in ("bash", "zsh", "fish")]


@pytest.mark.parametrize("shell", SHELLS)
def test_alt_e_puts_the_command_on_the_line(fakeapi: FakeAPI, tmp_path: Path,
                                            shell: str) -> None:
    made = "echo generated-(math 40+2)" if shell == "fish" else "echo generated-$((40+2))"
    fakeapi.add(SSE(text_stream([f"```{shell}\n{made}\n```"])))
    child = shell_with_the_snippet(shell, fakeapi, tmp_path)
    child.send("say the answer")
    child.send(ALT_E)
    child.expect("echo generated-")  # on the line, not run yet
    child.send("\r")  # the user runs it
    child.expect("generated-42")
    child.expect("ready> ")
    leave(child)
    messages = fakeapi.requests[0].json()["messages"]
    assert messages[-1] == {"role": "user", "content": "say the answer"}
    assert f"runs {shell} on" in messages[0]["content"]


def quick_failure() -> None:
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text("retries = 0\n")  # one failure, at once


@pytest.mark.parametrize("shell", SHELLS)
def test_a_failure_leaves_the_line_as_it_was(fakeapi: FakeAPI, tmp_path: Path,
                                             shell: str) -> None:
    quick_failure()
    fakeapi.add(Raw(500, b'{"error": {"message": "down"}}', "application/json"))
    child = shell_with_the_snippet(shell, fakeapi, tmp_path)
    child.send("list the files")
    child.send(ALT_E)
    child.expect("making a command")
    child.send("\x01echo kept: \r")  # Ctrl-A: to the start of the line that was left
    child.expect("kept: list the files")
    child.expect("ready> ")
    leave(child)
    assert len(fakeapi.requests) == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_ctrl_c_while_waiting_leaves_the_line_as_it_was(fakeapi: FakeAPI, tmp_path: Path,
                                                        shell: str) -> None:
    from fakeapi import Gate, chunk, sse_bytes

    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="ls")],
                                            done=False)))
    child = shell_with_the_snippet(shell, fakeapi, tmp_path)
    child.send("list the files")
    child.send(ALT_E)
    child.expect("making a command")
    gate.wait_reached()
    child.sendintr()
    child.send("\x01echo kept: \r")
    child.expect("kept: list the files")
    child.expect("ready> ")
    leave(child)
    gate.release()
