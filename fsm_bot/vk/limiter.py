"""Per-token request pacing, shared by every thread that uses the token.

VK counts requests per token per second and answers error 6 beyond 20 (VK_PROTOCOL.md). A plain
token bucket that starts full lets 2 x rate requests through in the first second and at every
idle-to-busy edge, which is exactly when VK says 6; a sliding window over the last `rate`
requests never exceeds `rate` in any one-second window. The window is padded a little because
requests reach VK with jitter, which can squeeze two of them closer than we sent them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next acquisition would be allowed (0 when it would be now)."""
        with self._lock:
            return self._delay_locked(self._clock())

    def _delay_locked(self, now: float) -> float:
        while self._recent and self._recent[0] <= now - self.window:
            self._recent.popleft()
        if len(self._recent) < self.rate:
            return 0.0
        return self._recent[0] + self.window - now

    def try_acquire(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._delay_locked(now) > 0:
                return False
            self._recent.append(now)
            return True

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a slot; False only if `stop` was set while waiting."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._delay_locked(now)
                if wait <= 0:
                    self._recent.append(now)
                    return True
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)
