"""The only module that speaks HTTP: auth, headers, trace ids, timeouts, retries.

Retries happen only before a response body is handed out, so nothing the user
has seen is ever repeated. Every transport failure leaves here as a
``RequestError`` carrying the status, the server's own message, our trace id
and the server's request id.
"""

from __future__ import annotations

import json
import os
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from chatcli import __version__
from chatcli.config import Settings
from chatcli.endpoint.http_failures import (
    RetryNotice,
    counted,
    missing_v1_hint,
    read_bounded,
    request_id_of,
    retry_after,
    transport_error,
    tried,
)
from chatcli.endpoint.param_drops import DropRetry, ParamDrops, error_param, target_key
from chatcli.endpoint.request_body import request_bytes, shorten_payloads
from chatcli.endpoint.thinking_switch import ThinkingSwitch
from chatcli.errors import (
    ConfigError,
    ProtocolError,
    RequestError,
    RequestRejected,
    RequestTimeout,
    UsageError,
    error_for_status,
)
from chatcli.protocol.error_bodies import describe_error_body, json_or_none
from chatcli.sanitize import redact_header

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_ERROR_BODY = 64 * 1024  # an error page is read this far, and no further
MAX_INFLATED = 256 * 1024 * 1024  # a compressed response may not inflate past this
MAX_RETRY_AFTER = 120.0
MAX_REDIRECTS = 5
Log = Callable[[str], None]


