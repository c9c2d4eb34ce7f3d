"""How long to wait before reconnecting to VK after a failure, and how to tell people about an outage.

The delay follows fsm_bot.backoff (doubling, capped, with jitter) over a run of failures, and the run
starts again after the first success.

An outage is logged twice, when it starts and when it ends, not once per retry: a VK hiccup
retried every 30 s for an hour would otherwise bury every other line of the log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from fsm_bot.backoff import backoff_delay

DEFAULT_INITIAL_DELAY = 0.2
DEFAULT_MAX_DELAY = 30.0


class Backoff:
    """The waits of a run of failures: the n-th (from 0) is a random time in [d/2, d], d = initial * 2**n, capped."""

    def __init__(
        self,
        initial: float = DEFAULT_INITIAL_DELAY,
        maximum: float = DEFAULT_MAX_DELAY,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng
        self.attempts = 0

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        self.attempts += 1
        return backoff_delay(self.attempts, self.initial, self.maximum, self._rng)

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
