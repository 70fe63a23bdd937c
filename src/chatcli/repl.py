"""The interactive REPL (``chatcli chat``): a prompt-toolkit loop and slash commands."""

from __future__ import annotations

from chatcli.cli.ask import AskRequest
from chatcli.cli.output import Environment
from chatcli.errors import UsageError


def run_chat(request: AskRequest, env: Environment | None = None) -> None:
    """Not built yet."""
    raise UsageError("chatcli chat is not available yet")
