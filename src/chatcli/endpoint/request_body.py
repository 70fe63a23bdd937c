"""The request body as it goes out, and as ``--verbose`` shows it.

JSON with non-ASCII kept as UTF-8, never a NaN or infinity (not JSON, though
Python writes them), never half a character; base64 payloads cut short in logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from chatcli.errors import UsageError
from chatcli.sanitize import whole_characters

_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]{200,}")


def shorten_payloads(value: Any) -> Any:
    """A copy with every base64 payload cut (``data:`` URLs, ``input_audio`` data, any long
    base64 string), for ``--verbose``."""
    if isinstance(value, dict):
        return {k: shorten_payloads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten_payloads(v) for v in value]
    if isinstance(value, str) and value.startswith("data:") and len(value) > 80:
        head = value[: value.find(",") + 1] if "," in value else value[:40]
        return f"{head}…({len(value)} chars)"
    if isinstance(value, str) and len(value) >= 200 and _BASE64.fullmatch(value):
        return f"{value[:16]}…({len(value)} chars of base64)"
    return value


def request_bytes(body: Mapping[str, Any]) -> bytes:
    """The body as JSON bytes; a NaN or infinity (not JSON) is a usage error."""
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise UsageError(f"the request holds a number JSON cannot carry: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # half a character from somewhere: sent mended
        return whole_characters(text).encode("utf-8")
