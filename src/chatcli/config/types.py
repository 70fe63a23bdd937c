"""The type and range of every setting ``config.toml`` may hold, checked before any is used.

A value of the wrong type is a configuration error naming the file, the
table and the key: ``history = "false"`` is a string, and would otherwise be
taken as true (a privacy defect); ``timeout = nan`` would never time out.
Only shapes are checked here; what the values mean is ``config``'s business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from chatcli.errors import ConfigError

THINKING_STYLES = ("enable_thinking", "llmgw_thinking", "chat_template_kwargs",
                   "thinking_object", "directive")
SECRET_SCAN_MODES = ("ask", "redact", "refuse", "off")
# What ``[models."NAME"]`` may say of a model: token counts, and USD per million tokens.
MODEL_COUNTS = ("context_window", "max_output")
MODEL_PRICES = ("price_input", "price_output", "price_cached_input")
MAX_RETRIES = 100

Check = Callable[[Any], str | None]  # the problem with a value, or None


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _url(value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return "must be a string starting with http:// or https://"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false (without quotes)"


def _seconds(value: Any) -> str | None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value <= 0):
        return "must be a number of seconds, more than 0"
    return None


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        return f"must be a whole number from 0 to {MAX_RETRIES}"
    return None


def _file(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be the path of a JSON file"


def _table(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a table"


def _aliases(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
            isinstance(v, str) and v for v in value.values()):
        return "must be a table of alias names and model ids (fast = \"gpt-4o-mini\")"
    return None


def _dollars(value: Any) -> str | None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value < 0):
        return "must be an amount in USD, 0 or more"
    return None


def _models(value: Any) -> str | None:
    """``[models."NAME"]`` tables: known keys only, each a sane number."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        return 'must hold a table per model ([models."gpt-4o"])'
    for name, facts in value.items():
        for key, number in facts.items():
            if key in MODEL_COUNTS:
                if (isinstance(number, bool) or not isinstance(number, int)
                        or not 0 < number < 2**40):
                    return f"{name}: {key} must be a whole number of tokens, more than 0"
            elif key in MODEL_PRICES:
                if _dollars(number):
                    return f"{name}: {key} must be USD per million tokens, 0 or more"
            elif key in CHECKS:  # TOML puts a key after a [table] in that table
                return (f"{name}: {key} is a setting, not a model fact: put it above the"
                        " [models] tables")
            else:
                known = ", ".join((*MODEL_COUNTS, *MODEL_PRICES))
                return f"{name}: unknown key {key!r} (known: {known})"
    return None


def _headers(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()):
        return "must be a table of header names and string values"
    return None


def _strings(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return "must be a list of non-empty strings"
    return None


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


CHECKS: dict[str, Check] = {
    "base_url": _url, "api_key": _string, "api_key_env": _string, "api_key_cmd": _string,
    "model": _string, "headers": _headers, "params": _table, "extra_body": _table,
    "timeout": _seconds, "connect_timeout": _seconds, "max_time": _seconds, "retries": _count,
    "notify_after": _seconds, "aliases": _aliases, "system": _string, "template": _string,
    "include_usage": _boolean, "history": _boolean,
    "thinking_style": _one_of(*THINKING_STYLES), "secret_scan": _one_of(*SECRET_SCAN_MODES),
    "functions": _strings, "tool_cmds": _strings, "approve": _strings, "mcp": _strings,
    "mcp_urls": _strings, "tool_env": _strings, "tools": _file,
    "models": _models, "context": _one_of("truncate", "compact", "error"), "budget_daily": _dollars,
    "budget_monthly": _dollars, "compact_model": _string,
    "tokenizer": _one_of("estimate", "tiktoken"),
}


def check_settings(table: Mapping[str, Any], where: str) -> None:
    """Raise a ``ConfigError`` for the first key of ``table`` whose value has the wrong shape."""
    for key, value in table.items():
        check = CHECKS.get(key)
        problem = check(value) if check is not None else None
        if problem:
            raise ConfigError(f"{where}: {key} {problem}")
