"""``chatcli history …``: the commands' options; the work is in ``history_commands``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import AsJson, ConversationId, ExportFormat

history_app = typer.Typer(help="List, show, rename, search, export and delete past"
                          " conversations.",
                          rich_markup_mode=None, no_args_is_help=True)


@history_app.command("list")
def history_list(
    limit: Annotated[int, typer.Option("-n", metavar="N", min=1,
                                       help="How many, most recent first.")] = 20,
    as_json: AsJson = False,
    names: Annotated[bool, typer.Option(
        "--names", help="Print only every conversation's name and the ids of the -n most"
        " recent, one per line (what shell completion offers).")] = False,
) -> None:
    """List conversations, most recent first."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.list_conversations(limit, as_json, names_only=names))


@history_app.command("show")
def history_show(
    conversation: ConversationId,
    as_json: AsJson = False,
    tree: Annotated[bool, typer.Option(
        "--tree", help="Draw every branch, not only the current one.")] = False,
) -> None:
    """Print one conversation: its current branch, or with --tree all of them."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.show(conversation, as_json, tree=tree))


@history_app.command("rename")
def history_rename(
    conversation: ConversationId,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new name (unique).")],
) -> None:
    """Name a conversation, so that --cid NAME finds it."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.rename(conversation, name))


@history_app.command("search")
def history_search(
    text: Annotated[list[str], typer.Argument(metavar="TEXT", help="Words to look for.")],
) -> None:
    """Find conversations by the words in their messages (full-text)."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.search(" ".join(text)))


@history_app.command("export")
def history_export(
    conversation: ConversationId,
    format: Annotated[ExportFormat, typer.Option("--format", help="md or json.")
                      ] = ExportFormat.md,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Export one conversation as Markdown or JSON."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.export(conversation, format.value, output))


@history_app.command("delete")
def history_delete(conversation: ConversationId) -> None:
    """Delete one conversation."""
    from chatcli.cli import history_commands

    guarded(lambda: history_commands.delete(conversation))


@history_app.command("path")
def history_path() -> None:
    """Print where the history database is."""
    from chatcli.cli import history_commands

    guarded(history_commands.print_path)
