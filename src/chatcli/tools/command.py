"""Tools that run a command: the arguments go to its stdin as JSON, its stdout is the result.

The command line is split with ``shlex`` once, when the flag is read, and run
without a shell. The model's arguments only ever reach the child's stdin,
never its argv or environment, so no argument can smuggle in a command. A child
that runs out of time is killed together with its process group, so a
``sh -c`` wrapper cannot leave a grandchild holding the pipes open.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatcli.errors import UsageError
from chatcli.tools.definitions import Cancellation, ToolError, check_tool_name

STDERR_LINES = 5


def parse_tool_cmd(spec: str) -> tuple[str, list[str]]:
    """``NAME=COMMAND`` as the tool's name and the command's argv."""
    name, sep, command = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"tool command {spec!r} must look like NAME=COMMAND")
    check_tool_name(name, "tool command")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"tool command {name}: cannot split the command: {exc}") from None
    if not argv:
        raise UsageError(f"tool command {name}: the command is empty")
    if not _findable(argv[0]):
        raise UsageError(f"tool command {name}: {argv[0]}: no such program")
    return name, argv


def _findable(program: str) -> bool:
    if os.sep in program or (os.altsep and os.altsep in program):
        return Path(program).is_file()
    return shutil.which(program) is not None


class CommandTool:
    """Runs ``argv`` once per call; a non-zero exit is a failure carrying stderr's tail."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)

    def run(self, arguments: dict[str, Any], cancellation: Cancellation) -> str:
        payload = json.dumps(arguments, ensure_ascii=False).encode("utf-8")
        try:
            process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise ToolError(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from exc
        cancellation.on_cancel(lambda: _kill(process))
        out, err = process.communicate(payload)
        if cancellation.cancelled:
            raise ToolError("stopped")
        if process.returncode != 0:
            raise ToolError(describe_failure(process.returncode, err))
        return out.decode("utf-8", "replace")


def describe_failure(returncode: int, stderr: bytes) -> str:
    """How the command ended, with the last lines it wrote to stderr."""
    head = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    lines = stderr.decode("utf-8", "replace").strip().splitlines()[-STDERR_LINES:]
    if not lines:
        return f"{head} (nothing on stderr)"
    return f"{head}: " + "\n".join(lines)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started; return once the child is reaped."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass  # already gone
    process.wait()
