"""How fast a batch may send: concurrency that adapts to rate limits, and per-minute caps.

Concurrency works like TCP's AIMD: a 429 (a retry the client is about to make,
or an item that failed with one) holds every new request back until the
server's ``Retry-After`` (or the client's backoff) has passed, and halves how
many requests may be in flight, at most once a second, so the 429s of requests
already in flight do not collapse it to one; as many successes as the current
limit raise it by one, back up to ``-j``.
``--rpm`` and ``--tpm`` cap the requests started and the tokens answered in any
60 seconds. Thread-safe; nothing here prints.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MINUTE = 60.0
COOLDOWN = 1.0  # seconds after a halving before a 429 halves the limit again


class Pace:
    """The gate every batch request passes before it is sent."""

    def __init__(self, ceiling: int, *, rpm: int | None = None, tpm: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = self.limit = max(1, ceiling)
        self.rpm, self.tpm, self.clock = rpm, tpm, clock
        self.running = 0
        self.peak = 0  # the most in flight at once
        self.stopped = False
        self._paused_until = 0.0
        self._calm_at = 0.0  # no halving again before this
        self._streak = 0
        self._starts: deque[float] = deque()
        self._answered: deque[tuple[float, int]] = deque()
        self._tokens = 0  # the sum of _answered
        self._cond = threading.Condition()

    def wait_time(self, now: float) -> float | None:
        """0 when a request may start now, else how long to wait (None: until one ends)."""
        if self.running >= self.limit:
            return None
        wait = max(0.0, self._paused_until - now)
        while self._starts and self._starts[0] <= now - MINUTE:
            self._starts.popleft()
        if self.rpm is not None and len(self._starts) >= self.rpm:
            wait = max(wait, self._starts[0] + MINUTE - now)
        while self._answered and self._answered[0][0] <= now - MINUTE:
            self._tokens -= self._answered.popleft()[1]
        if self.tpm is not None and self._tokens >= self.tpm and self._answered:
            wait = max(wait, self._answered[0][0] + MINUTE - now)
        return wait

    def acquire(self) -> bool:
        """Wait for a place; False (and no place) once the batch is stopping."""
        with self._cond:
            while True:
                if self.stopped:
                    return False
                now = self.clock()
                wait = self.wait_time(now)
                if wait == 0:
                    self.running += 1
                    self.peak = max(self.peak, self.running)
                    self._starts.append(now)
                    return True
                self._cond.wait(timeout=wait)

    def release(self, *, tokens: int = 0, ok: bool = True) -> None:
        """A request ended: its tokens count against ``--tpm``; a success may raise the limit."""
        with self._cond:
            self.running -= 1
            if tokens > 0:
                self._answered.append((self.clock(), tokens))
                self._tokens += tokens
            if ok:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.ceiling:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()

    def rate_limited(self, delay: float) -> None:
        """A 429: hold new requests for ``delay``, and halve the limit, at most once per
        ``COOLDOWN`` (or per pause, if longer): the 429s of requests already in flight
        answer the same excess."""
        with self._cond:
            now = self.clock()
            if now >= self._calm_at:
                self.limit = max(1, self.limit // 2)
                self._calm_at = now + max(delay, COOLDOWN)
                self._streak = 0
            self._paused_until = max(self._paused_until, now + max(delay, 0.0))
            self._cond.notify_all()

    def stop(self) -> None:
        """Start nothing more (Ctrl-C, the budget reached); those running go on."""
        with self._cond:
            self.stopped = True
            self._cond.notify_all()
