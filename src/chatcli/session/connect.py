"""The client every command opens: headers, TLS choice and rejected fields, from flags.

``ask``, ``chat``, ``models``, ``models show`` and ``doctor`` take the same
endpoint options; this is the one place that turns them into a ``ChatClient``, and
decides how its retries are shown: one dim line on a terminal's stderr each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.sanitize import is_secret_header, redact_secrets, remember_secret
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.endpoint.http_failures import RetryNotice
    from chatcli.endpoint.param_drops import ParamDrops
    from chatcli.session.options import AskRequest


def open_client(env: Environment, settings: Settings, *, headers: list[str],
                verbose: bool = False, ca_bundle: str | None = None, insecure: bool = False,
                strict: bool = False, thinking: bool | None = None,
                on_retry: Callable[[RetryNotice], None] | None = None,
                http2: bool = False) -> ChatClient:
    """A client for the endpoint options every command shares; ``on_retry``: told of each
    retry instead of the terminal line (``batch``, which slows down on a 429)."""
    from chatcli.endpoint.client import ChatClient

    return ChatClient(
        settings, headers=parse_headers(headers), log=env.log if verbose else None,
        tls=tls_choice(ca_bundle, insecure, env), drops=param_drops_store(),
        on_drop=lambda message: env.log(f"chatcli: note: {message}"),
        on_retry=on_retry or (retry_shower(env) if env.stderr_is_terminal else None),
        strict=strict,
        thinking=thinking, thinking_style=settings.thinking_style, http2=http2)


def client_for(env: Environment, settings: Settings, request: AskRequest) -> ChatClient:
    """The client for the endpoint options of a one-shot command."""
    return open_client(env, settings, headers=request.headers, verbose=request.verbose,
                       ca_bundle=request.ca_bundle, insecure=request.insecure,
                       strict=request.strict_params, thinking=request.thinking)


def retry_shower(env: Environment) -> Callable[[RetryNotice], None]:
    """Each retry as one dim line on a terminal's stderr, so a slow answer says why it is
    slow. A script's stderr gets them with ``--verbose`` only; the error that ends the
    retries says how many attempts were made."""
    def show(notice: RetryNotice) -> None:
        from chatcli.render.console import status_line

        status_line(env.stderr, redact_secrets(
            f"chatcli: retrying in {notice.delay:.1f}s (attempt {notice.attempt} of"
            f" {notice.attempts}): {notice.error.describe()}"))
    return show


def refuse_unsupported(client: ChatClient, messages: Sequence[Mapping[str, Any]],
                       model: str) -> None:
    """Images, audio or files: refused here if the endpoint says the model cannot take
    them, rather than by a gateway's 400 after the upload (looked up once a day)."""
    if not any(isinstance(m.get("content"), list) for m in messages):
        return
    from chatcli.config import data_dir
    from chatcli.endpoint.catalog import CACHE_FILE, refuse_unsupported_media

    refuse_unsupported_media(client, messages, model, data_dir() / CACHE_FILE)


def tls_choice(ca_bundle: str | None, insecure: bool, env: Environment, *,
               quiet: bool = False) -> bool | str:
    """What ``ChatClient`` checks certificates against: the system's, a bundle, or nothing.
    ``quiet``: the warning about ``--insecure`` is said by the endpoint's client, once."""
    if insecure:
        if ca_bundle:
            raise UsageError("--insecure and --ca-bundle contradict each other")
        if not quiet:
            env.warn("--insecure: TLS certificates are not checked; anyone on the path can"
                     " read and change this exchange")
        return False
    return ca_bundle if ca_bundle else True


def param_drops_store() -> ParamDrops:
    """The file of fields endpoints rejected, in the data directory."""
    from chatcli.config import data_dir
    from chatcli.endpoint.param_drops import FILE_NAME, ParamDrops

    return ParamDrops(data_dir() / FILE_NAME)


def parse_headers(items: list[str]) -> dict[str, str]:
    """``-H "Name: value"`` items as a dict."""
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise UsageError(f"header {item!r} must look like 'Name: value'")
        if any((char < " " and char != "\t") or char == "\x7f" for char in value):
            raise UsageError(f"header {name.strip()}: its value holds a control character"
                             " (not shown)")
        headers[name.strip()] = value.strip()
        if is_secret_header(name):
            remember_secret(value.strip())  # hidden from -v, errors and tracebacks
    return headers
