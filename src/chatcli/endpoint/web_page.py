"""One web page fetched for ``-f URL``: a GET that follows redirects, bounded in size and time.

The page is the user's context, not the endpoint: no Authorization and none of the
profile's headers go with it, only chatcli's User-Agent. TLS is checked as for the
endpoint (``--ca-bundle``, ``--insecure``). Every failure is a ``UsageError`` naming the
URL and the status or reason; nothing here turns the body into text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from chatcli import __version__
from chatcli.endpoint.client import tls_verify
from chatcli.errors import UsageError
from chatcli.sanitize import visible

TOTAL_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Page:
    """What a URL answered: its final address, its media type (lower case, no
    parameters), its charset if it named one, and the body's bytes."""

    url: str
    media_type: str
    charset: str | None
    body: bytes


def fetch_page(url: str, *, tls: bool | str, connect_timeout: float, timeout: float,
               max_bytes: int, over: str) -> Page:
    """GET ``url``; ``timeout`` bounds the whole fetch (and each read), ``max_bytes`` the
    body; ``over`` names that cap when the body is bigger ("the 512 KB limit (…)")."""
    deadline = time.monotonic() + timeout
    limits = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
    try:
        with httpx.Client(headers={"User-Agent": f"chatcli/{__version__}"}, timeout=limits,
                          follow_redirects=True, trust_env=True,
                          verify=tls_verify(url, tls)) as http, http.stream("GET", url) as reply:
            if reply.status_code >= 400:
                raise UsageError(f"-f {url}: the server answered {reply.status_code}"
                                 f" {visible(reply.reason_phrase)}".rstrip())
            body = _body(reply, url, deadline, max_bytes, over)
            kind, _, params = reply.headers.get("content-type", "").partition(";")
            return Page(str(reply.url), kind.strip().lower(), _charset(params), body)
    except httpx.TimeoutException:
        raise UsageError(f"-f {url}: no answer within {timeout:g}s") from None
    except httpx.TooManyRedirects:
        raise UsageError(f"-f {url}: too many redirects") from None
    except httpx.InvalidURL as exc:
        raise UsageError(f"-f {url}: not a URL chatcli can fetch ({exc})") from None
    except httpx.HTTPError as exc:
        raise UsageError(f"-f {url}: cannot fetch it: {_reason(exc)}") from None


def _body(reply: httpx.Response, url: str, deadline: float, max_bytes: int,
          over: str) -> bytes:
    """The body, read until it ends, passes ``max_bytes`` or the deadline passes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in reply.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise UsageError(f"-f {url}: the page is over {over}")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole fetch took too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _reason(exc: httpx.HTTPError) -> str:
    """httpx's words for it: "[Errno 111] Connection refused", a TLS verdict."""
    return visible(str(exc) or type(exc).__name__)
