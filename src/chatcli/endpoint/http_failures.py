"""What went wrong with one HTTP exchange, as chatcli's errors: transport failures named
for what they were, the URL that was tried (never its credentials), the server's request
id, and how long it asks us to wait.

Pure mapping from httpx's exceptions and headers; nothing here sends or prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from chatcli.errors import NetworkError, ProtocolError, RequestError, RequestTimeout
from chatcli.sanitize import redact_secrets, without_userinfo

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "openai-request-id", "x-oneapi-request-id")


@dataclass(frozen=True)
class RetryNotice:
    """A failed attempt about to be made again: what failed, and how long we wait first."""

    delay: float
    attempt: int  # the attempt about to be made, counting from 1
    attempts: int  # as many as the settings allow
    error: RequestError


def shown_url(url: httpx.URL | str) -> str:
    """``url`` as it may be shown: no userinfo, no credential-like query parameter."""
    return redact_secrets(without_userinfo(str(url)))


def tried(method: str, url: httpx.URL | str) -> str:
    """``POST http://host/v1/chat/completions``: the request that failed, for its error."""
    return f"{method} {shown_url(url)}"


def missing_v1_hint(base_url: str, url: httpx.URL) -> str | None:
    """For a 404: most OpenAI-compatible servers answer under ``/v1``, and a base URL
    without it (``http://host:8080``) is the usual reason the endpoint is not found."""
    if not url.path.rstrip("/").endswith(("/chat/completions", "/models")):
        return None
    if "v1" in httpx.URL(base_url).path.split("/"):
        return None
    return f"did you mean {shown_url(base_url.rstrip('/') + '/v1')}?"


def request_id_of(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def transport_error(
    exc: httpx.HTTPError, trace_id: str, request_id: str | None, *, mid_body: bool
) -> RequestError:
    where = "while receiving the answer" if mid_body else "before any answer"
    ids: dict[str, Any] = {"trace_id": trace_id, "request_id": request_id}
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return RequestTimeout(f"timed out connecting ({detail})", **ids)
    if isinstance(exc, httpx.ReadTimeout):
        return RequestTimeout(f"timed out waiting for data {where} (see --timeout)", **ids)
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"timed out {where}: {detail}", **ids)
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"could not decode the response body: {detail}", **ids)
    lowered = detail.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or (
        "temporary failure in name resolution" in lowered
    ) or "no address associated" in lowered:
        return NetworkError(f"cannot resolve the host ({detail})", **ids)
    if "connection refused" in lowered:
        return NetworkError(f"connection refused ({detail})", **ids)
    if "ssl" in lowered or "certificate" in lowered:
        return NetworkError(f"TLS error: {detail}", **ids)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return NetworkError(f"connection dropped {where} ({detail})", **ids)
    return NetworkError(f"network failure {where}: {detail}", **ids)


def counted(error: RequestError, attempt: int) -> RequestError:
    """``error`` saying how many attempts were made, when it was more than one."""
    error.attempts = attempt + 1
    return error


def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the (decoded) body; the response is closed after."""
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in response.iter_bytes():
            pieces.append(piece)
            size += len(piece)
            if size >= limit:
                break
    except httpx.HTTPError:
        pass
    finally:
        response.close()
    return b"".join(pieces)[:limit]
