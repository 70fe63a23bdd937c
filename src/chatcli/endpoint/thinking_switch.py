"""``--thinking``/``--no-thinking`` in the dialect of the endpoint at hand.

A profile's ``thinking_style`` wins. Otherwise the server is asked once, with
``GET /models`` (llama.cpp, vLLM and SGLang name themselves in ``owned_by``), then
the model's name decides (Qwen3, GLM, DeepSeek). When neither knows, the switch
goes out as Qwen's field, with one note that it may change nothing and which
``thinking_style`` to set. It never prints: the note goes to the callback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chatcli.errors import ProtocolError, RateLimited, RequestRejected, ServerError
from chatcli.protocol.dialects import (
    DEFAULT_STYLE,
    THINKING_STYLES,
    apply_thinking,
    model_style,
    server_style,
    thinking_style_for,
)

Listing = Callable[[], Mapping[str, Any]]


class ThinkingSwitch:
    """Adds the switch to each body; the server's dialect is looked up at most once."""

    def __init__(self, on: bool, configured: str | None, listing: Listing,
                 note: Callable[[str], None] | None = None) -> None:
        self.on, self.configured = on, configured
        self._listing, self._note = listing, note
        self._server: str | None = None
        self._asked = self._noted = False

    def apply(self, body: Mapping[str, Any], *, ask_server: bool = True) -> dict[str, Any]:
        style = self.style(str(body.get("model", "")), ask_server=ask_server)
        return apply_thinking(body, self.on, style)

    def would_ask(self) -> bool:
        """Whether a real request would first ask the server (no style is configured)."""
        return not self.configured and not self._asked

    def style(self, model: str, *, ask_server: bool = True) -> str:
        if self.configured:
            return thinking_style_for(model, self.configured)
        if not ask_server and not self._asked:
            return model_style(model) or DEFAULT_STYLE  # a dry run sends nothing
        if not self._asked:
            self._asked = True
            try:
                self._server = server_style(self._listing())
            except (RequestRejected, ServerError, RateLimited, ProtocolError):
                self._server = None  # it answered, but not with a list: nothing learnt
        chosen = self._server or model_style(model)
        if chosen is not None:
            return chosen
        if not self._noted and self._note is not None:
            self._noted = True
            switch = "--thinking" if self.on else "--no-thinking"
            self._note(f"{switch} has no known effect on this endpoint: it was sent as"
                       f" {DEFAULT_STYLE}; if the answer is unchanged, set thinking_style"
                       f" in the profile ({', '.join(THINKING_STYLES)};"
                       " chat_template_kwargs for llama.cpp, vLLM and SGLang)")
        return DEFAULT_STYLE