def new_trace_id() -> str:
    """A random (version 4) UUID, made without the ``uuid`` module, which is slow to import."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class ResponseStream:
    """An open response whose body has not been read; iterate its bytes once.

    Bounded: past ``deadline`` (``--max-time``, a ``time.monotonic`` instant) it
    raises a timeout, and a compressed body may not inflate past ``MAX_INFLATED``.
    """

    def __init__(self, response: httpx.Response, trace_id: str, started: float,
                 deadline: float | None = None, max_time: float | None = None) -> None:
        self.response = response
        self.trace_id = trace_id
        self.started = started
        self.request_id = request_id_of(response.headers)
        self.deadline = deadline
        self.max_time = max_time

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).lower()

    def iter_bytes(self) -> Iterator[bytes]:
        compressed = self.response.headers.get("content-encoding", "identity") != "identity"
        inflated = 0
        try:
            for piece in self.response.iter_bytes():
                if self.deadline is not None and time.monotonic() > self.deadline:
                    raise self._past_deadline()
                inflated += len(piece)
                if compressed and inflated > MAX_INFLATED:
                    raise ProtocolError(f"the compressed response inflates past"
                                        f" {MAX_INFLATED // 1_048_576} MiB; not read further",
                                        trace_id=self.trace_id, request_id=self.request_id)
                yield piece
        except httpx.HTTPError as exc:
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise self._past_deadline() from exc
            raise transport_error(exc, self.trace_id, self.request_id, mid_body=True) from exc

    def _past_deadline(self) -> RequestTimeout:
        return RequestTimeout(f"the answer took longer than --max-time {self.max_time:g}s",
                              trace_id=self.trace_id, request_id=self.request_id)

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChatClient:
    """Sends requests to one endpoint, as the settings describe it."""

    def __init__(
        self,
        settings: Settings,
        *,
        headers: Mapping[str, str] | None = None,
        log: Log | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        tls: bool | str = True,
        drops: ParamDrops | None = None,
        on_drop: Callable[[str], None] | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        strict: bool = False,
        thinking: bool | None = None,
        thinking_style: str | None = None,
        http2: bool = False,
    ) -> None:
        self.settings = settings
        self._log = log
        self._drops, self._on_drop, self._strict = drops, on_drop, strict
        self._on_retry = on_retry  # told before each wait; the caller decides how to show it
        self._thinking = None if thinking is None else ThinkingSwitch(
            thinking, thinking_style, self.list_models, on_drop)  # on_drop: the notes
        self._sleep = sleep
        self._jitter = jitter
        merged = {"User-Agent": f"chatcli/{__version__}", **settings.headers, **(headers or {})}
        self._custom_headers = tuple({**settings.headers, **(headers or {})})
        if settings.api_key:
            merged["Authorization"] = f"Bearer {settings.api_key}"
        # A deadline shorter than the read timeout bounds each read too, so that a
        # silent server is noticed when the deadline passes, not when --timeout does.
        read = min(settings.timeout, settings.max_time or settings.timeout)
        timeout = httpx.Timeout(read, connect=settings.connect_timeout,
                                pool=settings.connect_timeout)
        # http2: many requests over one connection (``batch``), where the server offers it
        self._http = httpx.Client(headers=merged, timeout=timeout, follow_redirects=False,
                                  trust_env=True, verify=tls_verify(settings.base_url, tls),
                                  http2=http2)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open_chat(self, body: Mapping[str, Any], trace_id: str | None = None) -> ResponseStream:
        """POST the body to ``/chat/completions``; the caller reads (and closes) the stream.

        ``thinking`` (when not None) is added in the endpoint's dialect; unless ``strict``,
        refused fields are left out or sent again without (``param_drops``).
        """
        trace = trace_id or new_trace_id()
        if self._thinking is not None:
            body = self._thinking.apply(body)
        retry = self._drop_retry(body)
        current = retry.first(body) if retry else dict(body)
        while True:
            content = request_bytes(current)
            if self._log:
                self._log("> " + json.dumps(shorten_payloads(current), ensure_ascii=False))
            try:
                return self._send("POST", self.settings.chat_url, content, trace)
            except RequestRejected as error:
                again = retry.after(current, error) if retry else None
                if again is None:
                    raise
                current = again

    def prepared(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body as ``open_chat`` would send it first, asking the server nothing: the
        thinking switch as the profile or the model's name spells it, the fields this
        endpoint refused before left out (``--dry-run``)."""
        if self._thinking is not None:
            body = self._thinking.apply(body, ask_server=False)
        retry = self._drop_retry(body)
        return retry.first(body) if retry else dict(body)

    def thinking_unasked(self) -> bool:
        """Whether the thinking switch would ask the server its dialect before sending."""
        return self._thinking is not None and self._thinking.would_ask()

    def request_headers(self, trace_id: str) -> dict[str, str]:
        """The headers a chat request carries, credentials redacted (``--dry-run``)."""
        headers = {**self._http.headers, "X-Trace-ID": trace_id,
                   "Content-Type": "application/json"}
        return {name: redact_header(name, value) for name, value in headers.items()}

    def _drop_retry(self, body: Mapping[str, Any]) -> DropRetry | None:
        if self._strict:
            return None
        return DropRetry(self._drops, target_key(self.settings.profile, self.settings.base_url),
                         str(body.get("model", "")), self._on_drop, self._log)

    def list_models(self, trace_id: str | None = None) -> dict[str, Any]:
        """``GET /models`` as parsed JSON."""
        return self.get_json("models", trace_id, what="the models list")

    def get_json(self, path: str, trace_id: str | None = None, *,
                 what: str = "the response") -> dict[str, Any]:
        """``GET {base_url}/{path}`` as a JSON object (retried like every request)."""
        trace = trace_id or new_trace_id()
        url = self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")
        with self._send("GET", url, None, trace) as stream:
            raw = stream.read()
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"{what} is not JSON", trace_id=trace,
                                request_id=stream.request_id) from exc
        if not isinstance(data, dict):
            raise ProtocolError(f"{what} is not a JSON object", trace_id=trace)
        return data

    def _send(self, method: str, url: str, content: bytes | None, trace_id: str) -> ResponseStream:
        headers = {"X-Trace-ID": trace_id}
        if content is not None:
            headers["Content-Type"] = "application/json"
        attempt = hops = 0
        foreign = False  # redirected to another host: no credentials go there
        max_time = self.settings.max_time
        deadline = time.monotonic() + max_time if max_time else None
        while True:
            started = time.monotonic()
            try:
                request = self._http.build_request(method, url, content=content, headers=headers)
            except httpx.InvalidURL as exc:
                raise ConfigError(f"invalid base URL {self.settings.base_url!r}: {exc}") from exc
            if foreign:
                self._strip_credentials(request)
            self._log_request(request)
            try:
                response = self._http.send(request, stream=True)
            except httpx.UnsupportedProtocol as exc:
                raise ConfigError(f"invalid base URL {self.settings.base_url!r}: {exc}") from exc
            except httpx.TransportError as exc:
                error = transport_error(exc, trace_id, None, mid_body=False)
                error.tried = tried(method, request.url)
                if deadline is not None and time.monotonic() >= deadline:
                    late = RequestTimeout(f"no answer within --max-time {max_time:g}s"
                                          f" ({error.message})", trace_id=trace_id)
                    late.tried = error.tried
                    raise counted(late, attempt) from exc
                if attempt < self.settings.retries:
                    self._wait(attempt, None, error, deadline)
                    attempt += 1
                    continue
                raise counted(error, attempt) from exc
            self._log_response(response, started)
            if response.status_code < 300:
                return ResponseStream(response, trace_id, started, deadline, max_time)
            target = _redirect_target(response, method)
            if target is not None and hops < MAX_REDIRECTS:
                response.close()
                hops += 1
                foreign = foreign or not _same_origin(target, request.url)
                url = str(target)
                continue
            error = self._status_error(response, trace_id)
            if response.status_code == 404:  # the wrong URL, more often than a missing model
                error.tried = tried(method, request.url)
                error.hint = missing_v1_hint(self.settings.base_url, request.url)
            patient = error.retry_after is None or error.retry_after <= MAX_RETRY_AFTER
            if _retryable(response.status_code) and attempt < self.settings.retries and patient:
                self._wait(attempt, error.retry_after, error, deadline)
                attempt += 1
                continue
            raise counted(error, attempt)

    def _strip_credentials(self, request: httpx.Request) -> None:
        for name in ("Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key",
                     *self._custom_headers):
            request.headers.pop(name, None)

    def _status_error(self, response: httpx.Response, trace_id: str) -> RequestError:
        request_id = request_id_of(response.headers)
        if 300 <= response.status_code < 400:
            response.close()
            where = response.headers.get("location", "elsewhere")
            return RequestRejected(f"redirected to {where} (not followed; check --base-url)",
                                   status=response.status_code, trace_id=trace_id,
                                   request_id=request_id)
        raw = read_bounded(response, MAX_ERROR_BODY)
        message = describe_error_body(raw, response.headers.get("content-type", ""))
        if not message:
            message = response.reason_phrase or "no details in the response"
        if response.status_code in (401, 403) and self.settings.key_note.startswith(
                "none: OPENAI_API_KEY"):
            message += " (OPENAI_API_KEY was not sent to this base URL: see `chatcli config show`)"
        cls = error_for_status(response.status_code)
        return cls(message, status=response.status_code, trace_id=trace_id,
                   request_id=request_id, retry_after=retry_after(response.headers),
                   param=error_param(json_or_none(raw)))

    def _wait(self, attempt: int, hinted: float | None, error: RequestError,
              deadline: float | None) -> None:
        backoff = min(8.0, 0.5 * 2**attempt) * (0.5 + self._jitter())
        delay = hinted if hinted is not None else backoff
        if deadline is not None and time.monotonic() + delay >= deadline:
            raise counted(error, attempt)  # waiting would outlast --max-time: as it stands
        if self._on_retry:
            self._on_retry(RetryNotice(delay, attempt + 2, self.settings.retries + 1, error))
        elif self._log:
            self._log(f"retrying in {delay:.1f}s after: {error.describe()}")
        self._sleep(delay)

    def _log_request(self, request: httpx.Request) -> None:
        if not self._log:
            return
        self._log(f"> {request.method} {request.url}")  # userinfo: hidden by the log
        for name, value in request.headers.items():
            self._log(f"> {name}: {redact_header(name, value)}")

    def _log_response(self, response: httpx.Response, started: float) -> None:
        if not self._log:
            return
        elapsed = time.monotonic() - started
        self._log(f"< {response.http_version} {response.status_code} {response.reason_phrase}"
                  f" ({elapsed * 1000:.0f} ms to headers)")
        for name, value in response.headers.items():
            self._log(f"< {name}: {redact_header(name, value)}")


def tls_verify(base_url: str, tls: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a context from a CA bundle, no checking, or the default."""
    if isinstance(tls, str):
        try:
            return ssl.create_default_context(cafile=tls)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ca-bundle {tls}: cannot load it: {exc}") from exc
    if not tls:
        return False
    # A plain-http endpoint (a local server) never needs TLS, and building a
    # verifying SSL context costs tens of milliseconds of start-up.
    return not base_url.startswith("http://")


def _redirect_target(response: httpx.Response, method: str) -> httpx.URL | None:
    """Where to follow a redirect, or None: a POST is only followed by 307/308 to the
    same origin (anything else would change the request or send the prompt elsewhere);
    a GET follows any redirect, without credentials when it leaves the origin."""
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        return None
    target = response.url.join(location)
    if method == "GET":
        return target
    if response.status_code in (307, 308) and _same_origin(target, response.url):
        return target
    return None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _retryable(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500
