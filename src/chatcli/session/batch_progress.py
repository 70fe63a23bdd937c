"""What a batch says on stderr while it runs, and the line it ends with.

On a terminal, one live line (Rich, imported only then): done/total, in flight, the
current concurrency, the rate, tokens, cost, ETA and errors. Elsewhere, the same
as a plain line every ``EVERY`` seconds, or nothing with ``-q``. stdout carries
only the results. Only the main thread calls this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.render.batch_view import StatusLine

EVERY = 5.0  # seconds between plain progress lines


@dataclass
class Tally:
    """What the batch has done so far."""

    total: int | None = None  # known once the input is read to its end
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # finished by an earlier run (the state file)
    not_started: int = 0
    tokens: int = 0
    cost: float = 0.0
    priced: bool = False
    codes: list[int] = field(default_factory=list)  # the exit codes of the failures

    @property
    def done(self) -> int:
        return self.ok + self.failed + self.skipped


def count(tokens: int) -> str:
    """1234 as "1.2k", 1234567 as "1.2M"."""
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.1f}M"
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)


def span(seconds: float) -> str:
    """3m12s, 1h04m, 42s."""
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{seconds:.1f}s"


def summary(tally: Tally, elapsed: float) -> str:
    """The last line: ``98 ok, 2 failed, 1.2M tokens, $0.41, 3m12s``."""
    from chatcli.session.cost import dollars

    parts = [f"{tally.ok} ok", f"{tally.failed} failed"]
    if tally.skipped:
        parts.append(f"{tally.skipped} done before")
    if tally.not_started:
        parts.append(f"{tally.not_started} not started")
    parts.append(f"{count(tally.tokens)} tokens")
    if tally.priced:
        parts.append(dollars(tally.cost))
    parts.append(span(elapsed))
    return ", ".join(parts)


class Progress:
    """The running display; ``show`` is cheap to call often."""

    def __init__(self, env: Environment, *, quiet: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.env, self.quiet, self.clock = env, quiet, clock
        self.started = self.last = clock()
        self._live: StatusLine | None = None
        if not quiet and env.stderr_is_terminal:
            from chatcli.render.batch_view import StatusLine

            self._live = StatusLine(env.stderr)

    def show(self, tally: Tally, running: int, limit: int, *, force: bool = False) -> None:
        now = self.clock()
        if self.quiet or (self._live is None and not force and now - self.last < EVERY):
            return
        if self._live is not None and not force and now - self.last < 0.1:
            return
        self.last = now
        line = self.line(tally, running, limit, now - self.started)
        if self._live is not None:
            self._live.update(line)
        else:
            self.env.log(f"chatcli: batch: {line}")

    def line(self, tally: Tally, running: int, limit: int, elapsed: float) -> str:
        from chatcli.session.cost import dollars

        total = "?" if tally.total is None else str(tally.total)
        finished = tally.ok + tally.failed
        rate = finished / elapsed if elapsed > 0 else 0.0
        parts = [f"{tally.done}/{total} done", f"{running} in flight", f"-j {limit}",
                 f"{rate:.1f}/s", f"{count(tally.tokens)} tokens"]
        if tally.priced:
            parts.append(dollars(tally.cost))
        if tally.total is not None and rate > 0:
            parts.append(f"ETA {span((tally.total - tally.done) / rate)}")
        if tally.failed:
            parts.append(f"{tally.failed} failed")
        return " · ".join(parts)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
