"""The options and choices the commands share, declared once for Typer.

Kept apart from ``app.py`` so that each command lists its options by name and
the app module stays a readable table of commands.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated

import typer


class OutputMode(StrEnum):
    auto = "auto"
    rich = "rich"
    plain = "plain"
    json = "json"
    events = "events"


class ReasoningChoice(StrEnum):
    auto = "auto"
    show = "show"
    hide = "hide"


class ContextPolicy(StrEnum):
    truncate = "truncate"
    compact = "compact"
    error = "error"


class Detail(StrEnum):
    low = "low"
    high = "high"
    auto = "auto"


class Effort(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class ResponseFormat(StrEnum):
    text = "text"
    json_object = "json_object"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


class SearchSize(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class ExportFormat(StrEnum):
    md = "md"
    json = "json"


def finite(value: float | None) -> float | None:
    """Typer callback: a number option may not be NaN or infinite (range checks pass NaN)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number")
    return value


# Options shared by every command that talks to an endpoint.
BaseUrl = Annotated[str | None, typer.Option(
    "--base-url", metavar="URL", help="API base URL including /v1 [env: CHATCLI_BASE_URL,"
    " OPENAI_BASE_URL; default https://api.openai.com/v1].")]
ApiKey = Annotated[str | None, typer.Option(
    "--api-key", metavar="KEY", help="API key, sent as a Bearer token [env: CHATCLI_API_KEY,"
    " OPENAI_API_KEY].")]
Profile = Annotated[str | None, typer.Option(
    "-P", "--profile", metavar="NAME", help="Profile from config.toml [env: CHATCLI_PROFILE].")]
Headers = Annotated[list[str] | None, typer.Option(
    "-H", "--header", metavar="'NAME: VALUE'", help="Extra request header (repeatable).")]
TraceId = Annotated[str | None, typer.Option(
    "--trace-id", metavar="ID", help="X-Trace-ID to send (default: a fresh UUID).")]
Timeout = Annotated[float | None, typer.Option(
    "--timeout", metavar="SECONDS", min=0.001, callback=finite,
    help="Read timeout [default: 600].")]
ConnectTimeout = Annotated[float | None, typer.Option(
    "--connect-timeout", metavar="SECONDS", min=0.001, callback=finite,
    help="Connect timeout [default: 10].")]
MaxTime = Annotated[float | None, typer.Option(
    "--max-time", metavar="SECONDS", min=0.001, callback=finite,
    help="Most time one request may take, answer included [default: none].")]
Retries = Annotated[int | None, typer.Option(
    "--retries", metavar="N", min=0, help="Retries before the answer starts [default: 2].")]
Verbose = Annotated[bool, typer.Option(
    "-v", "--verbose", help="Log the request and response headers to stderr.")]
# Read from argv by the error boundary (cli/__init__.py), which runs outside any command.
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
Model = Annotated[str | None, typer.Option(
    "-m", "--model", metavar="NAME", help="Model [env: CHATCLI_MODEL].")]
ConversationId = Annotated[str, typer.Argument(metavar="ID",
                          help="Conversation name, id or id prefix.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CaBundle = Annotated[str | None, typer.Option(
    "--ca-bundle", metavar="PATH", help="Check TLS certificates against this CA bundle.")]
Insecure = Annotated[bool, typer.Option(
    "--insecure", help="Do not check TLS certificates (a warning says so).")]
Thinking = Annotated[bool | None, typer.Option(
    "--thinking/--no-thinking", show_default=False,
    help="Ask for thinking on or off, in the model's dialect (default: not sent).")]
StrictParams = Annotated[bool, typer.Option(
    "--strict-params", help="Send every field as given; never drop or rename one.")]
TemplateName = Annotated[str | None, typer.Option(
    "-T", "--template", metavar="NAME",
    help="Apply the template NAME (see `chatcli templates list`).")]
TemplateParams = Annotated[list[str] | None, typer.Option(
    "-p", "--param", metavar="NAME VALUE",
    help="Fill the template's variable NAME (repeatable).")]
RedactSecrets = Annotated[bool, typer.Option(
    "--redact-secrets", help="Replace credentials found in what is sent by placeholders.")]
AllowSecrets = Annotated[bool, typer.Option(
    "--allow-secrets", help="Send credentials found in what is sent, without asking.")]
