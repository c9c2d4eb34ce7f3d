"""Which process runs the scheduler: the one holding a PostgreSQL advisory lock.

APScheduler's SQLAlchemy job store is not made for several schedulers at once (each would run
every due job), so among the processes sharing a database exactly one schedules. It holds a
session-level advisory lock on a connection of its own; when that process dies its connection
closes, PostgreSQL drops the lock, and a waiting process takes it at its next try (every
`check_seconds`). The same connection LISTENs, so the other processes can ask the leader to re-plan
reminders at once (`request`) instead of at its next five-minute plan.

On SQLite there is one process, and it leads from the start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from fsm_bot.storage import Database

log = logging.getLogger(__name__)

LOCK_NAME = "fsm_bot:scheduler"
CHANNEL = "fsm_bot_requests"
DEFAULT_CHECK_SECONDS = 2.0


class Leadership:
    """Try to lead; call `on_elected` each time this process becomes the leader, `on_lost` when it
    stops being it (its connection broke; it keeps trying to lead again), and `on_request` with each
    payload another process sent to the leader."""

    def __init__(
        self,
        database: Database,
        on_elected: Callable[[], None],
        on_lost: Callable[[Exception], None],
        on_request: Callable[[str], None] | None = None,
        check_seconds: float = DEFAULT_CHECK_SECONDS,
    ) -> None:
        self.database = database
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.on_request = on_request
        self.check_seconds = check_seconds
        self.shared = database.backend == "postgresql"
        self.leading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def start(self) -> None:
        """Take the lead at once if it is free (so a lone process starts its jobs before taking
        events), then keep trying, or keep the lock, in the background."""
        if not self.shared:
            self._become_leader()
            return
        if self._try_lock():
            self._become_leader()
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.check_seconds + 5)
        self._close()

    def request(self, payload: str) -> None:
        """Ask the leader (whichever process it is, perhaps this one) to do something now."""
        if not self.shared or self.leading.is_set():
            if self.on_request is not None:
                self.on_request(payload)
            return
        self.database.transaction(
            lambda session: session.execute(
                text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
            )
        )

    # --- the background thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.leading.is_set():
                    self._serve_requests()
                elif self._try_lock():
                    self._become_leader()
                else:
                    self._stop.wait(self.check_seconds)
            except Exception as error:
                if self._stop.is_set():
                    return
                self._close()
                if self.leading.is_set():
                    # The lock went with the connection (a database restart, a network cut), and
                    # another process may hold it already: stop scheduling, then try to lead again.
                    log.error("this process no longer runs the scheduler (%s); trying to take it again", error)
                    self.leading.clear()
                    self.on_lost(error)
                else:
                    log.warning("leadership check failed (%s); trying again", type(error).__name__)
                self._stop.wait(self.check_seconds)

    def _try_lock(self) -> bool:
        connection = self._open()
        # Named after the schema too: two deployments in one database (or two test schemas) each lead.
        # No parameters: the engine's connections take PostgreSQL's $n placeholders (storage/db.py), and
        # the name is a constant of ours.
        taken = connection.execute(
            f"SELECT pg_try_advisory_lock(hashtextextended('{LOCK_NAME}' || current_schema(), 0))"
        ).fetchone()[0]
        if taken:
            connection.execute(f"LISTEN {CHANNEL}")
        return bool(taken)

    def _serve_requests(self) -> None:
        connection = self._open()
        for notice in connection.notifies(timeout=self.check_seconds, stop_after=100):
            if self.on_request is not None:
                try:
                    self.on_request(notice.payload)
                except Exception:
                    log.exception("request %r from another process failed", notice.payload)
        connection.execute("SELECT 1")  # the lock lives as long as this connection: make sure it does

    def _become_leader(self) -> None:
        self.leading.set()
        log.info("process %d runs the scheduler", os.getpid())
        self.on_elected()

    def _open(self) -> Any:
        if self._connection is None:
            raw = self.database.engine.raw_connection()
            raw.detach()  # ours for as long as we lead: the pool must never hand it to anyone else
            connection = raw.dbapi_connection
            if connection is None:  # only after the pool invalidated it, which a fresh connection never is
                raise RuntimeError("the pool handed out a closed connection")
            connection.autocommit = True
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # it may be broken already: that is why we close it
                self._connection.close()
            self._connection = None
