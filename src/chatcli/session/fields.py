"""Request fields from the options: sampling flags, response formats, tools, spoken output,
web search, predicted output and metadata, then ``-o`` items over them.

Files the flags name (``--schema``, ``--tools``, ``--prediction``) are read here; a
problem with any of them is a ``UsageError`` before anything is sent.
"""

from __future__ import annotations

from typing import Any

from chatcli.errors import UsageError
from chatcli.protocol.messages import load_json, options_to_fields
from chatcli.session.inputs import read_text
from chatcli.session.options import AskRequest


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
    from chatcli.dotted import deep_merge

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
