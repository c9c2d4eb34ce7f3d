"""Counters that tests read through ``GET /sandbox/stats`` to check what really happened at VK's side."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """``delivered`` counts copies that reached a peer: one ``peer_ids`` call to 100 users delivers 100."""

    calls: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    rate_limited: int = 0
    delivered: int = 0
    deduplicated: int = 0
    events: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "delivered": self.delivered,
            "deduplicated": self.deduplicated,
            "events": self.events,
        }
