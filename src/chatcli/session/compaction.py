"""The ``compact`` context policy: the turns that no longer fit, summarised by a model.

The summary goes out as one turn in their place: a user message that opens with
``SUMMARY_OPENING`` and an assistant message acknowledging it, so roles still
alternate for servers that insist. The summary is written by ``compact_model`` (an
alias works) or else the conversation's own model, with no tools, shown nowhere;
what it cost is kept with it. The history keeps the summarised messages as they
were and the summary beside them (``history.summaries``), so a resumed conversation
sends the summary, not the originals. When the summary cannot be had (an error, an
empty answer), the turns are left out instead, as ``truncate`` does, and a warning
says so: the question still goes out. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatcli.errors import ChatcliError

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.protocol.messages import Message

SUMMARY_OPENING = "[Summary of the earlier part of this conversation]\n\n"
SUMMARY_ACK = "Understood; I have the summary of our earlier conversation."
INSTRUCTIONS = (
    "You summarise the earlier part of a conversation between a user and an assistant so"
    " that it can go on without it. Keep every fact, decision, name, number, file, piece"
    " of code and open question the rest of the conversation may need; drop pleasantries"
    " and repetition. Write in the conversation's language, in plain prose or short"
    " bullets, at most about 400 words. Reply with the summary alone.")
PART_CHARS = 4000  # of one tool result or long message, in what the summariser reads

# (replaced messages, the summary turn, the model that wrote it, its usage)
Kept = Callable[[Sequence[Mapping[str, Any]], list[dict[str, Any]], str,
                 Mapping[str, Any] | None], None]


def is_summary(message: Mapping[str, Any]) -> bool:
    """Whether ``message`` is the user half of a summary turn."""
    content = message.get("content")
    return (message.get("role") == "user" and isinstance(content, str)
            and content.startswith(SUMMARY_OPENING))


def summary_turn(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": SUMMARY_OPENING + text.strip()},
            {"role": "assistant", "content": SUMMARY_ACK}]


def transcript(messages: Sequence[Mapping[str, Any]]) -> str:
    """The messages as the summariser reads them: one labelled paragraph each."""
    parts = []
    for message in messages:
        role = str(message.get("role", "?"))
        if is_summary(message):
            parts.append("Summary of what came before:\n" + _text(message)[len(SUMMARY_OPENING):])
            continue
        if role == "assistant" and _text(message) == SUMMARY_ACK:
            continue
        text = _text(message)
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, Mapping) else {}
            text += f"\n[called {function.get('name', '?')}({function.get('arguments', '')})]"
        if len(text) > PART_CHARS:
            text = text[:PART_CHARS] + " […]"
        parts.append(f"{role}: {text.strip()}")
    return "\n\n".join(parts)


class CompactFailed(ChatcliError):
    """The summary could not be had; the caller leaves the turns out instead."""


class Compactor:
    """Writes summaries with ``client``; ``kept`` is told of each one made."""

    def __init__(self, client: ChatClient, settings: Settings, model: str, *,
                 kept: Kept | None = None) -> None:
        chosen = settings.compact_model
        self.client, self.settings, self.kept = client, settings, kept
        self.model = settings.aliases.get(chosen, chosen) if chosen else model

    def __call__(self, messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The summary turn that stands for ``messages`` (raises ``CompactFailed``)."""
        from chatcli.engine.turn import Unseen, run_turn
        from chatcli.protocol.messages import build_request

        asked: list[Message] = [{"role": "system", "content": INSTRUCTIONS},
                                {"role": "user", "content": transcript(messages)}]
        body = build_request(self.settings, asked, {"model": self.model})
        try:
            result = run_turn(self.client, body, Unseen())
        except (ChatcliError, OSError) as exc:
            raise CompactFailed(f"the summary request to {self.model} failed ({exc})") from exc
        text = result.message.get("content")
        if result.status != "complete" or not isinstance(text, str) or not text.strip():
            raise CompactFailed(f"{self.model} sent no summary")
        turn = summary_turn(text)
        if self.kept is not None:
            self.kept(messages, turn, self.model, result.completion.get("usage"))
        return turn


def compacted(messages: Sequence[Any], replaced: Sequence[Any],
              turn: list[dict[str, Any]]) -> list[Any]:
    """``messages`` with ``turn`` where the first of ``replaced`` was, and none of them."""
    gone = {id(m) for m in replaced}
    first = next(i for i, m in enumerate(messages) if id(m) in gone)
    kept = [m for m in messages if id(m) not in gone]
    before = sum(1 for m in messages[:first] if id(m) not in gone)
    return [*kept[:before], *turn, *kept[before:]]


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", f"[{p.get('type', 'part')}]")) for p in content
                        if isinstance(p, Mapping))
    return str(content or "")
