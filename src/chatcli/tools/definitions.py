"""The shapes every tool module shares: a requested call, a runnable tool, cancellation.

Nothing here runs anything or reads files; ``functions.py`` and ``command.py``
make tools, ``runner.py`` runs them. Tool definitions stay the dicts the API
takes (``{"type": "function", "function": {...}}``), read through the helpers
below so both that shape and a bare legacy ``functions`` entry are understood.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chatcli.errors import UsageError

# The API's own rule for function names; a name outside it is rejected by the server.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolError(Exception):
    """A tool failed in a way it can describe itself; the message goes to the model as is."""


@dataclass(frozen=True)
class RequestedCall:
    """One tool call as the model asked for it; ``arguments`` is the raw JSON text."""

    id: str
    name: str
    arguments: str

    @classmethod
    def from_wire(cls, call: Mapping[str, Any], position: int = 0) -> RequestedCall:
        """From an assistant message's ``tool_calls`` entry (fields may be missing or null)."""
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        call_id = call.get("id")
        name = function.get("name")
        arguments = function.get("arguments")
        return cls(
            id=call_id if isinstance(call_id, str) and call_id else f"call_{position}",
            name=name if isinstance(name, str) else "",
            arguments=arguments if isinstance(arguments, str) else "",
        )


class Cancellation:
    """Lets the runner stop a tool that ran out of time.

    A tool that can be stopped (a child process) registers how; an in-process
    function cannot be, so its thread is abandoned instead. Cancelling twice, or
    registering after cancelling, still stops the tool exactly once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def on_cancel(self, stop: Callable[[], None]) -> None:
        with self._lock:
            if not self._cancelled:
                self._stops.append(stop)
                return
        stop()

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            stops, self._stops = self._stops, []
        for stop in stops:
            stop()


class Tool(Protocol):
    """Something that turns validated arguments into the result text for the model."""

    def run(self, arguments: dict[str, Any], cancellation: Cancellation) -> str:
        """Run once; raise ``ToolError`` (or anything) to report a failure."""


def check_tool_name(name: str, origin: str) -> str:
    """The name, if the API would accept it as a function name."""
    if not _NAME.match(name):
        raise UsageError(f"{origin}: tool name {name!r} must be 1-64 letters, digits, _ or -")
    return name


def function_of(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    """The function object of a tool definition, or the definition itself if it is bare."""
    function = definition.get("function")
    if isinstance(function, Mapping):
        return function
    return definition


def definition_name(definition: Mapping[str, Any]) -> str | None:
    name = function_of(definition).get("name")
    return name if isinstance(name, str) and name else None


def definition_parameters(definition: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The JSON Schema of the arguments, if the definition gives one."""
    parameters = function_of(definition).get("parameters")
    return parameters if isinstance(parameters, Mapping) else None
