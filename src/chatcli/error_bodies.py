"""The server's own words from an error body, whatever shape it came in.

OpenAI-style ``{"error": {...}}`` (code as string or number, ``param`` maybe
"None"), FastAPI ``detail`` (a string or a list of ``{loc, msg}``), a bare
JSON string, plain text, or an HTML page: each becomes one clean line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chatcli.events import error_message

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


def _detail_line(item: Any) -> str:
    """FastAPI's ``{"loc": ["body", "foo"], "msg": ...}`` as ``foo: ...``."""
    if not isinstance(item, dict):
        return str(item)
    loc = [str(part) for part in item.get("loc") or () if part not in ("body", "query")]
    message = str(item.get("msg") or item.get("message") or json.dumps(item))
    return f"{'.'.join(loc)}: {message}" if loc else message


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
