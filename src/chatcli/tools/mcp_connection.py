"""Sessions with MCP servers, held open on one event loop in a background thread.

The SDK is async and the rest of chatcli is not. One daemon thread runs an
asyncio loop; one task on it (the holder) enters every server's transport and
session and keeps them until ``close``, because anyio wants a context left by
the task that entered it. Calls from the tool runner's worker threads are
submitted to that loop and waited on there. The SDK is imported only inside
functions, so chatcli runs without it; nothing here names tools or reads results.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from chatcli.errors import UsageError

if TYPE_CHECKING:
    from mcp import ClientSession

# Bounds a close, so a server that ignores shutdown cannot hang the command;
# the SDK's own stdio shutdown (close stdin, terminate, kill) fits well inside.
CLOSE_TIMEOUT = 10.0


@dataclass(frozen=True)
class ServerSpec:
    """How to reach one server: a command line (stdio) or a URL (streamable HTTP)."""

    label: str  # how messages name the server: the command as given, or the URL
    argv: tuple[str, ...] = ()
    url: str | None = None


@dataclass
class Server:
    """One connected server: its name from ``initialize`` and its tools as wire dicts."""

    spec: ServerSpec
    name: str
    tools: list[dict[str, Any]] = field(default_factory=list)
    session: ClientSession | None = field(default=None, repr=False)


class Connection:
    """The loop thread and every open session; ``close`` ends them all, once."""

    def __init__(self, *, errlog: TextIO | None = None,
                 environment: Mapping[str, str] | None = None) -> None:
        self._errlog = errlog
        self._environment = dict(environment) if environment is not None else None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="mcp client", daemon=True)
        self._closing = asyncio.Event()  # bound to no loop until first awaited, on the thread
        self._holders: list[concurrent.futures.Future[None]] = []
        self._lock = threading.Lock()
        self._closed = False

    def open(self, specs: Sequence[ServerSpec], timeout: float) -> list[Server]:
        """Connect to every server at once and list its tools.

        A ``UsageError`` names the first server (in the order given) that
        failed, or else the first that did not answer in time.
        """
        self._thread.start()
        readies: list[concurrent.futures.Future[Server]] = []
        for spec in specs:
            ready: concurrent.futures.Future[Server] = concurrent.futures.Future()
            self._holders.append(
                asyncio.run_coroutine_threadsafe(self._hold(spec, ready), self._loop))
            readies.append(ready)
        done, _ = concurrent.futures.wait(readies, timeout, concurrent.futures.FIRST_EXCEPTION)
        for ready in readies:
            if ready in done and ready.exception() is not None:
                ready.result()
        for spec, ready in zip(specs, readies, strict=True):
            if ready not in done:
                raise UsageError(f"MCP server {spec.label} did not answer within {timeout:g} s")
        return [ready.result() for ready in readies]

    def call(self, server: Server, name: str,
             arguments: dict[str, Any]) -> concurrent.futures.Future[dict[str, Any]]:
        """Start a ``tools/call``; the future holds the result as a wire dict."""
        if server.session is None:
            raise RuntimeError(f"MCP server {server.spec.label} is not connected")
        return asyncio.run_coroutine_threadsafe(_call(server.session, name, arguments),
                                                self._loop)

    def close(self) -> None:
        """Leave every session (stopping stdio servers), then stop the loop and its thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if not self._thread.is_alive():
            self._loop.close()
            return
        self._loop.call_soon_threadsafe(self._closing.set)
        _, late = concurrent.futures.wait(self._holders, CLOSE_TIMEOUT)
        for holder in late:  # still connecting, or deaf to shutdown: _serve awaits the cancel
            holder.cancel()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:  # abandoned calls and a cancelled holder unwind before the loop closes
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    async def _hold(self, spec: ServerSpec, ready: concurrent.futures.Future[Server]) -> None:
        """One server's transport and session, from connecting until ``close``.

        A task per server, so a server that fails mid-session ends only its
        own session: anyio cancels the task holding a transport that broke.
        """
        try:
            async with contextlib.AsyncExitStack() as stack:
                errlog = self._errlog or stack.enter_context(open(os.devnull, "w"))  # noqa: SIM115
                ready.set_result(await _connect(stack, spec, errlog, self._environment))
                await self._closing.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(UsageError(f"MCP server {spec.label}: {_describe(exc)}"))
            if not isinstance(exc, Exception):
                raise


async def _connect(stack: contextlib.AsyncExitStack, spec: ServerSpec, errlog: TextIO,
                   environment: dict[str, str] | None) -> Server:
    """Open the transport and session on ``stack``, initialize, and list every tool."""
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.types import PaginatedRequestParams

    if spec.url is not None:
        read, write = await stack.enter_async_context(streamable_http_client(spec.url))
    else:
        params = StdioServerParameters(command=spec.argv[0], args=list(spec.argv[1:]),
                                       env=environment)
        read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
    session = await stack.enter_async_context(ClientSession(read, write))
    info = await session.initialize()
    server = Server(spec, info.server_info.name, session=session)
    if info.capabilities.tools is None:
        return server  # a server of prompts or resources only: nothing to list
    cursor: str | None = None
    while True:
        page = await session.list_tools(
            params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        server.tools.extend(tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                            for tool in page.tools)
        cursor = page.next_cursor
        if not cursor:
            return server


async def _call(session: ClientSession, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await session.call_tool(name, arguments)
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def _leaf(exc: BaseException) -> BaseException:
    """The first error inside nested exception groups (anyio task groups wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    leaf = _leaf(exc)
    if isinstance(leaf, FileNotFoundError) and leaf.filename:
        return f"command not found: {leaf.filename}"
    detail = str(leaf)
    return f"{type(leaf).__name__}: {detail}" if detail else type(leaf).__name__
