"""What one exchange produced: the assembled completion, how it ended, and its timing.

A plain value below the engine, so that renderers, the history and the REPL can
hold one without importing the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["complete", "interrupted", "error"]


@dataclass
class TurnResult:
    """What one exchange produced, complete or not."""

    completion: dict[str, Any]
    status: Status = "complete"
    trace_id: str | None = None
    request_id: str | None = None
    time_to_first_token: float | None = None
    duration: float = 0.0
    error: BaseException | None = field(default=None, repr=False)
    # Said once the answer is shown: warnings always (on stderr), notes with -v.
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any]:
        first: dict[str, Any] = self.completion["choices"][0]["message"]
        return first
