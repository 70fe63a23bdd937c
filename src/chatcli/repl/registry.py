"""The REPL's slash commands by name: the table ``/help`` lists and ``handle`` looks in.

Apart from the commands themselves so that more than one module can register them
(``commands``, ``template_commands``) without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from chatcli.repl.session import ChatSession


class Command(NamedTuple):
    args: str
    help: str
    run: Callable[[ChatSession, str], None] | None  # None: /exit, which the loop handles


COMMANDS: dict[str, Command] = {}


def command(name: str, args: str, help: str) -> Callable[[Callable[[ChatSession, str], None]],
                                                         Callable[[ChatSession, str], None]]:
    def register(run: Callable[[ChatSession, str], None]) -> Callable[[ChatSession, str], None]:
        COMMANDS[name] = Command(args, help, run)
        return run
    return register
