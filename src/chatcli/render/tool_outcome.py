"""How a tool's outcome is shown: a panel on a terminal, one line on stderr otherwise.

Tool results are model-facing data: shown escaped, never as markup, and cut to
what a screen can take (the history keeps them whole).
"""

from __future__ import annotations

from rich.panel import Panel
from rich.text import Text

from chatcli.sanitize import visible
from chatcli.tools import ToolOutcome

PLAIN_RESULT_CHARS = 200
RICH_RESULT_LINES = 20
RICH_RESULT_CHARS = 2000


def plain_line(outcome: ToolOutcome) -> str:
    text = " ".join(outcome.content.split())
    if len(text) > PLAIN_RESULT_CHARS:
        text = text[: PLAIN_RESULT_CHARS - 1] + "…"
    state = "" if outcome.ok else f" {outcome.status}"
    return (f"tool result [{outcome.tool_call_id}] {outcome.name}{state}"
            f" ({outcome.duration:.2f}s): {text}")


def outcome_panel(outcome: ToolOutcome) -> Panel:
    """A panel with the first lines of the result and how long the call took."""
    lines = visible(outcome.content).splitlines()
    shown = "\n".join(lines[:RICH_RESULT_LINES])[:RICH_RESULT_CHARS]
    if len(shown) < len("\n".join(lines)):
        shown += f"\n… ({len(outcome.content):,} characters in all, complete in history)"
    title = Text(f"{visible(outcome.name)} · {outcome.duration:.2f}s"
                 + ("" if outcome.ok else f" · {outcome.status}"))
    return Panel(Text(shown), title=title, title_align="left", expand=False,
                 border_style="green" if outcome.ok else "red")
