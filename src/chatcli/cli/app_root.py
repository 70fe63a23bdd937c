"""The root of the command line: the group that sends a prompt to ``ask``, ``--version``,
and the ``ask``/``chat`` registration, shared by the whole app (``app.py``) and the app
of ``ask`` alone that a plain prompt runs through (``cli.main``), which need not build
every other command first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from chatcli import __version__
from chatcli.cli.app_ask import ask
from chatcli.cli.command_words import command_line
from chatcli.cli.help_sections import SectionedCommand


class DefaultCommandGroup(TyperGroup):
    """Runs ``ask`` when the first word is not a command or a root option; options
    before a command go to it (``command_words``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, command_line(self.commands, self.commands["ask"], args))


def new_app(*, chat: bool = True) -> typer.Typer:
    """The root app with ``ask`` (and ``chat``); ``app.py`` adds the other commands."""
    app = typer.Typer(
        cls=DefaultCommandGroup,
        name="chatcli",
        help="Chat with any OpenAI-compatible endpoint from the terminal.\n\n"
        "Run `chatcli PROMPT` (the same as `chatcli ask PROMPT`).",
        rich_markup_mode=None,
        add_completion=False,
        no_args_is_help=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
    )
    app.callback()(root)
    app.command(context_settings={"allow_interspersed_args": True}, cls=SectionedCommand)(ask)
    if chat:
        app.command("chat", context_settings={"allow_interspersed_args": True},
                    help="Chat interactively (a REPL); PROMPT, if given, is the first message.",
                    cls=SectionedCommand)(ask)
    return app


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chatcli {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Chat with any OpenAI-compatible endpoint from the terminal."""
