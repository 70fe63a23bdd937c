"""The Typer app: commands and their options, and nothing else.

Each command turns its options into plain values and calls into the session
layer or ``cli/info.py``; no request logic lives here. The bigger commands live
in ``app_*.py`` beside it and are registered here. ``ask`` (``app_ask.py``) is
the default command, so ``chatcli "hi"`` and ``chatcli ask "hi"`` are the same.
"""

from __future__ import annotations

from typing import Annotated

import typer

from chatcli.cli.app_ask import endpoint
from chatcli.cli.app_batch import batch
from chatcli.cli.app_compare import compare
from chatcli.cli.app_endpoint import doctor, models_app
from chatcli.cli.app_history import history_app
from chatcli.cli.app_root import new_app
from chatcli.cli.app_shell import cmd, shell_integration
from chatcli.cli.app_templates import templates_app
from chatcli.cli.app_usage import usage
from chatcli.cli.guard import guarded
from chatcli.cli.help_sections import PairedCommand
from chatcli.cli.options import (
    ApiKey,
    BaseUrl,
    ConnectTimeout,
    Debug,
    Model,
    Profile,
    Retries,
    Shell,
    Timeout,
)

app = new_app()
config_app = typer.Typer(help="Inspect the resolved configuration.", rich_markup_mode=None,
                         no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(history_app, name="history")
app.add_typer(models_app, name="models")
app.add_typer(templates_app, name="templates")
app.command()(doctor)
app.command(cls=PairedCommand)(cmd)
app.command("shell-integration")(shell_integration)
app.command()(usage)
app.command()(batch)
app.command()(compare)



@config_app.command("show")
def config_show(
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
    model: Model = None,
    timeout: Timeout = None,
    connect_timeout: ConnectTimeout = None,
    retries: Retries = None,
    debug: Debug = False,
) -> None:
    """Print every resolved setting and where it came from (the key redacted)."""
    from chatcli.cli.info import show_config

    flags = endpoint(base_url=base_url, api_key=api_key, profile=profile, model=model,
                     timeout=timeout, connect_timeout=connect_timeout, retries=retries)
    guarded(lambda: show_config(flags))


@config_app.command("forget-drops")
def config_forget_drops(debug: Debug = False) -> None:
    """Forget the request fields endpoints rejected (they are sent again)."""
    from chatcli.cli.info import forget_drops

    guarded(forget_drops)


@app.command()
def completion(
    shell: Annotated[Shell, typer.Argument(
        metavar="SHELL", help="The shell to complete for.", show_default=False)],
) -> None:
    """Print a shell completion script (static: pressing TAB never runs chatcli)."""
    from typer.main import get_command

    from chatcli.cli.completion import completion_script

    guarded(lambda: typer.echo(completion_script(shell.value, get_command(app)), nl=False))
