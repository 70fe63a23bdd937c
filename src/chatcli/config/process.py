"""The few things read from the process's environment outside the settings layers: which
streams count as terminals, the user's shell and editor."""

from __future__ import annotations

import os


def terminal_variables() -> dict[str, str]:
    """The variables that say whether a stream counts as a terminal, as Rich reads them."""
    return {name: os.environ[name] for name in ("TTY_COMPATIBLE", "FORCE_COLOR")
            if name in os.environ}


def colour_off() -> bool:
    """``NO_COLOR`` (any value) or ``TERM=dumb``: chatcli's own lines go without colour or
    dimming, as Rich's do."""
    return "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"


def user_shell() -> str | None:
    """``$SHELL``: the shell a generated command is written for and run in."""
    return os.environ.get("SHELL") or None


def editor_command() -> str:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``: the editor ``-e`` opens."""
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
