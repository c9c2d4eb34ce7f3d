"""Bots Long Poll: a numbered, bounded history of updates and the ``a_check`` endpoint that serves it.

A held poll is one coroutine waiting on a future, so hundreds of them cost little. ``ts`` numbers keep
growing across resets so that a client polling with a pre-reset ``ts`` is told ``failed: 1``, as VK would.
The history is bounded by count and, when configured, by age (VK keeps long-poll events only for a while
and answers an older ``ts`` with ``failed: 1``; VK_PROTOCOL.md, "Bots Long Poll").
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .events import EventSettings
from .transport import disconnect, http_500

HISTORY_SIZE = 10_000  # updates kept for clients that reconnect with an old ts
MAX_HISTORY_SIZE = 100_000  # the most a test may ask to keep (all in memory)
MAX_HISTORY_SECONDS = 7 * 24 * 3600
MAX_UPDATES = 1_000  # updates in one answer; the rest come with the next poll
MAX_WAIT = 90
MAX_KEYS = 1_000


class LongPoll:
    """The Bots Long Poll server of one community."""

    def __init__(
        self, group_id: int, history_size: int = HISTORY_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``clock`` dates updates for the age bound (monotonic seconds; replaceable by a fake clock)."""
        self.group_id = group_id
        self.settings = EventSettings()
        self.default_history_size = history_size
        self.history_seconds: float | None = None  # None: no age bound, only the count
        self.clock = clock
        self._history: deque[tuple[int, float, dict[str, Any]]] = deque(maxlen=history_size)
        self._next_ts = 1
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def history_events(self) -> int:
        """How many updates are kept at most."""
        return self._history.maxlen or 0

    def configure(self, *, history_events: int | None = None, history_seconds: Any = ...) -> None:
        """Bound the history by count and/or by age (``history_seconds`` None: by count only); applies at once."""
        if history_events is not None:
            self._history = deque(self._history, maxlen=history_events)
        if history_seconds is not ...:
            self.history_seconds = history_seconds
        self._expire()

    def config_view(self) -> dict[str, Any]:
        """The shape of ``/sandbox/longpoll/config`` (an extension, README.md)."""
        return {"history_events": self.history_events, "history_seconds": self.history_seconds, "ts": self.ts}

    def _expire(self) -> None:
        """Forget updates older than the age bound; a client still at their ts gets ``failed: 1``."""
        if self.history_seconds is None:
            return
        oldest_kept = self.clock() - self.history_seconds
        while self._history and self._history[0][1] < oldest_kept:
            self._history.popleft()

    @property
    def ts(self) -> int:
        """The ts a fresh client starts from: the number the next update will get."""
        return self._next_ts

    @property
    def held(self) -> int:
        """How many polls are waiting right now."""
        return len(self._waiters)

    def new_key(self) -> str:
        key = secrets.token_hex(20)
        self._keys[key] = None
        while len(self._keys) > MAX_KEYS:
            self._keys.popitem(last=False)
        return key

    def key_valid(self, key: str) -> bool:
        return key in self._keys

    def expire_key(self, key: str) -> None:
        self._keys.pop(key, None)

    def offer(self, event_type: str, make_envelope: Any) -> None:
        """Keep an update if this server's settings want it; ``make_envelope(version)`` builds it."""
        if not self.settings.wants(event_type):
            return
        self._expire()
        self._history.append((self._next_ts, self.clock(), make_envelope(self.settings.api_version)))
        self._next_ts += 1
        self._wake()

    def read(self, ts: int) -> tuple[list[dict[str, Any]], int] | None:
        """Updates numbered ``ts`` and later with the ts to poll next, or None if ``ts`` is out of the history."""
        self._expire()
        if ts < self.oldest_ts or ts > self._next_ts:
            return None
        start = ts - self.oldest_ts
        # deque indexing walks from the nearer end, and polls read near the tail: cheap in practice
        stop = min(start + MAX_UPDATES, len(self._history))
        updates = [self._history[index][2] for index in range(start, stop)]
        return updates, ts + len(updates)

    @property
    def oldest_ts(self) -> int:
        """The ts of the oldest update still held (the next ts when none is).

        ``failed: 1`` answers it, so a client that fell behind skips only the updates that are gone and
        still gets those the server holds ("history outdated or partly lost", VK_PROTOCOL.md). vk_api's
        ``VkBotLongPoll.check`` simply polls again with the ``ts`` of a ``failed: 1``.
        """
        return self._history[0][0] if self._history else self._next_ts

    async def wait(self, timeout: float) -> None:
        """Until an update arrives, the server is reset, or ``timeout`` seconds pass."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            if future in self._waiters:
                self._waiters.remove(future)

    def reset(self) -> None:
        """Forget updates, keys and history bounds (held polls wake up and get ``failed: 2``); ts keeps counting."""
        self._history = deque(maxlen=self.default_history_size)
        self.history_seconds = None
        self._keys.clear()
        self.settings = EventSettings()
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)


CLOSING_CHECK = 1.0  # seconds between looks at `Sandbox.closing` while a poll is held


async def poll_endpoint(request: Request) -> Response:
    """``GET|POST /whp/{group_id}?act=a_check&key=K&ts=T&wait=N`` (VK_PROTOCOL.md, "Bots Long Poll")."""
    sandbox = request.app.state.sandbox
    longpoll: LongPoll = sandbox.longpoll
    values = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    key = values.get("key", "")
    fault = sandbox.faults.take("longpoll")
    if fault is not None:
        sandbox.journal.record("longpoll", fault=fault)
    if fault == "http_500":
        return http_500()
    if fault == "disconnect":
        return await disconnect(request)
    if fault == "failed_1":
        return JSONResponse({"failed": 1, "ts": longpoll.ts})
    if fault in ("failed_2", "failed_3"):
        longpoll.expire_key(key)
        return JSONResponse({"failed": 2} if fault == "failed_2" else {"failed": 3})

    if str(longpoll.group_id) != request.path_params["group_id"] or not longpoll.key_valid(key):
        sandbox.journal.record("longpoll", failed=2)
        return JSONResponse({"failed": 2})
    if values.get("act") != "a_check":
        return JSONResponse({"failed": 2})  # the real server answers nothing useful to other acts either
    try:
        ts = int(values.get("ts", ""))
        wait = min(max(int(values.get("wait", "25")), 0), MAX_WAIT)
    except ValueError:
        return JSONResponse({"failed": 1, "ts": longpoll.ts})

    deadline = asyncio.get_running_loop().time() + wait
    while True:
        found = longpoll.read(ts)
        if found is None:
            sandbox.journal.record("longpoll", failed=1)
            skip_to = longpoll.oldest_ts if ts < longpoll.oldest_ts else longpoll.ts  # a future ts: start afresh
            return JSONResponse({"failed": 1, "ts": skip_to})
        updates, next_ts = found
        remaining = deadline - asyncio.get_running_loop().time()
        if updates or remaining <= 0 or sandbox.closing:
            if updates:
                types = [update["type"] for update in updates[:5]]
                sandbox.journal.record("longpoll", updates=types, count=len(updates))
            return JSONResponse({"ts": str(next_ts), "updates": updates})
        # In slices, so a server that is shutting down (`closing`, set from another thread) answers
        # its held polls within a second instead of having uvicorn cancel them mid-wait.
        await longpoll.wait(min(remaining, CLOSING_CHECK))
        if not longpoll.key_valid(key):
            sandbox.journal.record("longpoll", failed=2)
            return JSONResponse({"failed": 2})
