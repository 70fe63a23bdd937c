"""``chatcli ask`` (the default command) and ``chatcli chat``: one set of options.

Kept apart from ``app.py`` (which registers it twice, as ``ask`` and ``chat``);
the options become one ``AskRequest`` and the work happens in the session layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import (
    AllowSecrets,
    ApiKey,
    BaseUrl,
    CaBundle,
    ConnectTimeout,
    ContextPolicy,
    Debug,
    Detail,
    Headers,
    Insecure,
    MaxTime,
    Model,
    OutputMode,
    Profile,
    ReasoningChoice,
    RedactSecrets,
    Retries,
    SearchSize,
    StrictParams,
    TemplateName,
    TemplateParams,
    Thinking,
    Timeout,
    TraceId,
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


def endpoint(**values: Any) -> dict[str, Any]:
    """The flags ``config.load_settings`` merges (None where not given)."""
    return values


def ask(
    ctx: typer.Context,
    prompt: Annotated[list[str] | None, typer.Argument(
        help="Prompt words, joined with spaces. Piped stdin is appended.", metavar="PROMPT",
        show_default=False)] = None,
    system: System = None,
    template: TemplateName = None,
    param: TemplateParams = None,
    save: Annotated[str | None, typer.Option(
        "--save", metavar="NAME",
        help="Save this invocation as the template NAME instead of sending it.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Let --save replace a template of the same name.")] = False,
    file: Annotated[list[str] | None, typer.Option(
        "-f", "--file", metavar="PATH|DIR|URL|!CMD",
        help="Inline a text file, every text file under a directory, a web page or a"
        " command's output (repeatable).")] = None,
    image: Annotated[list[str] | None, typer.Option(
        "-i", "--image", metavar="PATH|URL", help="Attach an image (repeatable).")] = None,
    image_detail: Annotated[Detail | None, typer.Option(
        "--image-detail", help="Image detail level.")] = None,
    max_attachment_mb: Annotated[float, typer.Option(
        "--max-attachment-mb",
        callback=finite, metavar="MB", min=0, help="Largest file or image accepted.")] = 20,
    max_context_kb: Annotated[int, typer.Option(
        "--max-context-kb", metavar="KB", min=1,
        help="Most text all -f sources may inline together.")] = 512,
    audio: Annotated[list[str] | None, typer.Option(
        "--audio", metavar="PATH",
        help="Attach a WAV or MP3 file as input audio (repeatable).")] = None,
    attach: Annotated[list[str] | None, typer.Option(
        "--attach", metavar="PATH",
        help="Attach a file, e.g. a PDF, as a file part (repeatable).")] = None,
    file_id: Annotated[list[str] | None, typer.Option(
        "--file-id", metavar="ID", help="Attach an uploaded file by its id (repeatable).")
    ] = None,
    video: Annotated[list[str] | None, typer.Option(
        "--video", metavar="URL", help="Attach a video by URL (repeatable).")] = None,
    clipboard: Annotated[bool, typer.Option(
        "--clipboard", help="Attach the image on the clipboard.")] = False,
    modalities: Annotated[list[str] | None, typer.Option(
        "--modalities", metavar="KIND",
        help="Output modalities, e.g. text and audio (repeatable).")] = None,
    audio_voice: Annotated[str | None, typer.Option(
        "--audio-voice", metavar="NAME", help="Voice for spoken output, e.g. alloy.")] = None,
    audio_format: Annotated[str | None, typer.Option(
        "--audio-format", metavar="FORMAT", help="Spoken output format, e.g. wav or mp3.")
    ] = None,
    audio_out: Annotated[str | None, typer.Option(
        "--audio-out", metavar="FILE", help="Write the spoken answer to FILE.")] = None,
    web_search: Annotated[SearchSize | None, typer.Option(
        "--web-search", help="Search the web, with this context size.")] = None,
    prediction: Annotated[str | None, typer.Option(
        "--prediction", metavar="FILE",
        help="Predicted output (text of FILE) to speed up edits.")] = None,
    store: Annotated[bool | None, typer.Option(
        "--store/--no-store", help="Ask the server to store (or not) the completion.",
        show_default=False)] = None,
    metadata: Annotated[list[str] | None, typer.Option(
        "--metadata", metavar="KEY=VALUE", help="Metadata to store with it (repeatable).")
    ] = None,
    service_tier: Annotated[str | None, typer.Option(
        "--service-tier", metavar="NAME", help="Service tier, e.g. auto, default, flex.")
    ] = None,
    messages: Annotated[str | None, typer.Option(
        "--messages", metavar="FILE", help="Start from a JSON array of messages ('-' for stdin).")
    ] = None,
    model: Model = None,
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
    max_completion_tokens: MaxCompletionTokens = None,
    n: Annotated[int | None, typer.Option("-n", min=1, help="Number of choices.")] = None,
    stop: Stop = None,
    presence_penalty: PresencePenalty = None,
    frequency_penalty: FrequencyPenalty = None,
    logit_bias: Annotated[list[str] | None, typer.Option(
        "--logit-bias", metavar="TOKEN=BIAS", help="Token bias, -100 to 100 (repeatable).")
    ] = None,
    seed: Seed = None,
    user: Annotated[str | None, typer.Option("--user", help="End-user identifier.")] = None,
    reasoning_effort: ReasoningEffort = None,
    thinking: Thinking = None,
    strict_params: StrictParams = False,
    response_format: ResponseFormatOption = None,
    schema: Schema = None,
    tools: Annotated[Path | None, typer.Option(
        "--tools", metavar="FILE", help="JSON array of tool definitions.")] = None,
    tool_choice: Annotated[str | None, typer.Option(
        "--tool-choice", metavar="none|auto|required|NAME", help="Tool choice.")] = None,
    functions: Annotated[list[Path] | None, typer.Option(
        "--functions", metavar="FILE.py",
        help="Every public function in the file becomes a tool that runs (repeatable).")
    ] = None,
    tool_cmd: Annotated[list[str] | None, typer.Option(
        "--tool-cmd", metavar="NAME=COMMAND",
        help="Tool NAME (schema from --tools) runs COMMAND: arguments as JSON on stdin,"
        " result from stdout (repeatable).")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Run every tool call (and -f '!COMMAND') without asking.")] = False,
    approve: Annotated[list[str] | None, typer.Option(
        "--approve", metavar="NAME", help="Run calls of this tool without asking (repeatable).")
    ] = None,
    tool_timeout: Annotated[float, typer.Option(
        "--tool-timeout",
        callback=finite, metavar="SECONDS", help="Time limit of one tool call.")] = 60.0,
    mcp: Annotated[list[str] | None, typer.Option(
        "--mcp", metavar="COMMAND",
        help="Tools of the MCP server this command starts (stdio; repeatable).")] = None,
    mcp_url: Annotated[list[str] | None, typer.Option(
        "--mcp-url", metavar="URL",
        help="Tools of the MCP server at this URL (streamable HTTP; repeatable).")] = None,
    max_tool_result_kb: Annotated[int, typer.Option(
        "--max-tool-result-kb", metavar="KB", min=1,
        help="Most of one tool result sent back to the model; the rest is cut.")] = 256,
    tool_env: Annotated[list[str] | None, typer.Option(
        "--tool-env", metavar="NAME",
        help="A key variable tools may still see (they see none by default; repeatable).")
    ] = None,
    max_tool_rounds: Annotated[int, typer.Option(
        "--max-tool-rounds", metavar="N", min=0,
        help="Most rounds of tool calls before chatcli stops.")] = 10,
    parallel_tool_calls: Annotated[bool | None, typer.Option(
        "--parallel-tool-calls/--no-parallel-tool-calls", help="Allow parallel tool calls.",
        show_default=False)] = None,
    logprobs: Annotated[bool, typer.Option("--logprobs", help="Ask for log probabilities.")
    ] = False,
    top_logprobs: Annotated[int | None, typer.Option(
        "--top-logprobs", min=0, max=20, help="Alternatives per token (0-20).")] = None,
    option: RequestFields = None,
    stream: Annotated[bool, typer.Option(
        "--stream/--no-stream", help="Stream the answer.")] = True,
    output: Annotated[OutputMode, typer.Option(
        "-O", "--output", help="auto: rich on a terminal, plain otherwise.")] = OutputMode.auto,
    reasoning: Annotated[ReasoningChoice, typer.Option(
        "--reasoning", help="Show the model's thinking.")] = ReasoningChoice.auto,
    usage: Annotated[bool, typer.Option(
        "-u", "--usage", help="Print token usage, timing and cost to stderr.")] = False,
    context: Annotated[ContextPolicy | None, typer.Option(
        "--context", help="Over the model's window: leave out the oldest turns (truncate),"
        " send a summary of them (compact) or stop before sending (error) [config: context;"
        " default: truncate].")] = None,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", metavar="USD", min=0, callback=finite,
        help="Refuse to send what could cost more than USD (this call; in chat, the"
        " session).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the request as it would be sent (JSON on stdout; URL and"
        " headers on stderr), and send nothing.")] = False,
    editor: Annotated[bool, typer.Option(
        "-e", "--editor", help="Write the prompt in $VISUAL or $EDITOR (the prompt words"
        " start it).")] = False,
    copy: Annotated[bool, typer.Option(
        "--copy", help="Also copy the answer (with -x, its code) to the clipboard.")] = False,
    notify: Annotated[bool, typer.Option(
        "--notify", help="Ring the bell (and notify the desktop) when the answer or a"
        " tool question arrives.")] = False,
    extract: Annotated[bool, typer.Option(
        "-x", "--extract",
        help="Print only the answer's code blocks, once the answer is complete.")] = False,
    extract_last: Annotated[bool, typer.Option(
        "--extract-last", help="Print only the answer's last code block (implies -x).")
    ] = False,
    code: Annotated[bool, typer.Option(
        "--code", help="Ask for code only, in one block (implies -x).")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", metavar="LANG", help="The language --code asks for, e.g. python.")] = None,
    continue_last: Annotated[bool, typer.Option(
        "-c", "--continue", help="Continue the most recent conversation.")] = False,
    cid: Annotated[str | None, typer.Option(
        "--cid", metavar="ID", help="Continue the conversation with this name, id or id"
        " prefix.")] = None,
    fork: Annotated[bool, typer.Option(
        "--fork", help="With -c or --cid: go on in a new conversation, a copy of that one"
        " (which stays as it was).")] = False,
    more: Annotated[bool, typer.Option(
        "--more", help="With -c or --cid: continue the last answer where it was cut off (the"
        " token limit, a dropped connection) and keep the parts as one answer.")] = False,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="Name the new conversation (unique; --cid NAME"
        " finds it).")] = None,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="Do not keep this exchange in the history.")] = False,
    redact_secrets: RedactSecrets = False,
    allow_secrets: AllowSecrets = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
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
    """Send a prompt and stream the answer (the default command)."""
    from chatcli.session.ask import run_ask
    from chatcli.session.options import AskRequest

    run = run_ask
    if ctx.info_name == "chat":  # the same options, the interactive loop
        from chatcli.repl.prompt import run_chat as run

    guarded(lambda: run(AskRequest(
        prompt=list(prompt or []), system=system, template=template,
        params=[(str(pair[0]), str(pair[1])) for pair in param or []], save=save, force=force,
        files=list(file or []),
        images=list(image or []), image_detail=image_detail.value if image_detail else None,
        max_attachment_mb=max_attachment_mb, max_context_kb=max_context_kb, messages=messages,
        temperature=temperature,
        top_p=top_p, max_tokens=max_tokens, max_completion_tokens=max_completion_tokens, n=n,
        stop=list(stop or []), presence_penalty=presence_penalty,
        frequency_penalty=frequency_penalty, logit_bias=list(logit_bias or []), seed=seed,
        user=user, reasoning_effort=reasoning_effort.value if reasoning_effort else None,
        response_format=response_format.value if response_format else None, schema=schema,
        tools=str(tools) if tools else None, tool_choice=tool_choice,
        parallel_tool_calls=parallel_tool_calls, logprobs=logprobs, top_logprobs=top_logprobs,
        options=list(option or []), stream=stream, output=output.value,
        reasoning=reasoning.value, usage=usage, max_cost=max_cost, notify=notify,
        dry_run=dry_run, copy=copy, editor=editor,
        extract=extract, extract_last=extract_last, code=code, lang=lang,
        headers=list(header or []), trace_id=trace_id,
        verbose=verbose, history=not no_history, continue_last=continue_last, cid=cid,
        fork=fork, more=more, name=name,
        functions=[str(f) for f in functions or []], tool_cmds=list(tool_cmd or []), yes=yes,
        approve=list(approve or []), tool_timeout=tool_timeout,
        max_tool_rounds=max_tool_rounds, max_tool_result_kb=max_tool_result_kb,
        tool_env=list(tool_env or []), ca_bundle=ca_bundle, insecure=insecure,
        mcp=list(mcp or []), mcp_urls=list(mcp_url or []),
        thinking=thinking, strict_params=strict_params, redact_secrets=redact_secrets,
        allow_secrets=allow_secrets,
        audio=list(audio or []), attach=list(attach or []), file_ids=list(file_id or []),
        videos=list(video or []), clipboard=clipboard, modalities=list(modalities or []),
        audio_voice=audio_voice, audio_format=audio_format, audio_out=audio_out,
        web_search=web_search.value if web_search else None, prediction=prediction,
        store=store, metadata=list(metadata or []), service_tier=service_tier,
        flags=endpoint(base_url=base_url, api_key=api_key, profile=profile, model=model,
                       timeout=timeout, connect_timeout=connect_timeout, retries=retries,
                       max_time=max_time, context=context.value if context else None),
    )))


