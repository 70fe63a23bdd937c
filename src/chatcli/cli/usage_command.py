"""``chatcli usage``: tokens and cost from the history, by day, model or profile.

The options are ``app_usage``'s and the adding up is ``session.spending``; this module
reads ``--since`` and prints a table (or JSON). Answers of unknown price are counted
in the tokens and said apart on stderr: a cost is never shown as complete when not.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.session.spending import Tally

SPANS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def since_time(text: str, now: float | None = None) -> float:
    """``--since``: a span back from now (``7d``) or a local date (``2026-12-01``)."""
    now = time.time() if now is None else now
    span = re.fullmatch(r"(\d+)([mhdw])", text.strip())
    if span:
        return now - int(span.group(1)) * SPANS[span.group(2)]
    from datetime import datetime

    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").timestamp()
    except ValueError:
        raise UsageError(f"--since {text!r}: give a span (30m, 24h, 7d, 2w) or a date"
                         " (2026-12-01)") from None


def report(since: str | None, by: str, as_json: bool, flags: dict[str, Any],
           env: Environment | None = None) -> None:
    from chatcli.history import HistoryStore
    from chatcli.session.conversation import history_path
    from chatcli.session.spending import Tally, tally

    env = env or Environment.from_process()
    start = since_time(since) if since is not None else 0.0
    settings = env.settings(flags)
    path = history_path()
    if not path.exists():
        groups: dict[str, Tally] = {}
    else:
        store = HistoryStore.open(path)
        try:
            groups = tally(store.answers(start), settings, by)
        finally:
            store.close()
    total = Tally()
    for group in groups.values():
        for name in ("answers", "prompt", "cached", "completion", "reasoning", "cost",
                     "unpriced"):
            setattr(total, name, getattr(total, name) + getattr(group, name))
    if as_json:
        from chatcli.output_guard import write_json

        write_json(env.stdout, {"since": start or None, "by": by,
                                "groups": [_row(by, key, g) for key, g in sorted(groups.items())],
                                "total": _row(by, "total", total)})
    else:
        env.stdout.write(_table(by, groups, total))
    if total.unpriced:
        env.warn(f"{total.unpriced} answer{'s' if total.unpriced != 1 else ''} of a model"
                 " whose prices are unknown counted in the tokens, not the cost (set"
                 ' [models."NAME"] prices in config.toml)')


def _row(by: str, key: str, group: Tally) -> dict[str, Any]:
    priced = group.answers > group.unpriced
    return {by if key != "total" else "group": key, "answers": group.answers,
            "prompt_tokens": group.prompt, "cached_tokens": group.cached,
            "completion_tokens": group.completion, "reasoning_tokens": group.reasoning,
            "cost": round(group.cost, 9) if priced else None,
            "unpriced_answers": group.unpriced}


def _table(by: str, groups: dict[str, Tally], total: Tally) -> str:
    from chatcli.session.cost import dollars

    if not groups:
        return "no answers with token usage in the history for this span\n"
    header = (by, "answers", "prompt", "cached", "completion", "reasoning", "cost")
    rows = [header]
    for key, group in [*sorted(groups.items()), ("total", total)]:
        cost = "-" if group.answers == group.unpriced else (
            dollars(group.cost) + ("+" if group.unpriced else ""))
        rows.append((key, str(group.answers), str(group.prompt), str(group.cached),
                     str(group.completion), str(group.reasoning), cost))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                       for i, cell in enumerate(row)) for row in rows]
    return "\n".join(lines) + "\n"
