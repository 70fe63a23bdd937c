"""``chatcli batch``: the command's options; the work is in ``session/batch.py``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
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
    Model,
    Profile,
    RedactSecrets,
    Retries,
    StrictParams,
    TemplateName,
    TemplateParams,
    Thinking,
    Timeout,
    Verbose,
    finite,
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


class BatchOutputMode(StrEnum):
    plain = "plain"
    json = "json"


def batch(
    input: Annotated[str | None, typer.Argument(
        metavar="INPUT", help="A file of items, one per line ('-' or none: stdin).",
        show_default=False)] = None,
    files: Annotated[list[str] | None, typer.Option(
        "--files", metavar="GLOB", help="One item per file instead: the file as -f context,"
        " its path as the id (repeatable; ** goes down).")] = None,
    concurrency: Annotated[int, typer.Option(
        "-j", "--concurrency", min=1, max=256, metavar="N",
        help="Most requests in flight (lowered while the server answers 429).")] = 4,
    ordered: Annotated[bool, typer.Option(
        "--ordered", help="Write the results in input order (default: as they finish).")
    ] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", metavar="DIR", help="Write one file per item, ID.md (ID.json with -O"
        " json), instead of JSON Lines on stdout.")] = None,
    state: Annotated[Path | None, typer.Option(
        "--state", metavar="FILE", help="Keep the finished items here, and skip them when"
        " run again (default: beside the output).")] = None,
    rpm: Annotated[int | None, typer.Option(
        "--rpm", min=1, metavar="N", help="Most requests started per minute.")] = None,
    tpm: Annotated[int | None, typer.Option(
        "--tpm", min=1, metavar="N", help="Most tokens answered per minute.")] = None,
    budget: Annotated[float | None, typer.Option(
        "--budget", min=0, callback=finite, metavar="USD",
        help="Start no more items once the answers have cost this much.")] = None,
    quiet: Annotated[bool, typer.Option(
        "-q", "--quiet", help="No progress and no summary on stderr (errors still).")] = False,
    history: Annotated[bool, typer.Option(
        "--history", help="Keep each answer in the history, as a conversation of its own.")
    ] = False,
    system: System = None,
    template: TemplateName = None,
    param: TemplateParams = None,
    file: Annotated[list[str] | None, typer.Option(
        "-f", "--file", metavar="PATH|DIR|URL", help="Context every item is sent with"
        " (repeatable).")] = None,
    model: Model = None,
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
    output: Annotated[BatchOutputMode, typer.Option(
        "-O", "--output", help="json: each result carries the whole completion too.")
    ] = BatchOutputMode.plain,
    thinking: Thinking = None,
    strict_params: StrictParams = False,
    redact_secrets: RedactSecrets = False,
    allow_secrets: AllowSecrets = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
    header: Headers = None,
    timeout: Timeout = None,
    connect_timeout: ConnectTimeout = None,
    max_time: MaxTime = None,
    retries: Retries = None,
    ca_bundle: CaBundle = None,
    insecure: Insecure = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Send many prompts at once: one per line of INPUT (text, or a JSON object), as JSON
    Lines on stdout; one failure never stops the rest."""
    from chatcli.session.batch import BatchOptions, run_batch
    from chatcli.session.options import AskRequest

    guarded(lambda: run_batch(BatchOptions(
        input=input, files=list(files or []), concurrency=concurrency, ordered=ordered,
        out_dir=str(out_dir) if out_dir else None, state=str(state) if state else None,
        rpm=rpm, tpm=tpm, budget=budget, quiet=quiet, history=history,
    ), AskRequest(
        prompt=[], system=system, template=template,
        params=[(str(pair[0]), str(pair[1])) for pair in param or []],
        files=list(file or []), temperature=temperature, top_p=top_p, max_tokens=max_tokens,
        max_completion_tokens=max_completion_tokens, stop=list(stop or []),
        presence_penalty=presence_penalty, frequency_penalty=frequency_penalty, seed=seed,
        response_format=response_format.value if response_format else None, schema=schema,
        reasoning_effort=reasoning_effort.value if reasoning_effort else None,
        options=list(option or []), output=output.value, headers=list(header or []),
        verbose=verbose, history=history, ca_bundle=ca_bundle, insecure=insecure,
        thinking=thinking, strict_params=strict_params, redact_secrets=redact_secrets,
        allow_secrets=allow_secrets,
        flags={"base_url": base_url, "api_key": api_key, "profile": profile, "model": model,
               "timeout": timeout, "connect_timeout": connect_timeout, "retries": retries,
               "max_time": max_time},
    )))
