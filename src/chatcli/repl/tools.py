"""Tools in the REPL: one exchange is the whole tool loop, and ``/tools`` lists what is loaded.

The loop is the one-shot command's (``cli.tool_use.run_with_tools``); one
``Approval`` lasts the session, so "always" answers hold until it ends.
Approval asks with a line prompt on the REPL's own terminal streams, between
prompt-toolkit's prompts and never inside one. Nothing here touches prompt-toolkit.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatcli.sanitize import visible
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.session.options import AskRequest
    from chatcli.tools import Approval, ToolSet
    from chatcli.tools.mcp import McpTools

NOT_RUN = "not run: the exchange ended before this tool call ran"


@dataclass
class ReplTools:
    """The session's tools, the approvals given so far, and the tool options."""

    request: AskRequest  # the tool flags merged with the profile's
    toolset: ToolSet
    approval: Approval
    mcp: McpTools | None = None  # servers to stop when the session ends

    def close(self) -> None:
        if self.mcp is not None:
            self.mcp.close()


def tools_for(request: AskRequest, settings: Settings, fields: dict[str, Any],
              env: Environment) -> ReplTools | None:
    """The tools the flags and the profile load, or None when none can run here.

    Takes the definitions out of ``fields``, as the one-shot command does; bad tool
    files and flags are usage errors before the REPL starts.
    """
    from chatcli.session.options import has_runnable_tools
    from chatcli.session.tooling import (
        approval_for,
        keep_keys_from_tools,
        load_mcp,
        merged_tool_options,
        toolset_for,
    )
    from chatcli.tools import ask_on_terminal

    request = merged_tool_options(request, settings)
    if not has_runnable_tools(request):
        return None
    keep_keys_from_tools(request, settings, env)
    mcp = load_mcp(request, env)
    try:
        toolset = toolset_for(request, fields, mcp)
    except BaseException:
        if mcp is not None:
            mcp.close()
        raise
    ask = (ask_on_terminal(env.stdin, env.stdout)
           if env.stdin is not None and env.stdin_is_terminal else None)
    return ReplTools(request, toolset, approval_for(request, ask), mcp)


def describe_tools(tools: ReplTools | None) -> str:
    """``/tools``: one line a tool, with its approval state, origin and description."""
    if tools is None or not tools.toolset.definitions:
        return ("no tools are loaded (--functions and --tool-cmd, or a profile's"
                " functions and tool_cmds, load them)")
    rows = [(visible(name), approval_state(tools, name), origin(tools.toolset, name),
             summary(tools.toolset, name)) for name in tools.toolset.names]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"  {n:<{widths[0]}}  {a:<{widths[1]}}  {o:<{widths[2]}}  {d}".rstrip()
                     for n, a, o, d in rows)


def approval_state(tools: ReplTools, name: str) -> str:
    """auto (``--yes``), always-approved (``--approve``, ``approve``, an "always"), or ask."""
    if name not in tools.toolset.tools:
        return "not-run-here"
    if tools.approval.approve_all:
        return "auto"
    return "always-approved" if name in tools.approval.approved else "ask"


def origin(toolset: ToolSet, name: str) -> str:
    """Where the tool runs from: a functions file, a command, or only a definition."""
    from chatcli.tools.command import CommandTool
    from chatcli.tools.functions import FunctionTool

    tool = toolset.tools.get(name)
    if isinstance(tool, FunctionTool):
        return f"function in {tool.function.__code__.co_filename}"
    if isinstance(tool, CommandTool):
        return f"command {visible(shlex.join(tool.argv))}"
    return "definition only"


def summary(toolset: ToolSet, name: str) -> str:
    """The first line of the tool's description."""
    from chatcli.tools.definitions import definition_name, function_of

    for definition in toolset.definitions:
        if definition_name(definition) == name:
            text = function_of(definition).get("description")
            lines = text.strip().splitlines() if isinstance(text, str) else []
            return visible(lines[0]) if lines else ""
    return ""
