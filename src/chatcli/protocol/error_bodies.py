"""The server's own words from an error body, whatever shape it came in.

OpenAI-style ``{"error": {...}}`` (code as string or number, ``param`` maybe
"None"), FastAPI ``detail`` (a string or a list of ``{loc, msg}``), a bare
JSON string, plain text, or an HTML page: each becomes one clean line. Also
the shapes an error takes inside a stream. Nothing here raises or prints.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chatcli.errors import ServerError
from chatcli.sanitize import whole_characters

_TAG = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def describe_error_body(raw: bytes, content_type: str) -> str:
    """The server's message from a JSON error, FastAPI detail, bare string or HTML page."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return ""
    parsed = json_or_none(raw)
    if isinstance(parsed, dict) and isinstance(parsed.get("detail"), list):
        return _one_line("; ".join(_detail_line(item) for item in parsed["detail"]))
    if parsed is not None:
        return _one_line(error_message(parsed))
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        title = _TITLE.search(text)
        if title and title.group(1).strip():
            return _one_line(title.group(1))
        lines = [line.strip() for line in _TAG.sub("\n", text).splitlines()]
        return _one_line(next((line for line in lines if line), "HTML error page"))
    return _one_line(text)


def json_or_none(raw: bytes) -> Any:
    """``raw`` parsed as JSON, or None when it is not JSON (or nested too deeply to read)."""
    try:
        return json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


def error_message(body: Any) -> str:
    """The server's own words from any error shape we have met."""
    return whole_characters(_error_message(body))


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("msg") or _dumps(error)
            code = error.get("code") or error.get("type")
            return f"{message} ({code})" if code and str(code) not in str(message) else str(message)
        if isinstance(error, str) and error:
            message = body.get("message")  # {"error": "SyntaxError", "message": "Bad …"}
            if isinstance(message, str) and message and message not in error:
                return f"{error}: {message}"
            return error
        detail = body.get("detail")
        if detail:
            return detail if isinstance(detail, str) else _dumps(detail)
        if isinstance(body.get("message"), str):
            return str(body["message"])
        return _dumps(body)
    return str(body)


def stream_error(chunk: dict[str, Any], finished_with_error: bool) -> str | None:
    """The message of an error reported inside a stream, or None if ``chunk`` reports none.

    Shapes: ``{"error": {...}}`` (fixture error_mid_stream.sse), ``{"object": "error",
    "message": ...}`` from FastChat and older vLLM (fixture error_object.sse), and a
    choice ending with ``finish_reason: "error"``, with or without an error object, from
    OpenRouter (fixture finish_error.sse).
    """
    if chunk.get("error") or chunk.get("object") == "error":
        return error_message(chunk)
    if not finished_with_error:
        return None
    for choice in chunk.get("choices") or ():
        if isinstance(choice, dict) and choice.get("error"):
            return error_message(choice)
    return 'the answer ended with finish_reason "error"'


class StreamError(ServerError):
    """An error the server reported in the stream; ``events`` came before it in that chunk."""

    def __init__(self, message: str, events: list[Any] | None = None) -> None:
        super().__init__(message)
        self.events = events or []


def event_error(data: str) -> str:
    """The message of an SSE ``event: error``, whose data may be JSON or plain text.

    Fixture event_error.sse: ``{"message": ...}`` or ``{"error": {...}}``.
    """
    parsed = json_or_none(data.encode("utf-8", "surrogatepass"))
    if parsed is None or (isinstance(parsed, str) and not parsed):
        return _one_line(whole_characters(data)) or "(no message)"
    return _one_line(error_message(parsed))


def excerpt(text: str, limit: int = 80) -> str:
    """The start of what the server sent, on one line, for an error message."""
    flat = whole_characters(text).replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _detail_line(item: Any) -> str:
    """FastAPI's ``{"loc": ["body", "foo"], "msg": ...}`` as ``foo: ...``."""
    if not isinstance(item, dict):
        return str(item)
    loc = [str(part) for part in item.get("loc") or () if part not in ("body", "query")]
    message = str(item.get("msg") or item.get("message") or _dumps(item))
    return f"{'.'.join(loc)}: {message}" if loc else message


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        return "(an error too deeply nested to show)"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
