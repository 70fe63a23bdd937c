"""``/continue``: go on with the last answer where it was cut off (the token limit, a
dropped connection, Ctrl-C), and keep the parts as one answer.

The request and the joining are ``session.continuation``'s; here the joined answer
takes the cut one's place in the session (and its pins), and the history keeps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.repl.registry import command

if TYPE_CHECKING:
    from chatcli.protocol.result import TurnResult
    from chatcli.repl.session import ChatSession
    from chatcli.session.continuation import CutAnswer


@command("continue", "", "continue the last answer where it was cut off; the parts are kept"
         " as one answer")
def continue_answer(session: ChatSession, arg: str) -> None:
    from chatcli.engine.turn import run_turn
    from chatcli.repl.exchange import MORE, answer_cost, answered, spent, unanswered
    from chatcli.session.context_fit import send_fitting
    from chatcli.session.continuation import INSTRUCTION, JoinRecord, opening_fence
    from chatcli.session.output import make_renderer, report_outcome

    if arg.strip():
        raise UsageError("usage: /continue")
    cut = session.cut
    if cut is None or not session.messages or session.messages[-1] is not cut.message:
        raise UsageError("/continue: the last answer was not cut off; there is nothing to"
                         " continue")
    body = session.body_with({"role": "user", "content": INSTRUCTION})
    if session.budget is not None:
        session.budget.check(body, session.client)
    content = cut.message.get("content")
    opening = opening_fence(content) if isinstance(content, str) else ""

    def keep(cut: CutAnswer, message: dict[str, Any], result: TurnResult,
             usage: dict[str, Any] | None, duration: float | None) -> None:
        _joined(session, cut, message, result, usage, duration)

    def send(fitted: dict[str, Any]) -> TurnResult:
        renderer = make_renderer(session.output, session.reasoning, session.env, choices=1,
                                 model=str(body.get("model", "")), opening=opening)
        return run_turn(session.client, fitted, renderer, recorder=JoinRecord(cut, keep),
                        trace_id=session.trace_id)

    if session.notifier is not None:
        session.notifier.reset()
    try:
        result = send_fitting(body, session.settings, session.context_policy,
                              client=session.client, send=send, warn=session.env.warn,
                              pinned=[*session.pinned, cut.message], size=session.message_size)
    finally:
        session.messages += unanswered(session.messages)  # calls it asked for are not run
    report_outcome(result, session.env, usage=session.show_usage, verbose=session.verbose,
                   cost=answer_cost(session, result), more=MORE)
    spent(session, result)
    answered(session, result)
    session.say_if_not_saved()


def _joined(session: ChatSession, cut: CutAnswer, message: dict[str, Any],
            result: TurnResult, usage: dict[str, Any] | None, duration: float | None) -> None:
    """The joined answer in the cut one's place: sent, counted, pinned and kept."""
    from chatcli.session.continuation import cut_answer

    session.messages = [message if m is cut.message else m for m in session.messages]
    session.pinned = [message if m is cut.message else m for m in session.pinned]
    session.replies = [(message, result.status, usage) if m is cut.message else (m, s, u)
                       for m, s, u in session.replies]
    choice = (result.completion.get("choices") or [{}])[0]
    session.cut = cut_answer(message, finish_reason=choice.get("finish_reason"),
                             status=result.status, usage=usage, duration=duration)
    if session.recorder is not None:
        session.recorder.record_joined(cut.message, message, result, usage, duration)
