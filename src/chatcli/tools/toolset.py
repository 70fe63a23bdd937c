"""The tools of one session: their definitions for the request, and what runs each one.

A definition may come without a runner (``--tools`` alone describes tools the
caller handles); ``runnable`` tells whether this process can answer any call.
Every problem with the files and flags that make the set is a ``UsageError``,
raised before any request is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatcli.errors import UsageError
from chatcli.tools.definitions import (
    Tool,
    definition_name,
    definition_parameters,
    function_of,
)


@dataclass
class ToolSet:
    """Definitions in the order they are sent, and the tools that can run, by name."""

    definitions: list[dict[str, Any]] = field(default_factory=list)
    tools: dict[str, Tool] = field(default_factory=dict)

    @property
    def runnable(self) -> bool:
        """Some tool can run here, so a tool call can be answered without the user."""
        return bool(self.tools)

    @property
    def names(self) -> list[str]:
        return [name for d in self.definitions if (name := definition_name(d)) is not None]

    def add(self, definition: Mapping[str, Any], tool: Tool | None = None, *,
            origin: str = "tools") -> None:
        """One more definition, with the tool that runs it if there is one."""
        name = definition_name(definition)
        if name is None:
            raise UsageError(f"{origin}: a tool definition has no function name")
        if name in self.names:
            raise UsageError(f"{origin}: the tool {name!r} is defined twice")
        self.definitions.append(dict(definition))
        if tool is not None:
            self.tools[name] = tool

    def set_runner(self, name: str, tool: Tool, *, origin: str) -> None:
        """Give a tool that is already defined something to run it."""
        if name not in self.names:
            raise UsageError(f"{origin}: the tool {name!r} has no definition; describe its"
                             " parameters in the tools file (--tools)")
        if name in self.tools:
            raise UsageError(f"{origin}: the tool {name!r} already has something to run it")
        self.tools[name] = tool

    def parameters(self, name: str) -> Mapping[str, Any] | None:
        """The JSON Schema of the tool's arguments, if its definition gives one."""
        for definition in self.definitions:
            if definition_name(definition) == name:
                return definition_parameters(definition)
        return None

    def request_fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The request fields with every definition added once, by name.

        A request that already uses the legacy ``functions`` field (and no
        ``tools``) gets the definitions there, as bare function objects, since
        servers reject a mix of the two.
        """
        merged = dict(fields)
        if not self.definitions:
            return merged
        if "functions" in merged and "tools" not in merged:
            key, entries = "functions", [dict(function_of(d)) for d in self.definitions]
        else:
            key, entries = "tools", self.definitions
        present = list(merged.get(key) or [])
        seen = {definition_name(d) for d in present if isinstance(d, Mapping)}
        merged[key] = present + [e for e in entries if definition_name(e) not in seen]
        return merged


def build_toolset(
    definitions: Sequence[Mapping[str, Any]] = (),
    function_files: Sequence[str] = (),
    tool_cmds: Sequence[str] = (),
) -> ToolSet:
    """Definitions (``--tools``), then one tool per public function of each file
    (``--functions``), then commands (``--tool-cmd NAME=COMMAND``) for defined names."""
    from chatcli.tools.command import CommandTool, parse_tool_cmd
    from chatcli.tools.functions import load_functions_file

    toolset = ToolSet()
    for definition in definitions:
        toolset.add(definition)
    for path in function_files:
        for definition, tool in load_functions_file(path):
            toolset.add(definition, tool, origin=f"functions file {path}")
    for spec in tool_cmds:
        name, argv = parse_tool_cmd(spec)
        toolset.set_runner(name, CommandTool(argv), origin=f"tool command {name}")
    return toolset
