"""How ``chatcli cmd`` shows a generated command on a terminal: highlighted for its
shell, and in red with the reason when it is dangerous."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.status import Status
from rich.text import Text

from chatcli.protocol.events import Event
from chatcli.protocol.result import TurnResult
from chatcli.render.answer_markdown import highlighted

LEXERS = {"bash": "bash", "zsh": "bash", "sh": "bash", "fish": "fish", "pwsh": "powershell"}


def show_command(console: Console, command: str, shell: str, danger: str | None) -> None:
    """The command on its own lines; a dangerous one red, under a line saying why."""
    if danger is not None:
        console.print(Text(f"dangerous: {danger}", style="bold red"))
        console.print(Text(command, style="red"), crop=False, soft_wrap=True)
        return
    console.print(highlighted(command, LEXERS.get(shell, "bash")), crop=False, soft_wrap=True)


class Waiting:
    """A renderer that shows none of the answer: a spinner while the model works, gone
    once it is done (the command is shown whole, after cleaning)."""

    def __init__(self, console: Console | None, text: str = "making a command…") -> None:
        self.status = Status(text, console=console) if console is not None else None

    def start(self) -> None:
        if self.status is not None:
            self.status.start()

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        if self.status is not None:
            self.status.stop()

    def abort(self, result: TurnResult) -> None:
        self.finish(result)
