"""Tools from Model Context Protocol servers: ``--mcp COMMAND`` (stdio) and ``--mcp-url URL``.

Each server tool becomes a function definition (its ``inputSchema`` as the
parameters) and a ``Tool`` whose ``run`` sends ``tools/call`` through
``mcp_connection`` and turns the result's content into text for the model.
Every connection failure is a ``UsageError`` raised at load time, before any
request is sent. The SDK is an optional extra, imported only when a server is
named; nothing here prints or reads the environment.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TextIO

from chatcli.errors import UsageError
from chatcli.tools.definitions import Cancellation, Tool, ToolError
from chatcli.tools.mcp_connection import Connection, Server, ServerSpec

SDK_MISSING = "--mcp needs the MCP SDK: pip install 'chatcli[mcp]'"
CONNECT_TIMEOUT = 30.0
MAX_NAME = 64  # the API's limit on function names
_OUTSIDE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class McpTools:
    """The tools of every server, as ``(definition, tool)`` pairs for ``ToolSet.add``.

    Holds the servers open; ``close`` (or leaving the ``with`` block) ends
    them. It also runs at exit, so an error path that skips it leaves no server.
    """

    def __init__(self, entries: list[tuple[dict[str, Any], Tool]],
                 connection: Connection | None = None) -> None:
        self.entries = entries
        self._connection = connection
        if connection is not None:
            atexit.register(self.close)

    def close(self) -> None:
        if self._connection is not None:
            atexit.unregister(self.close)
            self._connection.close()

    def __enter__(self) -> McpTools:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class McpTool:
    """One server tool; ``run`` waits for the server in the runner's worker thread."""

    def __init__(self, connection: Connection, server: Server, remote_name: str) -> None:
        self._connection = connection
        self._server = server
        self._remote_name = remote_name

    def run(self, arguments: dict[str, Any], cancellation: Cancellation) -> str:
        """The result's text; a result flagged ``isError`` raises ``ToolError`` with its text."""
        if cancellation.cancelled:
            raise ToolError("the call was cancelled")
        try:
            future = self._connection.call(self._server, self._remote_name, arguments)
        except RuntimeError as exc:  # the loop is closed: the command is ending
            raise ToolError(f"MCP server {self._server.name}: {exc}") from None

        def stop() -> None:  # at the runner's timeout: cancel the request on the loop
            future.cancel()

        cancellation.on_cancel(stop)
        try:
            result = future.result()
        except concurrent.futures.CancelledError:
            raise ToolError("the call was cancelled") from None
        except Exception as exc:
            raise ToolError(f"MCP server {self._server.name}: {type(exc).__name__}: {exc}"
                            ) from None
        return result_text(result)


def load_mcp_tools(commands: Sequence[str] = (), urls: Sequence[str] = (), *,
                   errlog: TextIO | None = None, environment: Mapping[str, str] | None = None,
                   timeout: float = CONNECT_TIMEOUT) -> McpTools:
    """Connect to every server, list its tools and name them uniquely.

    ``errlog`` receives the stdio servers' stderr (discarded when None); the
    ``environment`` is added to the SDK's minimal one (PATH, HOME, ...).
    """
    specs = [command_spec(command) for command in commands] + [url_spec(url) for url in urls]
    if not specs:
        return McpTools([])
    require_sdk()
    connection = Connection(errlog=errlog, environment=environment)
    try:
        servers = connection.open(specs, timeout)
    except BaseException:
        connection.close()
        raise
    names = exposed_names([server.name for server in servers],
                          [[_tool_name(tool) for tool in server.tools] for server in servers])
    entries: list[tuple[dict[str, Any], Tool]] = []
    for server, server_names in zip(servers, names, strict=True):
        for tool, name in zip(server.tools, server_names, strict=True):
            entries.append((definition_of(tool, name),
                            McpTool(connection, server, _tool_name(tool))))
    return McpTools(entries, connection)


