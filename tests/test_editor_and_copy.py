"""``-e/--editor`` and ``--copy``, end to end against the fake API: a scripted
``$EDITOR`` writes the prompt; ``--copy`` goes to the terminal (OSC 52), else to a
stand-in ``wl-copy`` on PATH, else a warning."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from clirun import Result, run_cli
from fakeapi import SSE, FakeAPI, text_stream

TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "100", "LINES": "40"}


def editor(tmp_path: Path, body: str) -> str:
    """An editor that keeps a copy of the file it was given, then writes ``body`` in it."""
    script = tmp_path / "edit.sh"
    script.write_text(f'#!/bin/sh\nfor file; do :; done\n'  # the last argument
                      f'cp "$file" "{tmp_path}/given"\nprintf %s \'{body}\' > "$file"\n')
    script.chmod(0o755)
    return str(script)


def ask(api: FakeAPI, *args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> Result:
    return run_cli(["--base-url", api.base_url, "--no-history", "-O", "plain", *args],
                   env=env, stdin=stdin)


def test_the_editor_writes_the_prompt(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-e", "start", "here",
                 env={"EDITOR": editor(tmp_path, "written\nin the editor")})
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert (tmp_path / "given").read_text() == "start here\n"  # pre-filled with the words
    sent = fakeapi.requests[0].json()["messages"][-1]["content"]
    assert sent == "written\nin the editor"


def test_visual_wins_and_takes_arguments(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    visual = f"{editor(tmp_path, 'from visual')} --wait"
    result = ask(fakeapi, "-e", env={"VISUAL": visual, "EDITOR": "false"})
    assert result.exit_code == 0, result.stderr
    assert fakeapi.requests[0].json()["messages"][-1]["content"] == "from visual"


def test_an_empty_file_sends_nothing(fakeapi: FakeAPI, tmp_path: Path) -> None:
    result = ask(fakeapi, "-e", env={"EDITOR": editor(tmp_path, "  \n")})
    assert result.exit_code == 2
    assert result.stderr.startswith("chatcli: error: empty prompt; nothing sent")
    assert fakeapi.requests == []


def test_an_editor_that_fails_sends_nothing(fakeapi: FakeAPI) -> None:
    result = ask(fakeapi, "-e", env={"EDITOR": "false"})
    assert result.exit_code == 2
    assert "the editor 'false' exited with status 1; nothing sent" in result.stderr
    assert fakeapi.requests == []


def test_copy_on_a_terminal_is_osc_52(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["the answer"])))
    result = ask(fakeapi, "--copy", "hi", env=TERMINAL)
    assert result.exit_code == 0
    encoded = base64.b64encode(b"the answer").decode()
    assert f"\x1b]52;c;{encoded}\a" in result.stdout


@pytest.fixture
def wl_copy(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "wl-copy"
    script.write_text(f'#!/bin/sh\ncat > "{tmp_path}/copied"\n')
    script.chmod(0o755)
    return tmp_path / "copied"


def test_copy_in_a_pipe_uses_wl_copy_and_with_x_the_code(fakeapi: FakeAPI,
                                                         wl_copy: Path) -> None:
    fakeapi.add(SSE(text_stream(["Here:\n\n```python\nprint(1)\n```\n"])))
    path = f"{wl_copy.parent / 'bin'}{os.pathsep}{os.environ['PATH']}"
    result = ask(fakeapi, "-x", "--copy", "hi", env={"PATH": path})
    assert (result.exit_code, result.stdout, result.stderr) == (0, "print(1)\n", "")
    assert wl_copy.read_text() == "print(1)\n"


def test_copy_with_no_way_to_copy_warns(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["the answer"])))
    empty = tmp_path / "empty"
    empty.mkdir()
    result = ask(fakeapi, "--copy", "hi", env={"PATH": str(empty)})
    assert (result.exit_code, result.stdout) == (0, "the answer\n")
    assert result.stderr == ("chatcli: warning: --copy: no terminal, and none of wl-copy,"
                             " xclip or pbcopy; nothing was copied\n")


def test_chat_refuses_copy_and_editor(fakeapi: FakeAPI) -> None:
    result = run_cli(["chat", "--base-url", fakeapi.base_url, "--copy"])
    assert result.exit_code == 2
    assert "--copy and --editor are for one answer" in result.stderr
