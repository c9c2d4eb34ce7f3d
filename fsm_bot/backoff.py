"""How long to wait before trying again: one rule for every retry of the bot (VK calls, the long poll,
database transactions, events waiting for the database).

The wait doubles with each failed try so that an outage does not become a flood of retries, up to a cap,
and is random within [d/2, d] ("equal jitter", AWS Architecture Blog, "Exponential Backoff And Jitter",
2015) so that the workers and bots that failed at the same moment do not all come back in the same
millisecond. Free of the rest of the bot, so every floor may use it.
"""

from __future__ import annotations

import math
import random


def backoff_delay(attempt: int, first: float, cap: float = math.inf, rng: random.Random | None = None) -> float:
    """The wait after failed try number `attempt` (1, 2, ...): d = first * 2**(attempt - 1), at most `cap`,
    and the wait a random time in [d/2, d]."""
    ceiling = min(cap, first * 2.0 ** min(max(attempt, 1) - 1, 64))  # 64: 2**n stays a float, not an overflow
    uniform = rng.uniform if rng is not None else random.uniform
    return uniform(ceiling / 2, ceiling)
