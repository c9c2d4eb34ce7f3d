"""The durable inbox between VK's event sources and the dispatcher.

Sources call `accept`; the events (and the Long Poll cursor after them) are committed in one
transaction before the source moves on or the callback endpoint answers "ok". The dispatcher then
claims events and marks each handled in the transaction that holds its effects.

One process on SQLite reads the inbox in order from where it last read. Several processes on
PostgreSQL lease events to themselves (`InboxRepository.claim`): one user's events go to one
worker at a time, and a dead worker's events are taken over when the lease runs out.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.db import is_transient
from fsm_bot.storage.repositories import CursorRepository, InboxRepository, ReceivedEvent
from fsm_bot.storage.repositories.communities import CommunityRepository
from fsm_bot.vk.events import IncomingEvent, MalformedEvent, message_key, parse_update

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)
# What PostgreSQL's jsonb refuses in text: a lone UTF-16 surrogate (a Python str holds no paired one), NUL.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def worker_name() -> str:
    """Who holds a lease, for people reading the table: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _with_text_repaired(event: ReceivedEvent) -> ReceivedEvent:
    """The event with the characters no database can hold replaced by U+FFFD."""
    text = _UNSTORABLE.sub("\ufffd", json.dumps(event.payload, ensure_ascii=False))
    return ReceivedEvent(event.event_id, event.type, event.user_id, json.loads(text), event.message_key)


@dataclass(frozen=True)
class QueuedEvent:
    """An inbox row on its way to a flow: read from the envelope once, when it is claimed."""

    row_id: int
    user_id: int | None
    event: IncomingEvent | None  # None: the envelope cannot be read; the handler sets it aside

    @property
    def peer_id(self) -> int | None:
        return self.event.peer_id if self.event is not None else None


def _parsed(payload: Any) -> IncomingEvent | None:
    try:
        return parse_update(payload)
    except MalformedEvent as error:
        log.warning("inbox: an event that cannot be read is set aside: %s", error)
    except Exception:  # a parser bug must not stop the dispatcher: that event alone is set aside
        log.exception("inbox: the parser failed on an event; it is set aside")
    return None


class Inbox:
    """EventSink for one community, backed by the processed_event table."""

    def __init__(self, database: Database, community_id: int, lease: timedelta = DEFAULT_LEASE) -> None:
        self.database = database
        self.community_id = community_id
        self.lease = lease
        self.shared = database.backend == "postgresql"
        self.worker = worker_name()
        self._read_up_to = 0
        self._arrived = threading.Condition()
        self._generation = 0
        database.transaction(lambda session: CommunityRepository(session).ensure(community_id))

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        received = [
            ReceivedEvent(event.event_id, event.type, event.user_id, event.raw, message_key(event))
            for event in events
            if event.group_id == self.community_id
        ]
        if len(received) != len(events):
            log.warning("dropped %d event(s) addressed to another community", len(events) - len(received))

        if not received and cursor is None:
            return
        try:
            added = self._store(received, cursor)
        except Exception as error:
            if isinstance(error, DBAPIError) and is_transient(error):
                raise  # the source offers the same events again: nothing is lost
            # One event the database cannot take (PostgreSQL's jsonb refuses a lone UTF-16 surrogate,
            # which JSON can escape): the whole batch failed, and would fail at every offer, holding up
            # everyone after it. Each event on its own, then, and the cursor after them.
            log.warning(
                "inbox: a batch of %d event(s) could not be stored (%s); storing one by one",
                len(received),
                type(error).__name__,
            )
            added = sum(self._store_alone(event) for event in received)
            self._store([], cursor)
        if added:
            with self._arrived:
                self._generation += 1
                self._arrived.notify_all()

    def _store(self, received: list[ReceivedEvent], cursor: str | None) -> int:
        def store(session: Session) -> int:
            added = InboxRepository(session, self.community_id).add(received) if received else 0
            if cursor is not None:
                CursorRepository(session, self.community_id).set(cursor)
            return added

        return self.database.transaction(store)

    def _store_alone(self, event: ReceivedEvent) -> int:
        """One event; if refused as it is, with the characters no database can hold replaced; if refused
        even so, logged and left out rather than blocking the stream."""
        for attempt in (event, _with_text_repaired(event)):
            try:
                return self._store([attempt], None)
            except DBAPIError as error:
                if is_transient(error):
                    raise
            except (UnicodeError, ValueError, TypeError):
                pass
        log.error("inbox: event %s (%s) cannot be stored and is left out", event.event_id[:64], event.type)
        return 0

    def claim(self, limit: int) -> list[QueuedEvent]:
        """Events this process should handle now, oldest first, each parsed here once for its whole way."""
        if self.shared:
            rows = self.database.transaction(
                lambda session: InboxRepository(session, self.community_id).claim(self.worker, self.lease, limit)
            )
        else:
            rows = self.database.transaction(
                lambda session: [
                    (row.id, row.user_id, row.payload)
                    for row in InboxRepository(session, self.community_id).pending(limit, self._read_up_to)
                ]
            )
            if rows:
                self._read_up_to = rows[-1][0]
        return [QueuedEvent(row_id, user_id, _parsed(payload)) for row_id, user_id, payload in rows]

    def take_over(self) -> None:
        """At the start of the only process: events the previous run had leased are ours now, not
        after their leases run out (several processes wait for the lease instead)."""
        if self.shared:
            taken = self.database.transaction(lambda session: InboxRepository(session, self.community_id).release_all())
            if taken:
                log.info("%d event(s) the last run had taken are handled now", taken)

    def release(self, row_id: int) -> None:
        """Hand an event back, to be claimed again in its user's order."""
        if self.shared:
            self.database.transaction(lambda session: InboxRepository(session, self.community_id).release(row_id))
        else:
            self._read_up_to = min(self._read_up_to, row_id - 1)

    def resume_cursor(self) -> str | None:
        return self.database.transaction(lambda session: CursorRepository(session, self.community_id).get())

    def known_messages(self, keys: Sequence[str]) -> set[str]:
        """The message keys already stored (CatchUpSink): a catch-up offers only the others."""
        return self.database.transaction(
            lambda session: InboxRepository(session, self.community_id).known_messages(keys)
        )

    def backlog(self) -> int:
        """Events still to be handled (CatchUpSink): a catch-up waits while live events would queue behind it."""
        return self.database.transaction(lambda session: InboxRepository(session, self.community_id).backlog())

    def wait_for_events(self, seen_generation: int, timeout: float) -> int:
        """Block until something new arrived after `seen_generation` (or timeout); returns the new one."""
        with self._arrived:
            self._arrived.wait_for(lambda: self._generation != seen_generation, timeout)
            return self._generation
