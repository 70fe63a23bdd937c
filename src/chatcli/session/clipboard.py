"""Putting text on the user's clipboard: ``--copy``, ``/copy`` and ``cmd``'s copy.

On a terminal, OSC 52 asks the terminal itself (it works over ssh too); without one,
the first of ``wl-copy``, ``xclip``, ``pbcopy`` on PATH is given the text. Where
neither is possible, the caller is told so it can say it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable

from chatcli.output_guard import GuardedStream
from chatcli.session.environment import Environment

PROGRAMS = (("wl-copy",), ("xclip", "-selection", "clipboard"), ("pbcopy",))
TIMEOUT = 5.0


def copy_text(env: Environment, text: str, *, terminal: GuardedStream | None = None,
              which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Copy ``text``; how it was copied ("the terminal (OSC 52)", "wl-copy", …), or
    None when there was no way to. ``terminal`` is the screen to ask when the caller
    knows it (the REPL's, ``cmd``'s)."""
    stream = terminal or (env.stdout if env.stdout_is_terminal else (
        env.stderr if env.stderr_is_terminal else None))
    if stream is not None:
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        stream.write_trusted(f"\x1b]52;c;{encoded}\a")  # chatcli's own sequence, on purpose
        stream.flush()
        return "the terminal (OSC 52)"
    for program in PROGRAMS:
        path = which(program[0])
        if path is None:
            continue
        try:
            done = subprocess.run([path, *program[1:]], input=text.encode("utf-8"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return program[0]
    return None


def copy_answer(text: str, env: Environment) -> None:
    """``--copy``: the answer (with ``-x``, its code) on the clipboard too, or a warning."""
    if not text:
        env.warn("--copy: the answer has no text; nothing was copied")
    elif copy_text(env, text) is None:
        env.warn("--copy: no terminal, and none of wl-copy, xclip or pbcopy; nothing was"
                 " copied")
