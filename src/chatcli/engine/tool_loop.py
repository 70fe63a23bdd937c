"""The tool loop: ask, run the tools the answer calls for, send back their results, ask again.

Each round is one ``run_turn`` with a fresh renderer. The assistant message
goes back exactly as received (``reasoning_content`` included: some servers
refuse tool results without the reasoning that led to them), then one ``tool``
message per call, in the calls' order. The loop ends at an answer that calls
no tool, or at the round limit, which the result reports. Nothing here prints:
outcomes go to ``on_outcome`` and the renderers do the showing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.engine.turn import Recorder, Renderer, run_turn
from chatcli.protocol.messages import Message, build_request
from chatcli.protocol.result import TurnResult
from chatcli.tools.approval import Approval
from chatcli.tools.runner import DEFAULT_TIMEOUT, ToolOutcome, run_tool_calls
from chatcli.tools.toolset import ToolSet

DEFAULT_MAX_ROUNDS = 10
DEFAULT_MAX_RESULT = 256 * 1024  # bytes of one tool result sent back (--max-tool-result-kb)
# Some local servers end a tool-calling answer with "stop"; "length" and
# "content_filter" mean the calls may be cut short, so they are not run.
_CALLING_FINISHES = {"tool_calls", "function_call", "stop", None}
RunCalls = Callable[[Sequence[Mapping[str, Any]], ToolSet, Approval, float], list[ToolOutcome]]


@dataclass
class LoopResult:
    """Every turn, the whole conversation (with the final answer) and every tool outcome."""

    turns: list[TurnResult]
    messages: list[dict[str, Any]]
    outcomes: list[ToolOutcome] = field(default_factory=list)
    notice: str | None = None  # why the loop stopped before the model was done

    @property
    def last(self) -> TurnResult:
        """The final turn: what ``report_outcome`` and ``--json`` describe."""
        return self.turns[-1]


def converse(
    client: ChatClient,
    settings: Settings,
    messages: Sequence[Mapping[str, Any]],
    fields: Mapping[str, Any],
    toolset: ToolSet,
    approval: Approval,
    *,
    make_renderer: Callable[[], Renderer],
    recorder: Recorder | None = None,
    on_outcome: Callable[[ToolOutcome], None] | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    timeout: float = DEFAULT_TIMEOUT,
    stream: bool = True,
    trace_id: str | None = None,
    run_calls: RunCalls = run_tool_calls,
    max_result_bytes: int = DEFAULT_MAX_RESULT,
    fit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> LoopResult:
    """Run turns until an answer calls no tool; ``max_rounds`` bounds the rounds of tool runs.

    ``fit`` gives each round's request as it goes out (fitted to the model's window);
    the recorder is still given the whole conversation.

    Without a runnable tool this is exactly one turn. Errors from a turn go up
    unchanged, after the renderer and recorder have seen the partial reply.
    """
    request_fields = toolset.request_fields(fields)
    legacy = "functions" in request_fields and "tools" not in request_fields
    conversation = [dict(message) for message in messages]
    result = LoopResult([], conversation)
    rounds = 0
    while True:
        body = build_request(settings, cast(Sequence[Message], conversation), request_fields,
                             stream=stream)
        sent = fit(body) if fit is not None else body
        keeper = recorder if sent is body or recorder is None else _Whole(
            recorder, cast(Sequence[Message], conversation))
        turn = run_turn(client, sent, make_renderer(), recorder=keeper, trace_id=trace_id)
        result.turns.append(turn)
        calls = calls_to_run(turn)
        if not calls or not toolset.runnable:
            conversation.append(turn.message)
            return result
        if rounds >= max_rounds:
            conversation.append(turn.message)
            names = ", ".join(_name(call) for call in calls)
            result.notice = (f"stopped after {max_rounds} rounds of tool calls; the model"
                             f" still asked for: {names} (not run)")
            return result
        rounds += 1
        outcomes = [capped(o, max_result_bytes) for o in run_calls(calls, toolset, approval,
                                                                  timeout)]
        old_style = legacy or _finish_reason(turn) == "function_call"
        conversation.extend(reply_messages(turn.message, outcomes, legacy=old_style))
        result.outcomes.extend(outcomes)
        for outcome in outcomes:
            if on_outcome is not None:
                on_outcome(outcome)


class _Whole:
    """Records the whole conversation while a fitted part of it is sent."""

    def __init__(self, recorder: Recorder, whole: Sequence[Message]) -> None:
        self.recorder, self.whole = recorder, whole

    def record_request(self, messages: Sequence[Message], body: Mapping[str, Any]) -> None:
        self.recorder.record_request(self.whole, body)

    def record_reply(self, result: TurnResult) -> None:
        self.recorder.record_reply(result)


def capped(outcome: ToolOutcome, limit: int) -> ToolOutcome:
    """The outcome with its content cut to ``limit`` UTF-8 bytes, and a line saying so: a tool
    that prints a gigabyte must not send it to the model (nor to the history)."""
    data = outcome.content.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return outcome
    kept = data[:limit].decode("utf-8", "ignore")
    marker = (f"\n[cut: the result had {len(data):,} bytes; the first {len(kept.encode()):,}"
              " are above]")
    return replace(outcome, content=kept + marker)


def calls_to_run(turn: TurnResult) -> list[dict[str, Any]]:
    """The tool calls of choice 0, if the answer ended by asking for them."""
    calls = turn.message.get("tool_calls") or []
    if _finish_reason(turn) not in _CALLING_FINISHES:
        return []
    return [call for call in calls if isinstance(call, dict)]


def reply_messages(assistant: Mapping[str, Any], outcomes: Sequence[ToolOutcome], *,
                   legacy: bool = False) -> list[dict[str, Any]]:
    """The assistant message as received, then one result message per outcome.

    Legacy ``functions`` requests get the call back as ``function_call`` and
    the result as a ``function`` message, the only shapes those servers know.
    """
    if not legacy:
        return [dict(assistant), *({"role": "tool", "tool_call_id": outcome.tool_call_id,
                                    "content": outcome.content} for outcome in outcomes)]
    message = {key: value for key, value in assistant.items() if key != "tool_calls"}
    first = (assistant.get("tool_calls") or [{}])[0].get("function") or {}
    message["function_call"] = {"name": first.get("name", ""),
                                "arguments": first.get("arguments", "")}
    return [message, *({"role": "function", "name": outcome.name, "content": outcome.content}
                       for outcome in outcomes)]


def _finish_reason(turn: TurnResult) -> str | None:
    reason = turn.completion["choices"][0].get("finish_reason")
    return reason if isinstance(reason, str) else None


def _name(call: Mapping[str, Any]) -> str:
    function = call.get("function")
    name = function.get("name") if isinstance(function, Mapping) else None
    return name if isinstance(name, str) and name else "?"
