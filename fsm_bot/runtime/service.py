"""One bot process: every community of the settings file, sharing one database pool, one
scheduler and one callback endpoint.

`fsm-bot run` runs a Service. Several Services (processes) may run against one PostgreSQL
database: `fsm-bot run --workers N` starts N of them behind one port (fsm_bot.runtime.workers), or a
deployment starts them as separate units. What keeps them consistent lives in the database:
leased inbox events, SKIP LOCKED outbox claims with leases, and the scheduler's advisory lock
(fsm_bot.scheduler.leadership).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fsm_bot.config import Settings
from fsm_bot.runtime.bot import Bot, BotFailed, SharedParts, start_callback_endpoint
from fsm_bot.scheduler import BotScheduler
from fsm_bot.scheduler.leadership import Leadership
from fsm_bot.storage import Database, upgrade_to_head

log = logging.getLogger(__name__)


class Service:
    def __init__(self, settings: Settings, listen_fd: int | None = None) -> None:
        self.settings = settings
        self.listen_fd = listen_fd
        self.database = Database(settings.database.url, echo=settings.database.echo)
        self.scheduler = BotScheduler(self.database.engine, settings.timezone)
        self.leadership = Leadership(
            self.database,
            on_elected=self._elected,
            on_lost=self._lost,
            on_request=self._request,
            check_seconds=settings.engine.leader_check_seconds,
        )
        shared = SharedParts(self.database, self.scheduler, self.leadership)
        self.bots = [Bot(community, shared) for community in settings.per_community()]
        if not self.bots:
            raise BotFailed("no community to serve: set vk.group_id (or list communities)")
        self.failure: Exception | None = None
        self._callback_server: Any = None
        self._callback_thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        """Start everything, or (on a failure) stop what had started and raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        revision = upgrade_to_head(self.database.engine)
        log.info("database at revision %s", revision)
        for bot in self.bots:
            bot.start()
        self.leadership.start()
        if self.settings.vk.mode == "longpoll":
            for bot in self.bots:
                bot.start_long_poll()
        else:
            self._callback_server, self._callback_thread = start_callback_endpoint(
                self.settings.vk.callback, [bot.callback_community() for bot in self.bots], self.listen_fd
            )
        for bot in self.bots:
            bot.log_running()

    def wait(self, stop_requested: threading.Event) -> None:
        """Run until `stop_requested` or until a bot or the leadership fails; BotFailed says why."""
        while not stop_requested.wait(0.5) and self.failure is None:
            for bot in self.bots:
                bot.check_source()
                if bot.stopped.is_set() and self.failure is None:
                    self.failure = bot.failure or BotFailed(f"the bot for community {bot.community_id} stopped")
        self.stop()
        if self.failure is not None:
            raise BotFailed(str(self.failure)) from self.failure  # the cause tells a refused key from the rest

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._callback_server is not None:
            self._callback_server.should_exit = True
            if self._callback_thread is not None:
                self._callback_thread.join(10)
        self.scheduler.stop()  # before the bots: a job must not fire into a stopped bot
        self.leadership.stop()  # another process may lead from now on
        for bot in self.bots:
            bot.stop()
        self.database.dispose()
        log.info("process stopped")

    # --- leadership

    def _elected(self) -> None:
        self.scheduler.start()
        for bot in self.bots:
            bot.lead()

    def _lost(self, error: Exception) -> None:
        self.scheduler.pause()  # until this process leads again (Leadership keeps trying)

    def _request(self, payload: str) -> None:
        for bot in self.bots:
            bot.serve_request(payload)
