"""What ``chatcli cmd`` tells the model, and how its answer becomes a command.

The system prompt names what a command depends on: the OS and distribution, the
shell and the working directory, and asks for the command alone. Models add fences,
a ``$ `` prompt or a sentence anyway, so the answer is cleaned here; several lines
stay together as one script.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import PurePath

SHELLS = ("bash", "zsh", "fish", "sh", "pwsh")
FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


def shell_name(configured: str | None, login_shell: str | None) -> str:
    """``--shell``, else the name of ``$SHELL`` when it is one chatcli knows, else sh."""
    if configured:
        return configured
    name = PurePath(login_shell or "").name
    return name if name in SHELLS else "sh"


def system_of() -> str:
    """The OS, with the distribution where there is one: "Linux (Debian GNU/Linux 12)"."""
    system = platform.system() or "an unknown OS"
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
        except OSError:
            return system
        pretty = release.get("PRETTY_NAME") or release.get("NAME")
        return f"{system} ({pretty})" if pretty else system
    if system == "Darwin":
        version = platform.mac_ver()[0]
        return f"macOS {version}".strip()
    return system


def system_prompt(shell: str, system: str, cwd: str | None = None) -> str:
    where = cwd if cwd is not None else os.getcwd()
    return (f"You write shell commands. The user runs {shell} on {system}, in the"
            f" directory {where}. Answer with the command alone, for {shell}: no prose,"
            " no explanation, no Markdown fences, no leading prompt sign. If it takes"
            " several commands, give them as lines of one script.")


DESCRIBE = ("Describe what this command does, briefly: each part in a few words, and what"
            " it changes on the system. No rewrite of the command.")


def clean_command(answer: str) -> str:
    """The command in ``answer``: the first fenced block's content if there is one, then
    without a leading ``$ `` on any line and without blank lines around it."""
    text = answer.replace("\r\n", "\n")
    fenced = FENCE.search(text)
    if fenced:
        text = fenced.group(2)
    lines = [re.sub(r"^\s*\$ ", "", line) for line in text.split("\n")]
    return "\n".join(lines).strip("\n").strip()
