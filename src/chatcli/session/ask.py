"""The one-shot command: gather input, build the request, run one turn.

Input comes from the prompt words, stdin (when it is not a terminal), files,
images and ``--messages``; every problem with it is a ``UsageError`` raised
before any request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.protocol.messages import (
    build_request,
    load_json,
    options_to_fields,
)
from chatcli.session.connect import open_client, param_drops_store
from chatcli.session.conversation import open_history
from chatcli.session.environment import Environment
from chatcli.session.inputs import gather_messages, read_text
from chatcli.session.outgoing import terminal_policy
from chatcli.session.output import make_renderer, report_outcome
from chatcli.session.tooling import has_runnable_tools

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.tools import ToolSet


@dataclass
class AskRequest:
    """Everything ``ask`` was given, as plain values."""

    prompt: list[str]
    flags: dict[str, Any]
    system: str | None = None
    files: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    image_detail: str | None = None
    max_attachment_mb: float = 20
    messages: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    stop: list[str] = field(default_factory=list)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: list[str] = field(default_factory=list)
    seed: int | None = None
    user: str | None = None
    reasoning_effort: str | None = None
    response_format: str | None = None
    schema: str | None = None
    tools: str | None = None
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    options: list[str] = field(default_factory=list)
    stream: bool = True
    output: str = "auto"
    reasoning: str = "auto"
    usage: bool = False
    headers: list[str] = field(default_factory=list)
    trace_id: str | None = None
    verbose: bool = False
    history: bool = True
    continue_last: bool = False
    cid: str | None = None
    functions: list[str] = field(default_factory=list)
    tool_cmds: list[str] = field(default_factory=list)
    yes: bool = False
    approve: list[str] = field(default_factory=list)
    tool_timeout: float = 60.0
    max_tool_rounds: int = 10
    max_tool_result_kb: int = 256
    tool_env: list[str] = field(default_factory=list)
    ca_bundle: str | None = None
    insecure: bool = False
    mcp: list[str] = field(default_factory=list)
    mcp_urls: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)
    attach: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    clipboard: bool = False
    modalities: list[str] = field(default_factory=list)
    audio_voice: str | None = None
    audio_format: str | None = None
    audio_out: str | None = None
    web_search: str | None = None
    prediction: str | None = None
    store: bool | None = None
    metadata: list[str] = field(default_factory=list)
    service_tier: str | None = None
    thinking: bool | None = None
    strict_params: bool = False
    allow_secrets: bool = False
    redact_secrets: bool = False


def run_ask(request: AskRequest, env: Environment | None = None) -> None:

    env = env or Environment.from_process()
    settings = env.settings(request.flags)
    if (settings.functions or settings.tool_cmds or settings.tools or settings.approve
            or settings.mcp or settings.mcp_urls):
        from chatcli.session.tooling import merged_tool_options

        request = merged_tool_options(request, settings)  # the flags add to the profile's
    fields = request_fields(request)
    mcp_tools = None
    toolset = None
    if has_runnable_tools(request):
        from chatcli.session.tooling import keep_keys_from_tools, load_mcp, toolset_for

        keep_keys_from_tools(request, settings, env)
        mcp_tools = load_mcp(request, env)  # bad tools are usage errors before sending
        toolset = toolset_for(request, fields, mcp_tools)
    try:
        _run(request, env, settings, fields, toolset)
    finally:
        if mcp_tools is not None:
            mcp_tools.close()


def _run(request: AskRequest, env: Environment, settings: Settings, fields: dict[str, Any],
         toolset: ToolSet | None) -> None:
    from chatcli.engine.turn import run_turn

    policy = terminal_policy(env, settings.secret_scan, allow=request.allow_secrets,
                             redact=request.redact_secrets)
    new_messages = gather_messages(request, env, policy)
    resumed = open_history(settings, env, wanted=request.history,
                           continue_last=request.continue_last, cid=request.cid)
    messages: list[Any] = [*resumed.messages, *new_messages]
    recorder = resumed.recorder(settings)
    try:
        with open_client(env, settings, headers=request.headers, verbose=request.verbose,
                         ca_bundle=request.ca_bundle, insecure=request.insecure,
                         strict=request.strict_params, thinking=request.thinking) as client:
            if any(isinstance(m.get("content"), list) for m in new_messages):
                from chatcli.config import data_dir
                from chatcli.endpoint.catalog import CACHE_FILE, refuse_unsupported_media

                # Images, audio or files: refused here if the endpoint says the model
                # cannot take them, rather than by a gateway 400 after the upload.
                refuse_unsupported_media(client, new_messages,
                                         str(fields.get("model") or settings.model),
                                         data_dir() / CACHE_FILE)
            if toolset is not None:
                from chatcli.session.tooling import run_with_tools

                result = run_with_tools(request, env, client, settings, messages, fields,
                                        toolset, recorder).last
            else:
                body = build_request(settings, messages, fields, stream=request.stream)
                renderer = make_renderer(request.output, request.reasoning, env,
                                         choices=int(body.get("n") or 1),
                                         model=str(body.get("model", "")),
                                         logprobs=request.logprobs,
                                         top_logprobs=request.top_logprobs or 0)
                result = run_turn(client, body, renderer, trace_id=request.trace_id,
                                  recorder=recorder)
    finally:
        if recorder is not None and recorder.failed is not None:
            env.warn(f"the history was not saved: {recorder.failed.describe()}")
        if resumed.store is not None:
            resumed.store.close()
    report_outcome(result, env, usage=request.usage, verbose=request.verbose)
    if request.audio_out:
        from chatcli.media.audio_out import write_audio

        if write_audio(result, request.audio_out) is None:
            env.warn(f"--audio-out {request.audio_out}: the response held no audio"
                     " (ask with --modalities text --modalities audio)")


def forget_drops(env: Environment | None = None) -> None:
    """``chatcli config forget-drops``: every remembered rejection is forgotten."""
    env = env or Environment.from_process()
    count = param_drops_store().forget()
    env.stdout.write(f"forgot {count} rejected field{'s' if count != 1 else ''}\n")


def request_fields(request: AskRequest) -> dict[str, Any]:
    """Request fields from flags, then ``-o`` items over them."""
    fields: dict[str, Any] = {}
    simple = {
        "temperature": request.temperature, "top_p": request.top_p,
        "max_tokens": request.max_tokens, "max_completion_tokens": request.max_completion_tokens,
        "n": request.n, "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty, "seed": request.seed,
        "user": request.user, "reasoning_effort": request.reasoning_effort,
        "parallel_tool_calls": request.parallel_tool_calls, "top_logprobs": request.top_logprobs,
        "service_tier": request.service_tier, "store": request.store,
    }
    fields.update({k: v for k, v in simple.items() if v is not None})
    if request.stop:
        fields["stop"] = request.stop[0] if len(request.stop) == 1 else request.stop
    if request.logit_bias:
        fields["logit_bias"] = _logit_bias(request.logit_bias)
    if request.logprobs or request.top_logprobs is not None:
        fields["logprobs"] = True
    if request.response_format:
        fields["response_format"] = {"type": request.response_format}
    if request.schema is not None:
        fields["response_format"] = _schema_format(request.schema)
    if request.tools is not None:
        fields["tools"] = _load_tools(request.tools)
    if request.tool_choice is not None:
        choice = request.tool_choice
        fields["tool_choice"] = (choice if choice in ("none", "auto", "required")
                                 else {"type": "function", "function": {"name": choice}})
    fields.update(_output_fields(request))
    from chatcli.config import deep_merge

    return deep_merge(fields, options_to_fields(request.options))


def _output_fields(request: AskRequest) -> dict[str, Any]:
    """Spoken output, web search, predicted output and stored-completion metadata."""
    fields: dict[str, Any] = {}
    if request.modalities:  # "text,audio" or repeated flags
        fields["modalities"] = [kind.strip() for item in request.modalities
                                for kind in item.split(",") if kind.strip()]
    if request.audio_voice or request.audio_format:
        fields["audio"] = {"voice": request.audio_voice or "alloy",
                           "format": request.audio_format or "wav"}
    if request.web_search:
        fields["web_search_options"] = {"search_context_size": request.web_search}
    if request.prediction is not None:
        fields["prediction"] = {"type": "content",
                                "content": read_text(request.prediction, "--prediction")}
    if request.metadata:
        fields["metadata"] = _metadata(request.metadata)
    return fields


def _metadata(items: list[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--metadata {item!r} must look like KEY=VALUE")
        data[key.strip()] = value
    return data


def _logit_bias(items: list[str]) -> dict[str, float]:
    bias: dict[str, float] = {}
    for item in items:
        token, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not token.strip() or not -100 <= number <= 100:
            raise UsageError(f"--logit-bias {item!r} must be TOKEN=BIAS with BIAS from -100 to 100")
        bias[token.strip()] = int(number) if number.is_integer() else number
    return bias


def _schema_format(value: str) -> dict[str, Any]:
    source = value
    if not value.lstrip().startswith("{"):
        source = read_text(value, "--schema")
    schema = load_json(source, "--schema")
    if not isinstance(schema, dict):
        raise UsageError("--schema must be a JSON object")
    name = schema.get("title") if isinstance(schema.get("title"), str) else "response"
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(name))[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": safe, "schema": schema, "strict": True}}


def _load_tools(path: str) -> list[Any]:
    tools = load_json(read_text(path, "--tools"), f"--tools {path}")
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise UsageError(f"--tools {path}: expected a JSON array of tool definitions")
    return tools
