"""``chatcli -c --more``: go on with the conversation's last answer where it was cut off.

Only the new part is shown (a script appending stdout to a file gets the whole
answer); the history keeps the parts as one answer (``session.continuation``).
Every problem with the request is a ``UsageError`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.protocol.messages import build_request
from chatcli.session.connect import client_for
from chatcli.session.continuation import (
    CutAnswer,
    JoinRecord,
    Keep,
    cut_answer,
    request_messages,
)
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.engine.turn import Renderer
    from chatcli.history import ConversationRecorder
    from chatcli.protocol.result import TurnResult
    from chatcli.session.conversation import Resumed

HINT = "To ask something new, leave out --more: chatcli -c PROMPT"


def refuse_more(request: AskRequest) -> None:
    """``--more`` continues an answer as it is: usage errors before any history is read."""
    if not request.more:
        return
    if not (request.continue_last or request.cid is not None):
        raise UsageError("--more needs -c or --cid: the conversation whose last answer to"
                         " continue", hint="Try: chatcli -c --more")
    given = [name for name, value in (
        ("prompt words", request.prompt), ("-f", request.files), ("-i", request.images),
        ("--audio", request.audio), ("--attach", request.attach),
        ("--file-id", request.file_ids), ("--video", request.videos),
        ("--clipboard", request.clipboard), ("--messages", request.messages),
        ("-s", request.system), ("-T", request.template), ("-e", request.editor),
        ("--code", request.code), ("--fork", request.fork)) if value]
    if given:
        raise UsageError(f"--more goes on with the last answer as it is: it takes no"
                         f" {', '.join(given)}", hint=HINT)
    if (request.n or 1) > 1:
        raise UsageError("--more continues one answer: -n must be 1")
    if request.functions or request.tool_cmds or request.mcp or request.mcp_urls:
        raise UsageError("--more continues an answer and runs no tools",
                         hint="Leave out --functions, --tool-cmd, --mcp and --mcp-url.")


def cut_of(resumed: Resumed) -> CutAnswer:
    """The conversation's last answer, if it is one that can be continued."""
    last = resumed.last
    which = f"conversation {resumed.conversation_id}"
    if last is None or last.message.get("role") != "assistant":
        raise UsageError(f"--more: {which} does not end in an answer", hint=HINT)
    cut = cut_answer(last.message, finish_reason=last.finish_reason, status=last.status,
                     usage=last.usage, duration=last.duration)
    if cut is None:
        ended = "asks for tools" if last.message.get("tool_calls") else "is complete"
        raise UsageError(f"--more: the last answer of {which} {ended}; there is nothing to"
                         " continue", hint=HINT)
    return cut


def continue_answer(request: AskRequest, env: Environment, settings: Settings,
                    fields: dict[str, Any], resumed: Resumed) -> None:
    """Send the request that continues the cut answer, show the new part, keep the whole."""
    from chatcli.session.budget import Budget
    from chatcli.session.continuation import opening_fence
    from chatcli.session.cost import budgets_wanted
    from chatcli.session.extract import extracting
    from chatcli.session.output import make_renderer

    cut = cut_of(resumed)
    body = build_request(settings, request_messages(resumed.messages), fields,
                         stream=request.stream)
    if request.dry_run:
        from chatcli.session.dry_run import show_request

        with client_for(env, settings, request) as client:
            show_request(client, body, env, request.trace_id)
        return
    recorder = resumed.recorder(settings)
    whole: list[dict[str, Any]] = []
    keep = _keeper(recorder, whole)
    extract = extracting(request)
    content = cut.message.get("content")
    opening = opening_fence(content) if isinstance(content, str) else ""
    budget = (Budget(settings, env, resumed.store, request.max_cost)
              if budgets_wanted(settings, request.max_cost) else None)
    cost = None
    try:
        with client_for(env, settings, request) as client:
            if budget is not None:
                budget.check(body, client)
            result = _sent(request, env, settings, client, body, cut, keep,
                           lambda: make_renderer(request.output, request.reasoning, env,
                                                 choices=1, model=str(body.get("model", "")),
                                                 extract=extract, opening=opening))
            if request.usage or budget is not None:
                from chatcli.session.cost import answer_cost

                cost = answer_cost(result.completion.get("usage"), settings,
                                   str(fields.get("model") or settings.model), client)
    finally:
        if recorder is not None and recorder.failed is not None:
            env.warn(f"the history was not saved: {recorder.failed.describe()}")
    from chatcli.session.answered import after_answer

    after_answer(result, request, env, cost=cost, budget=budget, more=more_hint(request),
                 whole=_with_message(result, whole[-1]) if whole else None)


def more_hint(request: AskRequest) -> str | None:
    """What the cut-off warning offers: the command that continues this answer."""
    if not request.history:
        return None
    if request.cid is not None and not request.fork:
        return f"`chatcli --cid {request.cid} --more` continues it"
    return "`chatcli -c --more` continues it"


def _sent(request: AskRequest, env: Environment, settings: Settings, client: ChatClient,
          body: dict[str, Any], cut: CutAnswer, keep: Keep,
          renderer: Callable[[], Renderer]) -> TurnResult:
    """Send, fitted to the window with the cut answer always in what is sent."""
    from chatcli.engine.turn import run_turn
    from chatcli.session.context_fit import send_fitting

    def send(fitted: dict[str, Any]) -> TurnResult:
        return run_turn(client, fitted, renderer(), trace_id=request.trace_id,
                        recorder=JoinRecord(cut, keep))

    # No summary is made here (under "compact" the oldest turns are left out instead).
    return send_fitting(body, settings, settings.context, client=client, send=send,
                        warn=env.warn, pinned=[cut.message])


def _keeper(recorder: ConversationRecorder | None, whole: list[dict[str, Any]]) -> Keep:
    """What keeps the joined answer: in ``whole`` (for ``-x``), and in the history."""
    def keep(cut: CutAnswer, message: dict[str, Any], result: TurnResult,
             usage: dict[str, Any] | None, duration: float | None) -> None:
        whole.append(message)
        if recorder is not None:
            recorder.record_joined(cut.message, message, result, usage, duration)
    return keep


def _with_message(result: TurnResult, message: dict[str, Any]) -> TurnResult:
    choices = list(result.completion.get("choices") or [{}])
    choices[0] = {**choices[0], "message": message}
    return replace(result, completion={**result.completion, "choices": choices})
