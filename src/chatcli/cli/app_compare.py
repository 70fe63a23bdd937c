"""``chatcli compare``: the command's options; the work is in ``session/compare.py``."""

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
    MaxTime,
    RedactSecrets,
    Retries,
    StrictParams,
    TemplateName,
    TemplateParams,
    Thinking,
    Timeout,
    TraceId,
    Verbose,
)
from chatcli.cli.request_options import (
    FrequencyPenalty,
    MaxCompletionTokens,
    MaxTokens,
    PresencePenalty,
    ReasoningEffort,
    RequestFields,
    ResponseFormatOption,
    Schema,
    Seed,
    Stop,
    System,
    Temperature,
    TopP,
)


class CompareOutput(StrEnum):
    auto = "auto"
    json = "json"


def compare(
    prompt: Annotated[list[str] | None, typer.Argument(
        help="Prompt words, joined with spaces. Piped stdin is appended.", metavar="PROMPT",
        show_default=False)] = None,
    model: Annotated[list[str] | None, typer.Option(
        "-m", "--model", metavar="MODEL", help="A model to ask (repeatable).")] = None,
    profile: Annotated[list[str] | None, typer.Option(
        "-P", "--profile", metavar="NAME", help="A profile to ask, with its own endpoint and"
        " model (repeatable).")] = None,
    judge: Annotated[str | None, typer.Option(
        "--judge", metavar="MODEL", help="Ask this model to compare the answers.")] = None,
    output: Annotated[CompareOutput, typer.Option(
        "-O", "--output", help="auto: columns on a terminal, JSON otherwise.")
    ] = CompareOutput.auto,
    system: System = None,
    template: TemplateName = None,
    param: TemplateParams = None,
    file: Annotated[list[str] | None, typer.Option(
        "-f", "--file", metavar="PATH|DIR|URL|!CMD",
        help="Inline a text file, a directory, a web page or a command's output"
        " (repeatable).")] = None,
    image: Annotated[list[str] | None, typer.Option(
        "-i", "--image", metavar="PATH|URL", help="Attach an image (repeatable).")] = None,
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
    max_completion_tokens: MaxCompletionTokens = None,
    stop: Stop = None,
    presence_penalty: PresencePenalty = None,
    frequency_penalty: FrequencyPenalty = None,
    seed: Seed = None,
    reasoning_effort: ReasoningEffort = None,
    response_format: ResponseFormatOption = None,
    schema: Schema = None,
    option: RequestFields = None,
    thinking: Thinking = None,
    strict_params: StrictParams = False,
    redact_secrets: RedactSecrets = False,
    allow_secrets: AllowSecrets = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    header: Headers = None,
    trace_id: TraceId = None,
    timeout: Timeout = None,
    connect_timeout: ConnectTimeout = None,
    max_time: MaxTime = None,
    retries: Retries = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Ask several models (or profiles) the same thing at once and show the answers side
    by side."""
    from chatcli.session.compare import run_compare
    from chatcli.session.options import AskRequest

    guarded(lambda: run_compare(AskRequest(
        prompt=list(prompt or []), system=system, template=template,
        params=[(str(pair[0]), str(pair[1])) for pair in param or []],
        files=list(file or []), images=list(image or []), temperature=temperature,
        top_p=top_p, max_tokens=max_tokens, max_completion_tokens=max_completion_tokens,
        stop=list(stop or []), presence_penalty=presence_penalty,
        frequency_penalty=frequency_penalty, seed=seed,
        response_format=response_format.value if response_format else None, schema=schema,
        reasoning_effort=reasoning_effort.value if reasoning_effort else None,
        options=list(option or []), output=output.value, headers=list(header or []),
        trace_id=trace_id, verbose=verbose, ca_bundle=ca_bundle, insecure=insecure,
        thinking=thinking, strict_params=strict_params, redact_secrets=redact_secrets,
        allow_secrets=allow_secrets, history=False,
        flags={"base_url": base_url, "api_key": api_key, "timeout": timeout,
               "connect_timeout": connect_timeout, "retries": retries, "max_time": max_time},
    ), list(model or []), list(profile or []), judge))
