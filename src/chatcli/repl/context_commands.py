"""``/context``, ``/pin N``, ``/unpin N``, ``/context-policy`` and ``/compact``: what of
a long conversation is sent, and what fitting it into the window may leave out or
summarise.

Messages are numbered from 1 in the order they are sent; a pinned message (and the
turn it belongs to) is never left out. The fitting itself is ``session.context_fit``,
the summaries ``session.compaction``; a summary made here takes the place of what it
replaces in the session, and the history keeps both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.repl.registry import command

if TYPE_CHECKING:
    from chatcli.repl.session import ChatSession
    from chatcli.session.compaction import Compactor
    from chatcli.session.context_fit import WholeRecord


@command("context", "", "what would be sent: each message's size, what is pinned, the window")
def show_context(session: ChatSession, arg: str) -> None:
    from chatcli.session.context_fit import fit

    known = session.known()  # from the config and the cache: /context never waits
    window = known.context_window
    total = sum(session.message_size(m) for m in session.messages)
    kept = session.messages
    if window:
        from chatcli.session.context_fit import answer_room

        limit = window - answer_room(session.body(), window, known.max_output)
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


@command("context-policy", "[truncate|compact|error]",
         "over the window: leave out the oldest turns, summarise them, or refuse to send")
def context_policy(session: ChatSession, arg: str) -> None:
    if arg not in ("", "truncate", "compact", "error"):
        raise UsageError("usage: /context-policy truncate|compact|error")
    session.context_policy = arg or session.context_policy
    session.say(f"context policy: {session.context_policy}")


@command("compact", "[N]", "summarise the conversation now, but for its last N turns"
         " (default 1); the history keeps what the summary replaces")
def compact(session: ChatSession, arg: str) -> None:
    from chatcli.session.compaction import CompactFailed
    from chatcli.session.context_fit import SYSTEM_ROLES, turns

    text = arg.strip() or "1"
    if not text.isdigit():
        raise UsageError("usage: /compact [N], N the turns kept as they are (default 1)")
    groups = turns(session.messages)
    pinned = {id(m) for m in session.pinned}
    droppable = [g for g in groups[:len(groups) - int(text)]
                 if session.messages[g[0]].get("role") not in SYSTEM_ROLES
                 and not any(id(session.messages[i]) in pinned for i in g)]
    replaced = [session.messages[i] for g in droppable for i in g]
    if not droppable or (len(droppable) == 1 and _is_summary(replaced)):
        raise UsageError(f"nothing to compact before the last {text} turns (see /context)")
    before = sum(session.message_size(m) for m in session.messages)
    try:
        _compactor(session)(replaced)
    except CompactFailed as exc:
        raise UsageError(f"not compacted: {exc}") from None
    after = sum(session.message_size(m) for m in session.messages)
    turns_word = "turn" if len(droppable) == 1 else "turns"
    session.say(f"{len(droppable)} {turns_word} summarised: about {before} tokens are now about"
                f" {after} (the history keeps them all)")


def compactor_for(session: ChatSession, whole: WholeRecord) -> Compactor | None:
    """What writes the summaries of an exchange (None unless the policy is ``compact``):
    kept in the history once its request is."""
    return _compactor(session, whole) if session.context_policy == "compact" else None


def _compactor(session: ChatSession, whole: WholeRecord | None = None) -> Compactor:
    """A summary written here takes the place of what it replaces in the session, and is
    kept in the history beside it (``whole``: once the exchange's request is recorded)."""
    from chatcli.session.compaction import Compactor, compacted

    def kept(replaced: Sequence[Mapping[str, Any]], turn: list[dict[str, Any]], model: str,
             usage: Mapping[str, Any] | None) -> None:
        gone = {id(m) for m in replaced}
        session.summarised += [r for r in session.replies if id(r[0]) in gone]
        session.summarised.append(({}, "complete", usage))  # what the summary cost
        session.messages[:] = compacted(session.messages, replaced, turn)
        if session.recorder is not None:
            session.recorder.known -= len(replaced) - len(turn)
            if whole is not None:
                whole.summary_made(replaced, turn, model, usage)
            else:
                session.recorder.record_summary(replaced, turn, model=model, usage=usage)

    return Compactor(session.client, session.settings, session.model, kept=kept)


def _is_summary(messages: Sequence[Mapping[str, Any]]) -> bool:
    from chatcli.session.compaction import is_summary

    return any(is_summary(m) for m in messages)


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
