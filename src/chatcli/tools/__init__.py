"""Tools the model can call: how they are defined, approved and run.

    definitions.py  a requested call, the ``Tool`` protocol, cancellation
    functions.py    a file's public Python functions as tools (schema from hints)
    command.py      ``NAME=COMMAND`` tools: arguments on stdin, result from stdout
    toolset.py      ``ToolSet`` (definitions for the request, runners by name)
    validation.py   a small JSON Schema check of the arguments
    approval.py     ``--yes`` / ``--approve`` / asking the user, and the terminal prompt
    runner.py       ``run_tool_calls``: check, approve, run concurrently, time out

Nothing here prints or reads the environment: the terminal prompt writes to
the streams it is given, and outcomes are values for the caller to show.
The loop that sends results back to the model is ``chatcli.engine.tool_loop``.
"""

from __future__ import annotations

from chatcli.tools.approval import ALWAYS, NO, YES, Approval, Ask, Decision, ask_on_terminal, edit
from chatcli.tools.definitions import Cancellation, RequestedCall, Tool, ToolError
from chatcli.tools.runner import DEFAULT_TIMEOUT, ToolOutcome, run_tool_calls
from chatcli.tools.toolset import ToolSet, build_toolset

__all__ = [
    "ALWAYS",
    "DEFAULT_TIMEOUT",
    "NO",
    "YES",
    "Approval",
    "Ask",
    "Cancellation",
    "Decision",
    "RequestedCall",
    "Tool",
    "ToolError",
    "ToolOutcome",
    "ToolSet",
    "ask_on_terminal",
    "build_toolset",
    "edit",
    "run_tool_calls",
]
