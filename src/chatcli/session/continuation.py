"""Going on with an answer that was cut off (``chatcli -c --more``, ``/continue``).

An answer stopped at the token limit (``finish_reason: length``), or cut short by a
dropped connection or Ctrl-C, can be continued: the model is sent the conversation
and one instruction to go on where it stopped. The instruction is never kept; what
comes back is joined to the cut answer, and the history keeps the two as one answer
(their usage and time added up), so the next request sends it whole. Shared by the
one-shot command and the REPL; nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatcli.protocol.result import TurnResult

INSTRUCTION = ("Your last answer was cut off. Continue it exactly where it stopped, in the"
               " middle of a word or a code block if that is where it ended: do not repeat"
               " anything, do not start again, and add no preface.")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_OVERLAP = 400  # the most of the cut answer's end a continuation may repeat, and lose


@dataclass(frozen=True)
class CutAnswer:
    """An answer that can be continued, and what it has cost so far."""

    message: dict[str, Any]
    usage: Mapping[str, Any] | None
    duration: float | None
    why: str  # "the token limit", "a dropped connection", "an interruption"


def cut_answer(message: Any, *, finish_reason: str | None, status: str,
               usage: Mapping[str, Any] | None, duration: float | None) -> CutAnswer | None:
    """``message`` as an answer to continue; None if it is not an answer that was cut."""
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return None
    if message.get("tool_calls"):
        return None  # it asked for tools: it ended, with a question
    if finish_reason == "length":
        why = "the token limit"
    elif status == "interrupted":
        why = "an interruption"
    elif status != "complete":
        why = "a dropped connection"
    else:
        return None
    return CutAnswer(message, usage, duration, why)


def of_result(result: TurnResult, message: Any) -> CutAnswer | None:
    """The answer just received (``message``, as kept), if it can be continued."""
    choices = result.completion.get("choices") or [{}]
    return cut_answer(message, finish_reason=choices[0].get("finish_reason"),
                      status=result.status, usage=result.completion.get("usage"),
                      duration=result.duration)


def request_messages(messages: Sequence[Any]) -> list[Any]:
    """What is sent to continue the last answer: the conversation and the instruction."""
    return [*messages, {"role": "user", "content": INSTRUCTION}]


def opening_fence(text: str) -> str:
    """The fence line of the code block ``text`` ends inside ("" if none), so that what
    follows is shown as the rest of that block."""
    opened, size = "", 0
    for line in text.splitlines():
        found = _FENCE.match(line)
        if found is None:
            continue
        fence, rest = found.group(1), found.group(2)
        if not opened and not (fence[0] == "`" and "`" in rest):
            opened, size = line.strip(), len(fence)
        elif opened and fence[0] == opened[0] and len(fence) >= size and not rest.strip():
            opened, size = "", 0
    return opened + "\n" if opened else ""


def joined_text(first: str, more: str) -> str:
    """``more`` after ``first``, without the stretch of ``first``'s end it repeats."""
    if not first or not more:
        return first + more
    tail = first[-_OVERLAP:]
    for size in range(min(len(tail), len(more)), 15, -1):
        if more.startswith(tail[-size:]):
            return first + more[size:]
    return first + more


def joined(cut: CutAnswer, result: TurnResult) -> tuple[dict[str, Any], dict[str, Any] | None,
                                                         float | None]:
    """The one answer the two parts make, with their usage and time added up."""
    more = result.message
    message = dict(cut.message)
    for key in ("content", "reasoning_content"):
        first, added = cut.message.get(key), more.get(key)
        if isinstance(added, str) and added:
            message[key] = joined_text(first if isinstance(first, str) else "", added)
    if more.get("tool_calls"):
        message["tool_calls"] = list(more["tool_calls"])
    usage = added_up(cut.usage, result.completion.get("usage"))
    duration = None if cut.duration is None else cut.duration + result.duration
    return message, usage, duration


def added_up(first: Any, second: Any) -> dict[str, Any] | None:
    """Two usage objects as one: each count the sum of both (nested ones too)."""
    if not isinstance(first, Mapping):
        return dict(second) if isinstance(second, Mapping) else None
    if not isinstance(second, Mapping):
        return dict(first)
    total: dict[str, Any] = {}
    for key in [*first, *(k for k in second if k not in first)]:
        a, b = first.get(key), second.get(key)
        if isinstance(a, Mapping) or isinstance(b, Mapping):
            total[key] = added_up(a, b)
        elif isinstance(a, int | float) and isinstance(b, int | float) and _count(a) and (
                _count(b)):
            total[key] = a + b
        else:
            total[key] = a if b is None else b
    return total


def _count(value: Any) -> bool:
    return type(value) in (int, float)


Keep = Callable[[CutAnswer, dict[str, Any], TurnResult, "dict[str, Any] | None",
                 "float | None"], None]


class JoinRecord:
    """What ``run_turn`` records while continuing: nothing of the request (the instruction
    is not kept), and the reply joined to the cut answer, through ``keep``."""

    def __init__(self, cut: CutAnswer, keep: Keep) -> None:
        self.cut, self.keep = cut, keep

    def record_request(self, messages: Sequence[Any], body: Mapping[str, Any]) -> None:
        pass

    def record_reply(self, result: TurnResult) -> None:
        if any(result.message.get(k) for k in ("content", "reasoning_content", "tool_calls")):
            message, usage, duration = joined(self.cut, result)
            self.keep(self.cut, message, result, usage, duration)
