"""Run the real ``chatcli`` entry point, in-process or as a subprocess.

``run_cli`` calls ``chatcli.cli.main`` with the process's stdin, stdout and
stderr swapped for byte buffers, which is what a user's shell would hand it;
``run_process`` starts ``python -m chatcli`` for what needs a real process
(signals, closed pipes, import checks).
"""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


class _TTYText(io.TextIOWrapper):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def _stream(data: bytes = b"", tty: bool = False) -> io.TextIOWrapper:
    cls = _TTYText if tty else io.TextIOWrapper
    return cls(io.BytesIO(data), encoding="utf-8", newline="", write_through=True)


def run_cli(
    args: Sequence[str],
    *,
    stdin: bytes | str | None = None,
    stdin_tty: bool = False,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run chatcli in this process; stdin is empty (not a terminal) unless given."""
    from chatcli.cli import main

    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    saved = sys.stdin, sys.stdout, sys.stderr
    saved_env = dict(os.environ)
    out, err = _stream(), _stream()
    sys.stdin, sys.stdout, sys.stderr = _stream(data, tty=stdin_tty), out, err
    os.environ.update(env or {})
    try:
        code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)
    return Result(code, _text(out), _text(err))


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current (already cleaned) environment with ``src`` importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def run_process(
    args: Sequence[str],
    *,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``python -m chatcli`` as a child process and wait for it."""
    done = subprocess.run(
        [sys.executable, "-m", "chatcli", *args],
        input=stdin,
        capture_output=True,
        env=process_env(env),
        timeout=timeout,
        check=False,
    )
    return Result(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def write_config(text: str) -> Path:
    """Write ``config.toml`` (0600) in the test's config directory; return its path."""
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


POLL_SYSCALLS = {"7", "271"}  # poll and ppoll on x86_64


def wait_until_polling(pid: int, deadline: float = 30.0) -> None:
    """Block until the process sits in poll() (connect and reads with a timeout do), so a
    signal sent now interrupts it: one that lands between Python's last check and the
    poll() would wait for the poll to end (CPython's race). Where /proc does not say,
    return at once."""
    end = time.monotonic() + deadline
    path = Path(f"/proc/{pid}/syscall")
    while time.monotonic() < end:
        try:
            number = path.read_text().split(" ", 1)[0]
        except OSError:
            return
        if number in POLL_SYSCALLS or platform.machine() != "x86_64":
            return
    raise AssertionError("the child never blocked in poll()")


def spawn_repl(args: Sequence[str], extra_env: Mapping[str, str] | None = None,
               dimensions: tuple[int, int] = (40, 100)) -> Any:
    """``chatcli chat ARGS`` on a pseudo-terminal, its output kept in ``logfile_read``."""
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "chat", *args],
                          env=process_env({"TERM": "xterm-256color", **(extra_env or {})}),
                          dimensions=dimensions, timeout=30)
    child.delaybeforesend = None
    child.logfile_read = io.BytesIO()
    return child


def repl_ready(child: Any) -> None:
    """Wait for the REPL's prompt: answer its cursor-position request, see the toolbar."""
    child.expect("\x1b\\[6n")
    child.send("\x1b[1;1R")
    child.expect("tokens")


def repl_turns(child: Any, turns: Sequence[tuple[str, str]], *, then: str | None = None) -> None:
    """Type each prompt and wait for its answer (and ``then``, if given, after each);
    leave with Ctrl-D at the last prompt."""
    import pexpect

    for prompt, answer in turns:
        repl_ready(child)
        child.send(prompt + "\r")
        child.expect(answer)
        if then is not None:
            child.expect(then)
    repl_ready(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()


def sent(api: Any, *args: str) -> tuple[str, str]:
    """Run ask with ``args`` against ``api`` (a ``FakeAPI``), which must answer; the last
    user message the model got, and stderr."""
    from fakeapi import CHAT_PATH, SSE, text_stream

    api.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", api.base_url, *args])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok\n"
    chat = [r for r in api.requests if r.path == CHAT_PATH]
    return str(chat[-1].json()["messages"][-1]["content"]), result.stderr


def refused(api: Any, *args: str) -> str:
    """Run ask; it must stop with a usage error before asking the model. Its stderr."""
    from fakeapi import CHAT_PATH

    result = run_cli(["--base-url", api.base_url, *args])
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert not [r for r in api.requests if r.path == CHAT_PATH]
    return result.stderr


def unpublished(api: Any) -> None:
    """Script the two places a model's window and prices are looked up (``-u``, ``models
    show``) to publish none: the models list without the model, and no LiteLLM info."""
    from fakeapi import JSON, Raw

    api.add(JSON({"object": "list", "data": []}), path="/v1/models")
    api.add(Raw(404, b'{"error": {"message": "not found"}}', "application/json"),
            path="/v1/model/info")
