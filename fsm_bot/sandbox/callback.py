"""Callback API push: the sandbox POSTs updates to the bot's HTTP endpoint like VK does.

Per server: first ``{"type": "confirmation", ...}`` whose answer must be the confirmation code, then every
wanted update as the envelope plus ``"secret"``. An answer other than HTTP 200 with body ``ok`` is retried with
the header ``X-Retry-Counter: n`` after a short backoff, then dropped and counted (VK_PROTOCOL.md, "Callback
API"). Pushing runs in one background task per server, so it never slows the API.

By default one update is in flight at a time, in order, over one keep-alive connection. A server may ask for
up to :data:`MAX_CONNECTIONS` lanes (updates in flight at once, like VK pushing to a busy bot) and for a new
TCP connection per POST (``keep_alive=False``), so that a bot running several worker processes on one
listening socket gets its updates spread over them by the kernel.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from .events import EventSettings

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4)  # after the first try; then the update is dropped
CONFIRM_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0)  # the bot may still be starting
POST_TIMEOUT = 5.0
MAX_QUEUED = 10_000
MAX_SERVERS = 10  # VK allows 10 callback servers per community
MAX_CONNECTIONS = 16  # updates in flight at once per server


@dataclass
class CallbackServer:
    """One configured destination (``groups.addCallbackServer`` or ``POST /sandbox/callback``)."""

    id: int
    url: str
    title: str
    secret: str
    settings: EventSettings = field(default_factory=EventSettings)
    connections: int = 1  # lanes: updates in flight at once; order is kept only with 1
    keep_alive: bool = True  # False: a new TCP connection per POST
    status: str = "wait"  # VK's statuses: unconfigured, failed, wait, ok
    delivered: int = 0
    dropped: int = 0
    retries: int = 0

    def vk_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "creator_id": 0,
            "url": self.url,
            "secret_key": self.secret,
            "status": self.status,
        }

    def control_view(self, confirmation: str) -> dict[str, Any]:
        return {
            "url": self.url,
            "secret": self.secret,
            "confirmation": confirmation,
            "status": self.status,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "retries": self.retries,
            "connections": self.connections,
            "keep_alive": self.keep_alive,
        }


class Pusher:
    """Delivers one server's updates from a background task on the running event loop.

    After the single confirmation handshake, ``server.connections`` lanes each take the next queued update
    and deliver it (retries included) before taking another; one lane therefore keeps the order. Counters
    are only changed on the event loop thread, between awaits, so concurrent lanes need no lock.
    """

    def __init__(self, server: CallbackServer, group_id: int, confirmation: str) -> None:
        self.server = server
        self.group_id = group_id
        self.confirmation = confirmation
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_QUEUED)
        # One session per lane keeps one connection each; None means a fresh connection per POST.
        self._sessions: list[requests.Session | None] = [
            requests.Session() if server.keep_alive else None for _ in range(server.connections)
        ]
        # Its own threads: the loop's default executor may be smaller than the lanes (and shared).
        self._executor = ThreadPoolExecutor(max_workers=server.connections, thread_name_prefix="sandbox-callback")
        self._task = asyncio.get_running_loop().create_task(self._run())

    def offer(self, envelope: dict[str, Any]) -> None:
        if self.server.status == "failed":
            self.server.dropped += 1
            return
        try:
            self._queue.put_nowait(envelope)
        except asyncio.QueueFull:
            self.server.dropped += 1

    def stop(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        try:
            if not await self._confirm():
                self.server.status = "failed"
                self.server.dropped += self._queue.qsize()
                logger.warning("callback server %s did not confirm; updates are dropped", self.server.url)
                return
            self.server.status = "ok"
            async with asyncio.TaskGroup() as lanes:  # a failing lane stops the others; cancelling stops all
                for session in self._sessions:
                    lanes.create_task(self._lane(session))
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not kill the loop thread's other work silently
            logger.exception("callback pusher for %s stopped", self.server.url)
        finally:
            self._close()

    def _close(self) -> None:
        for session in self._sessions:
            if session is not None:
                session.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _confirm(self) -> bool:
        """The handshake, on the first lane's connection, before any update is sent."""
        body: dict[str, Any] = {"type": "confirmation", "group_id": self.group_id}
        if self.server.secret:
            body["secret"] = self.server.secret
        for attempt, delay in enumerate((0.0, *CONFIRM_DELAYS)):
            await asyncio.sleep(delay)
            answer = await self._post(body, attempt, self._sessions[0])
            if answer is not None and answer[0] == 200 and answer[1].strip() == self.confirmation:
                return True
        return False

    async def _lane(self, session: requests.Session | None) -> None:
        while True:
            await self._deliver(await self._queue.get(), session)

    async def _deliver(self, envelope: dict[str, Any], session: requests.Session | None) -> None:
        """One update with its retries, all from this lane (without keep-alive each retry is a new connection)."""
        if self.server.secret:
            envelope = {**envelope, "secret": self.server.secret}
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
            if attempt:
                self.server.retries += 1
                await asyncio.sleep(delay)
            answer = await self._post(envelope, attempt, session)
            if answer is not None and answer[0] == 200 and answer[1].strip() == "ok":
                self.server.delivered += 1
                return
        self.server.dropped += 1
        logger.warning("callback update %s dropped after %d tries", envelope.get("event_id"), attempt + 1)

    async def _post(
        self, body: dict[str, Any], attempt: int, session: requests.Session | None
    ) -> tuple[int, str] | None:
        """POST from a worker thread; ``session`` None: a one-off connection, closed after the answer."""
        headers = {"X-Retry-Counter": str(attempt)} if attempt else {}
        if session is None:
            headers["Connection"] = "close"
        send = session.post if session is not None else requests.post
        call = functools.partial(send, self.server.url, json=body, headers=headers, timeout=POST_TIMEOUT)
        try:
            response = await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except requests.RequestException:
            return None
        return response.status_code, response.text


