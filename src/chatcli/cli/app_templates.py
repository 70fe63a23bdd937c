"""``chatcli templates …``: the commands' options; the work is in ``templates_command``."""

from __future__ import annotations

from typing import Annotated

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import AsJson

templates_app = typer.Typer(help="List, show, edit and delete prompt templates (-T NAME).",
                            rich_markup_mode=None, no_args_is_help=True)

Names = Annotated[bool, typer.Option("--names", hidden=True,
                                     help="Only the names, one per line (for completion).")]
Variables = Annotated[bool, typer.Option(
    "--variables", hidden=True, help="Only the variables, one per line (for completion).")]
TemplateName = Annotated[str, typer.Argument(metavar="NAME", help="The template's name.",
                                             show_default=False)]


@templates_app.command("list")
def templates_list(as_json: AsJson = False, names: Names = False) -> None:
    """List templates: name, description, and whether it is yours or built in."""
    from chatcli.cli import templates_command

    guarded(lambda: templates_command.list_templates(as_json, names_only=names))


@templates_app.command("show")
def templates_show(template: TemplateName, variables: Variables = False) -> None:
    """Print a template's file and the messages it makes."""
    from chatcli.cli import templates_command

    guarded(lambda: templates_command.show(template, variables_only=variables))


@templates_app.command("edit")
def templates_edit(template: TemplateName) -> None:
    """Edit a template in $VISUAL or $EDITOR (a new one, or your copy of a built-in one);
    it is saved once it reads as a template."""
    from chatcli.cli import templates_command

    guarded(lambda: templates_command.edit(template))


@templates_app.command("path")
def templates_path() -> None:
    """Print the directory your templates live in."""
    from chatcli.cli import templates_command

    guarded(templates_command.print_path)


@templates_app.command("delete")
def templates_delete(template: TemplateName) -> None:
    """Delete one of your templates."""
    from chatcli.cli import templates_command

    guarded(lambda: templates_command.delete(template))