def require_sdk() -> None:
    """Fail with the install hint when the optional SDK is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise UsageError(SDK_MISSING) from None


def command_spec(command: str) -> ServerSpec:
    try:
        argv = tuple(shlex.split(command))
    except ValueError as exc:
        raise UsageError(f"--mcp {command!r}: {exc}") from None
    if not argv:
        raise UsageError("--mcp needs a command that starts an MCP server")
    return ServerSpec(label=repr(command), argv=argv)


def url_spec(url: str) -> ServerSpec:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--mcp-url {url!r}: give an http:// or https:// URL")
    return ServerSpec(label=url, url=url)


def definition_of(tool: Mapping[str, Any], name: str) -> dict[str, Any]:
    """An OpenAI function tool from an MCP tool; ``inputSchema`` is already JSON Schema."""
    function: dict[str, Any] = {"name": name}
    description = tool.get("description") or tool.get("title")
    if isinstance(description, str) and description:
        function["description"] = description
    schema = tool.get("inputSchema")
    function["parameters"] = dict(schema) if isinstance(schema, Mapping) else {
        "type": "object", "properties": {}}
    return {"type": "function", "function": function}


def exposed_names(servers: Sequence[str], tools: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each tool's name for the model: its own, or ``server__tool`` where servers share it.

    Names keep to the API's rule (letters, digits, ``_``, ``-``; at most 64),
    so a long one is cut and given a short hash to stay distinct.
    """
    prefixes = _unique([sanitise(name) or "server" for name in servers])
    counts: dict[str, int] = {}
    for names in tools:
        for name in set(map(sanitise, names)):
            counts[name] = counts.get(name, 0) + 1
    return [[_fit(f"{prefix}__{sanitise(name)}" if counts[sanitise(name)] > 1 else
                  sanitise(name) or "tool") for name in names]
            for prefix, names in zip(prefixes, tools, strict=True)]


def sanitise(name: str) -> str:
    return _OUTSIDE_NAME.sub("_", name).strip("_")


def result_text(result: Mapping[str, Any]) -> str:
    """Text parts joined by newlines, other parts summarised; ``isError`` raises ``ToolError``."""
    content = result.get("content")
    parts = [content_text(part) for part in content if isinstance(part, Mapping)] \
        if isinstance(content, list) else []
    text = "\n".join(parts)
    if not parts and result.get("structuredContent") is not None:
        text = json.dumps(result["structuredContent"], ensure_ascii=False)
    if result.get("isError"):
        raise ToolError(text or "the MCP tool reported an error")
    return text


def content_text(part: Mapping[str, Any]) -> str:
    """One content block as text; binary data only by its type and size."""
    kind = part.get("type")
    if kind == "text":
        return str(part.get("text", ""))
    if kind in ("image", "audio"):
        return f"[{kind}: {part.get('mimeType', '?')}, {_size(part.get('data'))} bytes]"
    if kind == "resource_link":
        return f"[resource link: {part.get('name', '')} {part.get('uri', '')}]".replace(" ]", "]")
    if kind == "resource":
        resource = part.get("resource")
        resource = resource if isinstance(resource, Mapping) else {}
        if isinstance(resource.get("text"), str):
            return str(resource["text"])
        return (f"[resource: {resource.get('uri', '?')}, {resource.get('mimeType', '?')},"
                f" {_size(resource.get('blob'))} bytes]")
    return f"[{kind} content]"


def _size(data: object) -> int:
    """Decoded size of base64 text, counted without decoding it."""
    if not isinstance(data, str):
        return 0
    text = "".join(data.split())
    return len(text) * 3 // 4 - len(text) + len(text.rstrip("="))


def _tool_name(tool: Mapping[str, Any]) -> str:
    return str(tool.get("name", ""))


def _unique(names: list[str]) -> list[str]:
    """Servers that call themselves the same get ``_2``, ``_3``, ... in order."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def _fit(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}_{digest}"
