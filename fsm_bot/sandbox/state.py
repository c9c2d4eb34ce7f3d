"""The sandbox's whole VK: one community with its users, chats, messages, uploads, servers and counters.

Everything runs on the server's event loop thread (handlers mutate it synchronously), so no locks are
needed. Reading it from another thread (``SandboxServer.sandbox``) is fine for inspection only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from .callback import Callbacks
from .community_settings import CommunitySettings
from .demo import seed_demo
from .directory import Directory
from .events import envelope
from .faults import CALLBACK, Faults
from .journal import Journal
from .longpoll import LongPoll
from .mailbox import Mailbox
from .ratelimit import RateLimiter
from .stats import Stats
from .uploads import Uploads

#: Fixed so that a settings.yaml can name them; the first token is the one tests use by default.
GROUP_ID = 227000001
TOKENS = ("sandbox-token-1", "sandbox-token-2", "sandbox-token-3")
COMMUNITY_NAME = "Студенческий поток (sandbox)"
DEFAULT_RPS_LIMIT = 20


@dataclass(frozen=True)
class Community:
    group_id: int = GROUP_ID
    name: str = COMMUNITY_NAME
    tokens: tuple[str, ...] = TOKENS

    @property
    def screen_name(self) -> str:
        return f"club{self.group_id}"


class Sandbox:
    """The state behind every route; :meth:`reset` gives a fresh VK without restarting the server."""

    def __init__(
        self, *, rps_limit: int | None = DEFAULT_RPS_LIMIT, demo: bool = False, group_id: int = GROUP_ID
    ) -> None:
        """``group_id``: the community this sandbox plays (another id lets two sandboxes be two communities)."""
        if isinstance(group_id, bool) or not isinstance(group_id, int) or group_id <= 0:
            raise ValueError(f"group_id must be a positive integer, not {group_id!r}")
        self.community = Community(group_id=group_id)
        self.default_rps_limit = rps_limit
        self.base_url: str | None = None  # set by the server once it knows its port
        self.internal_errors = 0  # sandbox bugs answered as VK's error 10; tests assert it stays 0
        self.closing = False  # the server is stopping: held long polls answer now
        self.longpoll = LongPoll(self.community.group_id)
        self.callbacks = Callbacks(self.community.group_id)
        self.journal = Journal()  # what happened, for the playground's event log; numbering survives resets
        self.reset(demo=demo)

    def reset(self, *, rps_limit: int | EllipsisType | None = ..., demo: bool = False) -> None:
        """Forget users, messages, events, faults and stats; ``rps_limit`` omitted means the server's default."""
        self.directory = Directory()
        self.settings = CommunitySettings()  # messages and bots on, every right of the key
        self.mailbox = Mailbox()
        self.uploads = Uploads(self.community.group_id)
        self.stats = Stats()
        self.faults = Faults()
        limit = self.default_rps_limit if rps_limit is ... else rps_limit
        self.limiter = RateLimiter(limit)
        self.longpoll.reset()
        self.callbacks.clear()
        self.journal.clear()
        self.journal.record("reset", demo=demo)
        if demo:
            seed_demo(self.directory)

    def token_valid(self, token: str) -> bool:
        return token in self.community.tokens

    def wants(self, event_type: str) -> bool:
        """Whether the long poll or any callback server takes this type of update now."""
        return self.longpoll.settings.wants(event_type) or any(
            server.settings.wants(event_type) for server in self.callbacks.servers.values()
        )

    def emit(self, event_type: str, obj: dict[str, Any]) -> str:
        """Publish one update to the long poll and the callback servers that want its type; its event_id."""
        event_id = secrets.token_hex(20)
        group_id = self.community.group_id

        def make(version: str) -> dict[str, Any]:
            return envelope(group_id, event_type, obj, event_id, version)

        wanted = self.wants(event_type)
        if wanted:
            self.stats.events += 1
        self.journal.update(event_type, obj, wanted)
        self.longpoll.offer(event_type, make)
        if self.callbacks.wanted_by_any(event_type) and self.faults.take(CALLBACK) == "drop":
            self.callbacks.drop(event_type)  # never delivered, never retried: as after VK gave up
        else:
            self.callbacks.offer(event_type, make)
        return event_id

    def community_view(self, base_url: str) -> dict[str, Any]:
        """The shape of ``GET /sandbox/community`` (SANDBOX_API.md)."""
        server = self.callbacks.first()
        return {
            "group_id": self.community.group_id,
            "name": self.community.name,
            "tokens": list(self.community.tokens),
            "api_url": f"{base_url}/method/",
            "callback": server.control_view(self.callbacks.confirmation) if server else None,
        }
