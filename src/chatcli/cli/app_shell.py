"""``chatcli cmd``: a shell command made from a description, run only when asked.

Kept apart from ``app.py`` (which registers it), as ``app_endpoint.py`` is; the work
happens in ``session/shell_command.py``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import (
    AllowSecrets,
    ApiKey,
    BaseUrl,
    CaBundle,
    ConnectTimeout,
    Debug,
    Headers,
    Insecure,
    Model,
    Profile,
    RedactSecrets,
    Retries,
    Shell,
    TemplateName,
    TemplateParams,
    Timeout,
    TraceId,
    Verbose,
)


class CommandShell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    sh = "sh"
    pwsh = "pwsh"


def cmd(
    description: Annotated[list[str] | None, typer.Argument(
        metavar="DESCRIPTION...", help="What the command should do.", show_default=False)
    ] = None,
    shell: Annotated[CommandShell | None, typer.Option(
        "--shell", help="The shell to write the command for (default: from $SHELL).")
    ] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="On a terminal, run the command without asking (a dangerous"
        " one still asks).")] = False,
    no_interaction: Annotated[bool, typer.Option(
        "--no-interaction", help="Print the command and exit, even on a terminal.")
    ] = False,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="Do not keep the command in the history.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the request as it would be sent, and send nothing.")
    ] = False,
    template: TemplateName = None,
    param: TemplateParams = None,
    redact_secrets: RedactSecrets = False,
    allow_secrets: AllowSecrets = False,
    model: Model = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
    header: Headers = None,
    trace_id: TraceId = None,
    timeout: Timeout = None,
    connect_timeout: ConnectTimeout = None,
    retries: Retries = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> int:
    """Make one shell command from DESCRIPTION; on a terminal, choose to run it.

    Piped stdin is context. Without a terminal the command is printed, never run.
    With -T, the template's system text follows the shell instructions and its prompt
    wraps the description.
    """
    from chatcli.session.shell_command import run_cmd
    from chatcli.session.shell_request import CmdRequest

    status = 0

    def work() -> None:
        nonlocal status
        status = run_cmd(CmdRequest(
            description=list(description or []), shell=shell.value if shell else None,
            yes=yes, interaction=not no_interaction, history=not no_history, dry_run=dry_run,
            template=template, params=[(str(pair[0]), str(pair[1])) for pair in param or []],
            allow_secrets=allow_secrets, redact_secrets=redact_secrets,
            headers=list(header or []), verbose=verbose, trace_id=trace_id,
            ca_bundle=ca_bundle, insecure=insecure,
            flags=dict(base_url=base_url, api_key=api_key, profile=profile, model=model,
                       timeout=timeout, connect_timeout=connect_timeout, retries=retries)))

    guarded(work)
    return status


def shell_integration(
    shell: Annotated[Shell, typer.Argument(
        metavar="SHELL", help="bash, zsh or fish.", show_default=False)],
) -> None:
    """Print a snippet for your shell's rc file: Alt-E turns the command line's
    description into a command (chatcli cmd), left there to edit and run."""
    from chatcli.cli.shell_integration import snippet

    guarded(lambda: typer.echo(snippet(shell.value), nl=False))
