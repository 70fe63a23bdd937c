"""Runs the model's tool calls: check each, ask about it, then run the approved ones at once.

Every way a call can go wrong (an unknown tool, arguments that are not JSON or
do not fit the schema, a refusal, an exception, a timeout) becomes an outcome
whose text goes back to the model so it can correct itself: a bad call never
raises here. Approval is asked call by call, in order, before anything runs,
so prompts never interleave with tool output. Approved calls run concurrently
in daemon threads, each with its own timeout; outcomes keep the calls' order.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from chatcli.tools.approval import Approval
from chatcli.tools.definitions import Cancellation, RequestedCall, Tool, ToolError
from chatcli.tools.toolset import ToolSet
from chatcli.tools.validation import schema_problems

DEFAULT_TIMEOUT = 60.0
Status = Literal["ok", "error", "refused", "timeout"]
Clock = Callable[[], float]


@dataclass(frozen=True)
class ToolOutcome:
    """One call's result: ``content`` is what the model reads (the error text on failure)."""

    tool_call_id: str
    name: str
    arguments: str
    content: str
    status: Status
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_tool_calls(
    calls: Sequence[Mapping[str, Any]],
    toolset: ToolSet,
    approval: Approval,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    clock: Clock = time.monotonic,
) -> list[ToolOutcome]:
    """Outcomes for an assistant message's ``tool_calls``, in the same order.

    A tool still running at its timeout is cancelled (a command is killed, a
    function's thread is abandoned) and reported as timed out.
    """
    prepared = [_prepare(RequestedCall.from_wire(call, position), toolset, approval)
                for position, call in enumerate(calls)]
    jobs = [item for item in prepared if isinstance(item, _Job)]
    try:
        for job in jobs:
            job.start(clock)
        return [item if isinstance(item, ToolOutcome) else item.collect(timeout, clock)
                for item in prepared]
    finally:  # on Ctrl-C, leave no child process behind
        for job in jobs:
            if not job.done.is_set():
                job.cancellation.cancel()


def _prepare(call: RequestedCall, toolset: ToolSet, approval: Approval) -> ToolOutcome | _Job:
    tool = toolset.tools.get(call.name)
    if tool is None:
        return _failed(call, "error", _unknown_tool(call.name, toolset))
    schema = toolset.parameters(call.name)
    problem, arguments = check_arguments(call.arguments, schema)
    if problem:
        return _failed(call, "error", problem)
    verdict = approval.review(call)
    if not verdict.approved:
        return _failed(call, "refused", verdict.refusal)
    if verdict.arguments != call.arguments:  # edited by the user: check again
        call = replace(call, arguments=verdict.arguments)
        problem, arguments = check_arguments(call.arguments, schema)
        if problem:
            return _failed(call, "error", problem)
    return _Job(call, tool, arguments)


def check_arguments(raw: str, schema: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The arguments as a dict, or the error text for the model (and an empty dict)."""
    text = raw.strip()
    if not text or text == "null":
        return "", {}  # fixture tool_args_variants.sse: no arguments sent as null or ""
    try:
        value = json.loads(text)
    except RecursionError:
        return "error: the arguments are nested too deeply", {}
    except ValueError as exc:
        return f"error: the arguments are not valid JSON ({exc}): {_excerpt(text)}", {}
    if not isinstance(value, dict):
        return "error: the arguments must be a JSON object", {}
    problems = schema_problems(value, schema) if schema is not None else []
    if problems:
        return "error: the arguments do not fit the tool's schema: " + "; ".join(problems), {}
    return "", value


def _unknown_tool(name: str, toolset: ToolSet) -> str:
    if name in toolset.names:
        return f"error: the tool {name!r} is defined, but nothing here can run it"
    available = ", ".join(sorted(toolset.tools)) or "none"
    return f"error: there is no tool named {name!r}; the tools are: {available}"


def _failed(call: RequestedCall, status: Status, content: str) -> ToolOutcome:
    return ToolOutcome(call.id, call.name, call.arguments, content, status)


def _excerpt(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` (or the message alone for a ``ToolError``), as the model sees it."""
    if isinstance(exc, ToolError):
        return f"error: {exc}"
    detail = str(exc)
    return f"error: {type(exc).__name__}: {detail}" if detail else f"error: {type(exc).__name__}"


class _Job:
    """One approved call running in its own thread."""

    def __init__(self, call: RequestedCall, tool: Tool, arguments: dict[str, Any]) -> None:
        self.call = call
        self.tool = tool
        self.arguments = arguments
        self.cancellation = Cancellation()
        self.done = threading.Event()
        self.status: Status = "error"
        self.content = ""
        self.started = 0.0
        self.duration = 0.0

    def start(self, clock: Clock) -> None:
        self.started = clock()
        worker = threading.Thread(target=self._work, args=(clock,), daemon=True,
                                  name=f"tool {self.call.name}")
        worker.start()

    def _work(self, clock: Clock) -> None:
        try:
            self.content = self.tool.run(self.arguments, self.cancellation)
            self.status = "ok"
        except BaseException as exc:  # whatever a tool raises is the model's to read
            self.content = describe_exception(exc)
        finally:
            self.duration = clock() - self.started
            self.done.set()

    def collect(self, timeout: float, clock: Clock) -> ToolOutcome:
        call = self.call
        if not self.done.wait(max(self.started + timeout - clock(), 0.0)):
            self.cancellation.cancel()
            return ToolOutcome(call.id, call.name, call.arguments,
                               f"error: timed out after {timeout:g} s", "timeout",
                               clock() - self.started)
        return ToolOutcome(call.id, call.name, call.arguments, self.content, self.status,
                           self.duration)
