"""What a message line does: the secret check, then one exchange (with tools, the tool loop),
and the conversation made what the history keeps.

A reply cut short (an error, Ctrl-C) still joins the conversation as the history keeps
it; tool calls left without a result get a "not run" one, so the next request is one
the server accepts. Slash commands are ``commands``; nothing here reads keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chatcli.config import Settings
from chatcli.dotted import without
from chatcli.engine.turn import run_turn
from chatcli.errors import ChatcliError, UsageError
from chatcli.protocol.messages import REPLY_KEYS, Message, user_message
from chatcli.protocol.result import TurnResult
from chatcli.repl.session import ChatSession
from chatcli.repl.tools import NOT_RUN, ReplTools
from chatcli.session.connect import refuse_unsupported
from chatcli.session.continuation import of_result
from chatcli.session.outgoing import Piece, check
from chatcli.session.output import make_renderer, report_outcome, save_audio

if TYPE_CHECKING:
    from chatcli.session.cost import Cost

MORE = "/continue continues it"


def send(session: ChatSession, text: str) -> None:
    """Send ``text`` and what is queued (piped text, /attach, /image) as a user message,
    once the secret check lets it go; held back, the line returns to the prompt."""
    message_text = text
    if session.template_prompt is not None:  # the template's prompt takes the message in
        from chatcli.session.templates import with_input

        message_text = with_input(session.template_prompt, text)
    try:
        pieces, note = check([Piece("the message", message_text), *session.queued_text],
                             session.secrets)
    except UsageError:
        session.pending_input = text  # nothing typed is lost; the attachments stay queued
        raise
    if note:
        session.env.warn(note)
    message = user_message("\n\n".join(p.render() for p in pieces if p.text),
                           session.queued_parts)
    try:
        refuse_unsupported(session.client, [message], session.model)  # before anything is sent
    except UsageError as refused:
        session.pending_input, session.queued_parts = text, []  # the typed line comes back
        raise UsageError(f"{refused}; the queued attachments were dropped") from None
    if session.budget is not None:
        try:
            session.budget.check(session.body_with(message), session.client)
        except ChatcliError:
            session.pending_input = text  # not sent: the line and the queue wait
            raise
    session.queued_text, session.queued_parts = [], []
    if session.recorder is not None and session.queued_sources:
        session.recorder.sources = session.queued_sources  # kept with this message
    session.queued_sources = []
    editing, session.editing = session.editing, None
    if editing is not None:  # /edit N: this message takes N's place, in a new branch
        from chatcli.repl.branch_commands import start_branch

        try:
            start_branch(session, editing)
        except UsageError:
            session.pending_input = text
            raise
    exchange(session, message)


def exchange(session: ChatSession, message: Message) -> None:
    """One turn (with tools, the whole tool loop). The reply, even cut short, joins the
    conversation as the history keeps it."""
    if session.notifier is not None:
        session.notifier.reset()
    if session.tools is not None:
        exchange_with_tools(session, session.tools, message)
        return
    from chatcli.repl.context_commands import compactor_for
    from chatcli.session.context_fit import WholeRecord, send_fitting

    session.messages.append(message)
    body = session.body()
    keep = session.recorder.record_summary if session.recorder is not None else None
    whole = WholeRecord(session, session.messages, keep)  # what is sent may be fitted: all kept

    def send_body(fitted: dict[str, Any]) -> TurnResult:
        renderer = make_renderer(session.output, session.reasoning, session.env,
                                 choices=int(body.get("n") or 1),
                                 model=str(body.get("model", "")))
        return run_turn(session.client, fitted, renderer, recorder=whole,
                        trace_id=session.trace_id)

    session.last_reply, session.turns = None, []
    try:
        result = send_fitting(body, session.settings, session.context_policy,
                              client=session.client, send=send_body, warn=session.env.warn,
                              pinned=session.pinned, size=session.message_size,
                              compact=compactor_for(session, whole))
    finally:
        reply = session.last_reply
        if reply is not None and any(reply.message.get(k) for k in REPLY_KEYS):
            session.messages.append(reply.message)
            session.replies.append((reply.message, reply.status,
                                 reply.completion.get("usage")))
        elif reply is not None and reply.status != "complete":
            session.messages.pop()  # no answer came: it is not sent again (history keeps it)
    session.cut = of_result(reply, reply.message) if reply is not None and (
        session.messages and session.messages[-1] is reply.message) else None
    report_outcome(result, session.env, usage=session.show_usage, verbose=session.verbose,
                   cost=answer_cost(session, result), more=MORE)
    spent(session, result)
    answered(session, result)
    if session.audio_out:
        save_audio(result, session.audio_out, session.env)
    session.say_if_not_saved()


def exchange_with_tools(session: ChatSession, tools: ReplTools, message: Message) -> None:
    """One exchange as the tool loop: every round rendered, recorded and kept here.

    Cut short (an error, Ctrl-C in a round or a tool run), the conversation keeps what
    the history keeps; calls left without a result get a "not run" one, so the next
    request is still one the server accepts.
    """
    from chatcli.session.tooling import run_with_tools

    session.messages.append(message)
    request = replace(tools.request, output=session.output, reasoning=session.reasoning,
                      stream=session.stream, trace_id=session.trace_id)
    settings = replace(without_removed(session.settings, session.removed),
                       context=session.context_policy)
    session.sent, session.turns = None, []
    try:
        loop = run_with_tools(request, session.env, session.client, settings,
                              list(session.messages), dict(session.fields), tools.toolset,
                              session, approval=tools.approval, pinned=session.pinned)
    finally:
        settle(session)
    last = session.messages[-1] if session.messages else None
    session.cut = of_result(loop.last, last) if last is loop.last.message else None
    report_outcome(loop.last, session.env, usage=session.show_usage, verbose=session.verbose,
                   cost=answer_cost(session, loop.last), more=MORE)
    spent(session, loop.last)
    answered(session, loop.last)
    if session.audio_out:
        save_audio(loop.last, session.audio_out, session.env)
    session.say_if_not_saved()


def answer_cost(session: ChatSession, result: TurnResult) -> Cost | None:
    """With ``-u``, what the answer cost (the endpoint asked for prices, once a day)."""
    if not session.show_usage:
        return None
    from chatcli.session.cost import cost_of

    return cost_of(result.completion.get("usage"), session.known(ask=True).facts)


def spent(session: ChatSession, result: TurnResult) -> None:
    """What the answer cost, counted against the budgets (a passed one is said)."""
    if session.budget is None:
        return
    from chatcli.session.cost import cost_of

    cost = cost_of(result.completion.get("usage"), session.known(ask=True).facts)
    session.budget.after(cost.total if cost is not None else None)


def settle(session: ChatSession) -> None:
    """Make the conversation what was sent last, then the last reply, as the history has it."""
    if session.sent is None:
        return  # nothing went out: the user message waits, as in a plain exchange
    # The loop sent copies: the messages already here stay the ones kept (and counted).
    messages: list[Any] = [old if old == new else new for old, new in
                           zip(session.messages, session.sent, strict=False)]
    messages += list(session.sent[len(messages):])
    last = session.turns[-1] if session.turns else None
    if last is not None and any(last.message.get(k) for k in REPLY_KEYS):
        messages.append(last.message)
    elif (last is not None and last.status != "complete" and messages
          and messages[-1].get("role") == "user"):
        messages.pop()  # no answer came: it is not sent again (history keeps it)
    for turn in session.turns:  # the copies the loop sent back stand for each round's reply
        kept = next((m for m in messages if m == turn.message), None)
        if kept is not None:
            session.replies.append((kept, turn.status, turn.completion.get("usage")))
    session.messages = messages + unanswered(messages)
    session.sent, session.turns = None, []


def unanswered(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A "not run" result for each call of the last message, if it asks for tools."""
    last = messages[-1] if messages else {}
    if last.get("role") != "assistant" or not last.get("tool_calls"):
        return []
    return [{"role": "tool", "tool_call_id": str(call.get("id", "")), "content": NOT_RUN}
            for call in last["tool_calls"] if isinstance(call, Mapping)]


def without_removed(settings: Settings, removed: Sequence[Sequence[str]]) -> Settings:
    """The settings without the profile's params that ``/unset`` took out."""
    params, extra = dict(settings.params), dict(settings.extra_body)
    for path in removed:
        params, extra = without(params, path), without(extra, path)
    return replace(settings, params=params, extra_body=extra)


def answered(session: ChatSession, result: TurnResult) -> None:
    """The bell, when the answer took long enough to ask for it (``--notify``)."""
    if session.notifier is not None:
        session.notifier.arrived(str(result.message.get("content") or ""))