#: Fixed, like the tokens, so that a bot's settings can name it before the sandbox starts.
CONFIRMATION_CODE = "5a4db0c1"


class Callbacks:
    """The community's callback servers and its confirmation code."""

    def __init__(self, group_id: int) -> None:
        self.group_id = group_id
        self.confirmation = CONFIRMATION_CODE
        self.servers: dict[int, CallbackServer] = {}
        self._pushers: dict[int, Pusher] = {}
        self._next_id = 1

    def add(
        self, url: str, title: str, secret: str, *, connections: int = 1, keep_alive: bool = True
    ) -> CallbackServer:
        """Register a server and start its confirmation handshake (must run on the event loop)."""
        server = CallbackServer(
            id=self._next_id, url=url, title=title, secret=secret, connections=connections, keep_alive=keep_alive
        )
        self._next_id += 1
        self.servers[server.id] = server
        self._restart(server)
        return server

    def edit(self, server: CallbackServer, url: str, title: str, secret: str) -> None:
        server.url, server.title, server.secret = url, title, secret
        server.status = "wait"
        self._restart(server)

    def delete(self, server_id: int) -> None:
        self.servers.pop(server_id, None)
        pusher = self._pushers.pop(server_id, None)
        if pusher is not None:
            pusher.stop()

    def clear(self) -> None:
        for server_id in list(self.servers):
            self.delete(server_id)

    def first(self) -> CallbackServer | None:
        return next(iter(self.servers.values()), None)

    def wanted_by_any(self, event_type: str) -> bool:
        return any(self.servers[server_id].settings.wants(event_type) for server_id in self._pushers)

    def drop(self, event_type: str) -> None:
        """An update lost on its way (the ``drop`` fault): counted in each server's ``dropped`` that wanted it."""
        for server_id in self._pushers:
            server = self.servers[server_id]
            if server.settings.wants(event_type):
                server.dropped += 1

    def offer(self, event_type: str, make_envelope: Any) -> None:
        for server_id, pusher in self._pushers.items():
            settings = self.servers[server_id].settings
            if settings.wants(event_type):
                pusher.offer(make_envelope(settings.api_version))

    def _restart(self, server: CallbackServer) -> None:
        old = self._pushers.pop(server.id, None)
        if old is not None:
            old.stop()
        self._pushers[server.id] = Pusher(server, self.group_id, self.confirmation)
