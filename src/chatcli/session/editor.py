"""``-e/--editor``: the prompt written in the user's editor, as ``git commit`` does.

The file starts with the prompt words, if any; the editor runs on the terminal even
when stdin is a pipe (stdin stays context). An empty file sends nothing.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from chatcli.errors import UsageError


def compose(initial: str, *, stdin_is_terminal: bool) -> str:
    """What the user wrote in ``$VISUAL``/``$EDITOR`` (``vi``), starting from ``initial``."""
    with tempfile.TemporaryDirectory(prefix="chatcli-") as folder:
        path = Path(folder) / "prompt.md"
        path.write_text(initial + ("\n" if initial else ""), encoding="utf-8")
        os.chmod(path, 0o600)
        edit_file(path, stdin_is_terminal=stdin_is_terminal, unsent="nothing sent")
        text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise UsageError("empty prompt; nothing sent")
    return text.rstrip("\n")


def edit_file(path: Path, *, stdin_is_terminal: bool, unsent: str) -> None:
    """Run the user's editor on ``path``; a failure to start it, or its non-zero exit, is a
    usage error ending with ``unsent`` (what did not happen because of it)."""
    from chatcli.config import editor_command

    command = shlex.split(editor_command())
    if not command:
        raise UsageError("the editor command ($VISUAL or $EDITOR) is empty")
    with ExitStack() as closing:
        keys: IO[bytes] | int | None = None  # the terminal chatcli has
        if not stdin_is_terminal:  # piped stdin is context: the editor gets the terminal,
            try:  # or, with none (a window editor, a script), no input at all
                keys = closing.enter_context(open("/dev/tty", "rb"))
            except OSError:
                keys = subprocess.DEVNULL
        try:
            done = subprocess.run([*command, str(path)], stdin=keys, check=False)
        except OSError as exc:
            raise UsageError(f"cannot run the editor {command[0]!r}: {exc.strerror or exc}"
                             ) from None
    if done.returncode != 0:
        raise UsageError(f"the editor {command[0]!r} exited with status"
                         f" {done.returncode}; {unsent}")
