"""Per-token request pacing, shared by every thread that uses the token.

VK counts requests per token per second and answers error 6 beyond 20 (VK_PROTOCOL.md). A plain
token bucket that starts full lets 2 x rate requests through in the first second and at every
idle-to-busy edge, which is exactly when VK says 6; a sliding window over the last `rate`
requests never exceeds `rate` in any one-second window. The window is padded a little because
requests reach VK with jitter, which can squeeze two of them closer than we sent them.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """At most `rate` acquisitions in any `window` seconds; `acquire` blocks until allowed."""

    def __init__(
        self,
        rate: int,
        window: float = 1.0,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.window = window * (1 + margin)
        self._clock = clock
        self._recent: list[float] = []  # times of the last `rate` requests, oldest first
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next acquisition would be allowed (0 when it would be now)."""
        with self._lock:
            return self._delay_locked(self._clock())

    def _delay_locked(self, now: float) -> float:
        expired = bisect.bisect_right(self._recent, now - self.window)
        if expired:
            del self._recent[:expired]
        if len(self._recent) < self.rate:
            return 0.0
        return self._recent[0] + self.window - now

    def try_acquire(self, keep_free: int = 0) -> float | None:
        """Take a slot now if one is free, and `keep_free` more besides (a courtesy call leaves the window's
        rest to the work that waits for it); returns its time stamp (see `restamp`), else None."""
        with self._lock:
            now = self._clock()
            if self._delay_locked(now) > 0 or len(self._recent) + keep_free >= self.rate:
                return None
            bisect.insort(self._recent, now)
            return now

    def restamp(self, stamp: float) -> None:
        """Move a slot taken earlier to now, the moment its request really leaves.

        A slot reserved before a batch is assembled would otherwise count from the reservation; the
        assembling takes a varying few milliseconds, and two requests reserved a window apart could
        reach VK less than a window apart.
        """
        with self._lock:
            index = bisect.bisect_left(self._recent, stamp)
            if index < len(self._recent) and self._recent[index] == stamp:
                del self._recent[index]
            bisect.insort(self._recent, max(stamp, self._clock()))

    def acquire(self, stop: threading.Event | None = None) -> float | None:
        """Wait for a slot and return its time stamp; None only if `stop` was set while waiting."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._delay_locked(now)
                if wait <= 0:
                    bisect.insort(self._recent, now)
                    return now
            if stop is not None:
                if stop.wait(wait):
                    return None
            else:
                time.sleep(wait)
