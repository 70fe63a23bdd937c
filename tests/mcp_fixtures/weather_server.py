"""A small MCP server for tests, written with the official SDK.

``python weather_server.py NAME [--tools a,b] [--http]`` serves over stdio;
with ``--http`` it binds 127.0.0.1 on a free port, prints ``ready PORT`` once
the socket listens, and serves streamable HTTP at ``/mcp``. NAME becomes the
server's name in its initialize answer, so two copies can clash on tool names;
``--tools`` keeps only the tools named.
"""

from __future__ import annotations

import base64
import os
import socket
import sys

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent

TOOLS = ("get_forecast", "fail", "radar", "process_id", "hang")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def build(name: str) -> MCPServer:
    server: MCPServer = MCPServer(name, log_level="WARNING")

    @server.tool()
    def get_forecast(city: str, days: int = 1) -> str:
        """The weather forecast for a city."""
        return f"{city}: sunny for {days} day(s)"

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, with the reason given."""
        raise ToolError(f"cannot comply: {reason}")

    @server.tool(structured_output=False)
    def radar() -> list[TextContent | ImageContent]:
        """A caption and a radar picture."""
        picture = base64.b64encode(PNG).decode("ascii")
        return [TextContent(type="text", text="radar map"),
                ImageContent(type="image", data=picture, mime_type="image/png")]

    @server.tool()
    def process_id() -> int:
        """This server's process id, so a test can see it has exited."""
        return os.getpid()

    @server.tool()
    async def hang() -> str:
        """Never answers: for cancellation."""
        await anyio.Event().wait()
        return "unreachable"

    return server


def serve_http(server: MCPServer) -> None:
    """Listen before announcing the port, so a client connecting after ``ready`` is queued."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sys.stdout.write(f"ready {sock.getsockname()[1]}\n")
    sys.stdout.flush()
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    anyio.run(uvicorn.Server(config).serve, [sock])


def main(argv: list[str]) -> None:
    server = build(argv[0] if argv else "weather")
    if "--tools" in argv:
        kept = argv[argv.index("--tools") + 1].split(",")
        for name in set(TOOLS) - set(kept):
            server.remove_tool(name)
    if "--http" in argv:
        serve_http(server)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
