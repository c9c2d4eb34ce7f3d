"""VK's per-token request rate limit (20 per second for community tokens, VK_PROTOCOL.md)."""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    """A sliding one-second window per token; ``limit`` 0 or None means unlimited."""

    def __init__(self, limit: int | None, window: float = 1.0) -> None:
        self.limit = limit or None
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def allow(self, token: str) -> bool:
        """Count a request and say whether it is within the limit; refused requests do not use the budget."""
        if self.limit is None:
            return True
        now = time.monotonic()
        hits = self._hits.get(token)
        if hits is None:
            hits = self._hits[token] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True
