"""How long to wait before reconnecting to VK after a failure, and how to tell people about an outage.

The delay grows exponentially so a VK outage does not become a flood of reconnects, and carries jitter
so that many bots (or several workers of one) that lost VK at the same moment do not all come back
in the same millisecond. It resets after the first success.

An outage is logged twice, when it starts and when it ends, not once per retry: a VK hiccup
retried every 30 s for an hour would otherwise bury every other line of the log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

DEFAULT_INITIAL_DELAY = 0.2
DEFAULT_MAX_DELAY = 30.0


class Backoff:
    """Exponential delays with jitter: attempt n waits a random time in [d/2, d], d = initial * 2**n, capped."""

    def __init__(
        self,
        initial: float = DEFAULT_INITIAL_DELAY,
        maximum: float = DEFAULT_MAX_DELAY,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("backoff needs 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._rng = rng or random.Random()
        self.attempts = 0

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        ceiling = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0


class Outage:
    """Counts a run of failures; logs its start once (warning) and its end once (info)."""

    def __init__(self, logger: logging.Logger, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.name = name
        self._clock = clock
        self.failures = 0
        self._started = 0.0

    @property
    def active(self) -> bool:
        return self.failures > 0

    def failed(self, reason: str) -> None:
        """One more failed attempt; `reason` must not contain secrets (it is logged as is)."""
        if self.failures == 0:
            self._started = self._clock()
            self.logger.warning("%s: %s; retrying", self.name, reason)
        else:
            self.logger.debug("%s: still failing (%s), attempt %d", self.name, reason, self.failures + 1)
        self.failures += 1

    def recovered(self) -> None:
        """A success: ends the outage, if there was one."""
        if self.failures == 0:
            return
        elapsed = self._clock() - self._started
        noun = "failure" if self.failures == 1 else "failures"
        self.logger.info("%s: recovered after %d %s / %.1f s", self.name, self.failures, noun, elapsed)
        self.failures = 0
