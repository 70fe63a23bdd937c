"""How each family of endpoints spells "think before answering", as pure functions on bodies.

There is no standard switch: Qwen takes ``enable_thinking``, a gateway takes
``llmgw_thinking``, vLLM and llama.cpp take it inside ``chat_template_kwargs``,
GLM takes a ``thinking`` object and DeepSeek a ``/think`` directive in the prompt.
The server, where its ``GET /models`` names it, says more than the model's name: a
Qwen3 served by vLLM reads ``chat_template_kwargs``, not Qwen's own field. Nothing here
sends, prints or reads settings; ``reasoning_effort`` is a separate field and is never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

THINKING_STYLES: Final = (
    "enable_thinking",
    "llmgw_thinking",
    "chat_template_kwargs",
    "thinking_object",
    "directive",
)
DEFAULT_STYLE: Final = "enable_thinking"

# Model-name prefixes (lower case) and the style their vendors document; the first match wins.
_BY_MODEL: Final = (
    ("qwen3", "enable_thinking"),
    ("glm-", "thinking_object"),
    ("deepseek-v4-", "directive"),
)


# ``owned_by`` in a ``GET /models`` entry, as servers that render a chat template set it.
_BY_SERVER: Final = {"llamacpp": "chat_template_kwargs", "vllm": "chat_template_kwargs",
                     "sglang": "chat_template_kwargs"}


def thinking_style_for(model: str, configured: str | None = None) -> str:
    """The style a profile names, else the one the model's name implies, else Qwen's field."""
    if configured:
        if configured not in THINKING_STYLES:
            raise ValueError(f"unknown thinking style {configured!r}; "
                             f"expected one of {', '.join(THINKING_STYLES)}")
        return configured
    return model_style(model) or DEFAULT_STYLE


def model_style(model: str) -> str | None:
    """The style the model's vendor documents, when its name says who that is."""
    name = model.lower().rsplit("/", 1)[-1]  # "Qwen/Qwen3-8B" names the model after the slash
    for prefix, style in _BY_MODEL:
        if name.startswith(prefix):
            return style
    return None


def server_style(listing: Mapping[str, Any]) -> str | None:
    """The style of the server a ``GET /models`` answer comes from, when it names one."""
    data = listing.get("data")
    for entry in data if isinstance(data, list) else []:
        owner = entry.get("owned_by") if isinstance(entry, Mapping) else None
        if isinstance(owner, str) and owner.lower() in _BY_SERVER:
            return _BY_SERVER[owner.lower()]
    return None


def apply_thinking(body: Mapping[str, Any], on: bool, style: str | None) -> dict[str, Any]:
    """A copy of ``body`` asking for thinking ``on`` or off in ``style`` (None: from the model).

    The copy is deep so the caller's body (often recorded in the history) keeps its shape.
    """
    chosen = thinking_style_for(str(body.get("model", "")), style)
    result = copy.deepcopy(dict(body))
    if chosen in ("enable_thinking", "llmgw_thinking"):
        result[chosen] = on
    elif chosen == "chat_template_kwargs":
        existing = result.get("chat_template_kwargs")
        merged = dict(existing) if isinstance(existing, Mapping) else {}
        merged["enable_thinking"] = on
        result["chat_template_kwargs"] = merged
    elif chosen == "thinking_object":
        result["thinking"] = {"type": "enabled" if on else "disabled"}
    else:
        _append_directive(result, "/think" if on else "/no_think")
    return result


def _append_directive(body: dict[str, Any], directive: str) -> None:
    """Put the directive on its own line at the end of the last user message's text.

    Content given as parts gets it in the last text part, or in a new text part
    when the message is (say) only an image.
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            texts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
            if texts:
                texts[-1]["text"] = _with_line(str(texts[-1].get("text") or ""), directive)
            else:
                content.append({"type": "text", "text": directive})
        else:
            message["content"] = _with_line(str(content or ""), directive)
        return


def _with_line(text: str, line: str) -> str:
    if not text:
        return line
    return text + ("" if text.endswith("\n") else "\n") + line
