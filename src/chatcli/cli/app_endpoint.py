"""The commands that ask the endpoint what it is: ``models``, ``models show``, ``doctor``.

Kept apart from ``app.py`` (which registers them), as ``app_history.py`` is, so
each Typer module stays a readable table of commands; the work happens in ``cli/info.py``,
``cli/models_command.py`` and ``cli/doctor_command.py``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import (
    ApiKey,
    BaseUrl,
    CaBundle,
    ConnectTimeout,
    Debug,
    Headers,
    Insecure,
    Model,
    Profile,
    Retries,
    Timeout,
    TraceId,
    Verbose,
)
from chatcli.errors import UsageError

models_app = typer.Typer(help="List the models the endpoint offers, or describe one.",
                         rich_markup_mode=None, invoke_without_command=True)


@models_app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON list.")] = False,
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
) -> None:
    """List the models the endpoint offers (GET /models); `models show MODEL` describes one."""
    if ctx.invoked_subcommand is not None:
        given = [name for name, value in ctx.params.items()
                 if name != "debug" and value not in (None, False, (), [])]
        if given:
            raise UsageError("options go after the subcommand: chatcli models show MODEL"
                             " [OPTIONS]")
        return
    from chatcli.cli.info import list_models

    guarded(lambda: list_models(
        flags=dict(base_url=base_url, api_key=api_key, profile=profile, timeout=timeout,
                   connect_timeout=connect_timeout, retries=retries),
        headers=list(header or []), trace_id=trace_id, as_json=as_json, verbose=verbose,
        ca_bundle=ca_bundle, insecure=insecure,
    ))


@models_app.command("show")
def models_show(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The model's id.",
                                         show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON object.")] = False,
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
) -> None:
    """What the endpoint says about MODEL (GET /model-catalog/MODEL, else /models/MODEL)."""
    from chatcli.cli.models_command import show_model

    guarded(lambda: show_model(
        model, flags=dict(base_url=base_url, api_key=api_key, profile=profile,
                          timeout=timeout, connect_timeout=connect_timeout,
                          retries=retries),
        headers=list(header or []), trace_id=trace_id, as_json=as_json, verbose=verbose,
        ca_bundle=ca_bundle, insecure=insecure,
    ))


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    model: Model = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
    header: Headers = None,
    timeout: Timeout = None,
    connect_timeout: ConnectTimeout = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Probe what the endpoint and model do, with a handful of tiny requests."""
    from chatcli.cli.doctor_command import run_doctor_command

    guarded(lambda: run_doctor_command(
        flags=dict(base_url=base_url, api_key=api_key, profile=profile, model=model,
                   timeout=timeout, connect_timeout=connect_timeout),
        headers=list(header or []), as_json=as_json, verbose=verbose, ca_bundle=ca_bundle,
        insecure=insecure,
    ))


@models_app.command("alias")
def models_alias(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The alias, e.g. fast.",
                                        show_default=False)],
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The model id it stands for.",
                                         show_default=False)],
) -> None:
    """Make NAME stand for MODEL ([aliases] in config.toml; -m NAME then sends MODEL)."""
    from chatcli.cli.info import add_alias

    guarded(lambda: add_alias(name, model))


@models_app.command("unalias")
def models_unalias(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The alias to forget.",
                                        show_default=False)],
) -> None:
    """Forget the alias NAME (from [aliases] in config.toml)."""
    from chatcli.cli.info import drop_alias

    guarded(lambda: drop_alias(name))
