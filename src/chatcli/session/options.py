"""The options model: everything a front end was given, as plain values, in one place.

``ask`` and ``chat`` (and every later front end) fill one ``AskRequest``; the
session layer turns it into settings, messages, request fields and tools.
Nothing here reads files or the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AskRequest:
    """Everything ``ask`` was given, as plain values."""

    prompt: list[str]
    flags: dict[str, Any]
    system: str | None = None
    template: str | None = None  # -T: the template applied (session.templates)
    params: list[tuple[str, str]] = field(default_factory=list)  # -p NAME VALUE
    template_prompt: str | None = None  # the template's prompt, variables filled
    save: str | None = None  # --save NAME: write the invocation as a template, send nothing
    force: bool = False  # --force: --save may replace a template of that name
    files: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    image_detail: str | None = None
    max_attachment_mb: float = 20
    max_context_kb: int = 512  # all -f content together: files, directories, pages, commands
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
    max_cost: float | None = None  # --max-cost USD: the most this call (or session) may cost
    notify: bool = False  # bell and notification when the answer is in
    dry_run: bool = False  # print the first request as it would be sent; send nothing
    copy: bool = False  # --copy: the answer (or its code, with -x) to the clipboard too
    editor: bool = False  # -e: the prompt written in $VISUAL/$EDITOR first
    extract: bool = False  # -x: only the answer's code goes to stdout (session.extract)
    extract_last: bool = False
    code: bool = False
    lang: str | None = None
    headers: list[str] = field(default_factory=list)
    trace_id: str | None = None
    verbose: bool = False
    history: bool = True
    continue_last: bool = False
    cid: str | None = None
    fork: bool = False  # --fork: -c/--cid go on in a copy of the conversation
    more: bool = False  # --more: continue the conversation's cut-off last answer
    name: str | None = None  # --name: the new conversation's name
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


def has_runnable_tools(request: AskRequest) -> bool:
    """Whether tools are given that chatcli can run (not only definitions to show)."""
    return bool(request.functions or request.tool_cmds or request.mcp or request.mcp_urls)
