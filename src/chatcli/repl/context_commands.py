"""``/context``, ``/pin N``, ``/unpin N`` and ``/context-policy``: what of a long
conversation is sent, and what fitting it into the window may leave out.

Messages are numbered from 1 in the order they are sent; a pinned message (and the
turn it belongs to) is never left out. The fitting itself is ``session.context_fit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.repl.registry import command

if TYPE_CHECKING:
    from chatcli.repl.session import ChatSession


@command("context", "", "what would be sent: each message's size, what is pinned, the window")
def show_context(session: ChatSession, arg: str) -> None:
    from chatcli.session.context_fit import fit

    known = session.known()
    window = known.context_window
    total = sum(session.message_size(m) for m in session.messages)
    kept = session.messages
    if window:
        from chatcli.session.token_estimate import output_reserve

        limit = window - output_reserve(session.body(), known.max_output)
        kept = fit(session.messages, limit, pinned=session.pinned,
                   size=session.message_size)[0] if total > limit else session.messages
    sent = {id(m) for m in kept}
    lines = []
    for number, message in enumerate(session.messages, start=1):
        marks = ("  pinned" if any(message is p for p in session.pinned) else "") + (
            "" if id(message) in sent else "  (left out)")
        lines.append(f"{number:>3}  {message.get('role', '?')!s:<9}"
                     f" {session.message_size(message):>7} tokens{marks}  "
                     f"{_preview(message)}")
    room = f" of a {window}-token window" if window else " (the window is not known)"
    lines.append(f"about {total} tokens{room}; policy {session.context_policy}")
    session.say("\n".join(lines) if session.messages else f"(nothing yet){room}")


@command("pin", "N", "never leave message N out when fitting the window")
def pin(session: ChatSession, arg: str) -> None:
    message = _numbered(session, arg, "/pin N")
    if not any(message is p for p in session.pinned):
        session.pinned.append(message)
    session.say(f"pinned message {arg.strip()}")


@command("unpin", "N", "let message N be left out again")
def unpin(session: ChatSession, arg: str) -> None:
    message = _numbered(session, arg, "/unpin N")
    session.pinned[:] = [p for p in session.pinned if p is not message]
    session.say(f"unpinned message {arg.strip()}")


@command("context-policy", "[truncate|error]",
         "over the window: leave out the oldest turns, or refuse to send")
def context_policy(session: ChatSession, arg: str) -> None:
    if arg not in ("", "truncate", "error"):
        raise UsageError("usage: /context-policy truncate|error")
    session.context_policy = arg or session.context_policy
    session.say(f"context policy: {session.context_policy}")


def _numbered(session: ChatSession, arg: str, usage: str) -> Any:
    text = arg.strip()
    if not text.isdigit() or not 1 <= int(text) <= len(session.messages):
        raise UsageError(f"usage: {usage}, N from 1 to {len(session.messages)} (see /context)")
    return session.messages[int(text) - 1]


def _preview(message: Any) -> str:
    """The message's first words, on one line."""
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(str(p.get("text", f"[{p.get('type')}]")) for p in content
                           if isinstance(p, dict))
    if not content and message.get("tool_calls"):
        content = "[tool calls]"
    text = " ".join(str(content or "").split())
    return text if len(text) <= 50 else text[:49] + "…"
