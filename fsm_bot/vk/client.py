"""VkClient: every VK call the bot makes, paced per token and retried where VK says "later".

Each token is a lane with its own limiter and a few vk_api sessions: vk_api serialises calls of
one VkApi object under a lock (VkApi.method), so one object per token would make every call wait
for the previous answer even when the token has budget left.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from vk_api.exceptions import ApiError, ApiHttpError

from fsm_bot.backoff import backoff_delay
from fsm_bot.vk.errors import Outcome, VkAuthError, VkCallError, VkUnavailableError, classify
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.transport import GatewayVkApi, make_vk_api

log = logging.getLogger(__name__)

ApiFactory = Callable[[str], GatewayVkApi]

# Network trouble and non-JSON answers (a proxy's HTML 502) are VK being unavailable, not a bug.
_TRANSIENT_EXCEPTIONS = (requests.RequestException, ApiHttpError, json.JSONDecodeError)


class Lane:
    """One token: its limiter and a small pool of vk_api sessions."""

    def __init__(self, token: str, limiter: RateLimiter, factory: ApiFactory, connections: int) -> None:
        self.limiter = limiter
        self._sessions: queue.LifoQueue[GatewayVkApi] = queue.LifoQueue()
        for _ in range(connections):
            self._sessions.put(factory(token))

    @contextmanager
    def session(self) -> Iterator[GatewayVkApi]:
        api = self._sessions.get()
        try:
            yield api
        finally:
            self._sessions.put(api)


@dataclass(frozen=True)
class Slot:
    """One request's place in a token's budget, taken before the request is assembled."""

    lane: Lane
    stamp: float


class VkClient:
    """Calls VK methods; raises VkAuthError, VkCallError (final) or VkUnavailableError (retries ran out)."""

    def __init__(
        self,
        tokens: list[str],
        api_url: str,
        api_version: str = "5.199",
        rps_limit: int = 20,
        connections_per_token: int = 4,
        max_attempts: int = 6,
        base_delay: float = 0.25,
        max_delay: float = 15.0,
        factory: ApiFactory | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if not tokens:
            raise ValueError("at least one token is needed")
        make = factory or (lambda token: make_vk_api(token, api_url, api_version))
        self.lanes = [Lane(token, RateLimiter(rps_limit), make, connections_per_token) for token in tokens]
        self._rotation = itertools.cycle(range(len(self.lanes)))
        self._rotation_lock = threading.Lock()
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.stop = stop or threading.Event()
        self.auth_failure: VkAuthError | None = None

    def reserve(self) -> Slot:
        """Wait for, and take, one request slot on the lane that has one soonest."""
        with self._rotation_lock:
            start = next(self._rotation)
        ordered = self.lanes[start:] + self.lanes[:start]
        for lane in ordered:
            stamp = lane.limiter.try_acquire()
            if stamp is not None:
                return Slot(lane, stamp)
        lane = min(ordered, key=lambda candidate: candidate.limiter.delay())
        stamp = lane.limiter.acquire(self.stop)
        if stamp is None:
            raise VkUnavailableError("(any)", 0, "the bot is stopping")
        return Slot(lane, stamp)

    def spare_slot(self) -> Slot | None:
        """A slot only if a lane has half its window unused now: for courtesies ("typing...") that must never
        delay a reply by taking a request the sender is about to need; None otherwise."""
        for lane in self.lanes:
            stamp = lane.limiter.try_acquire(keep_free=lane.limiter.rate // 2)
            if stamp is not None:
                return Slot(lane, stamp)
        return None

    def call(
        self, method: str, params: dict[str, Any] | None = None, raw: bool = False, slot: Slot | None = None
    ) -> Any:
        """One VK method call with retries for 6, 9, 10 and network errors.

        `slot` is a slot already reserved (the sender reserves before it assembles a batch, so the
        batch holds everything that arrived while it waited); retries reserve their own slots.
        """
        if self.auth_failure is not None:
            raise self.auth_failure
        params = dict(params or {})
        for attempt in range(1, self.max_attempts + 1):
            if slot is not None and attempt == 1:
                slot.lane.limiter.restamp(slot.stamp)
                current = slot
            else:
                current = self.reserve()
            try:
                with current.lane.session() as api:
                    return api.method(method, params, raw=raw)
            except ApiError as error:
                outcome = classify(error.code)
                message = str(error.error.get("error_msg", ""))
                if outcome is Outcome.AUTH:
                    self.auth_failure = VkAuthError(method, error.code, message)
                    raise self.auth_failure from None
                if outcome is not Outcome.RETRY:
                    raise VkCallError(method, error.code, message) from None
                reason = f"VK error {error.code}"
                code = error.code
            except _TRANSIENT_EXCEPTIONS as error:
                reason = type(error).__name__
                code = 0
            if attempt == self.max_attempts:
                raise VkUnavailableError(method, code, f"gave up after {attempt} attempts ({reason})")
            delay = self.backoff(attempt, code)
            log.warning("%s: %s, retry %d in %.2fs", method, reason, attempt, delay)
            if self.stop.wait(delay):
                raise VkUnavailableError(method, code, "the bot is stopping")
        raise AssertionError("unreachable")

    def backoff(self, attempt: int, code: int) -> float:
        """The wait after failed try `attempt`; flood control (9) means "much later", not "in a moment"."""
        return backoff_delay(attempt, self.base_delay * (4 if code == 9 else 1), self.max_delay)
