"""The durable inbox between VK's event sources and the dispatcher.

Sources call `accept`; the events (and the Long Poll cursor after them) are committed in one
transaction before the source moves on or the callback endpoint answers "ok". The dispatcher then
takes `pending` events and marks each handled in the transaction that holds its effects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CursorRepository, InboxRepository, ReceivedEvent
from fsm_bot.storage.repositories.communities import CommunityRepository
from fsm_bot.vk.events import IncomingEvent

log = logging.getLogger(__name__)


class Inbox:
    """EventSink for one community, backed by the processed_event table."""

    def __init__(self, database: Database, community_id: int) -> None:
        self.database = database
        self.community_id = community_id
        self._arrived = threading.Condition()
        self._generation = 0
        database.transaction(lambda session: CommunityRepository(session).ensure(community_id))

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        received = [
            ReceivedEvent(event.event_id, event.type, event.user_id, event.raw)
            for event in events
            if event.group_id == self.community_id
        ]
        if len(received) != len(events):
            log.warning("dropped %d event(s) addressed to another community", len(events) - len(received))

        def store(session) -> int:  # type: ignore[no-untyped-def]
            added = InboxRepository(session, self.community_id).add(received)
            if cursor is not None:
                CursorRepository(session, self.community_id).set(cursor)
            return added

        added = self.database.transaction(store) if received or cursor is not None else 0
        if added:
            with self._arrived:
                self._generation += 1
                self._arrived.notify_all()

    def resume_cursor(self) -> str | None:
        return self.database.transaction(lambda session: CursorRepository(session, self.community_id).get())

    def wait_for_events(self, seen_generation: int, timeout: float) -> int:
        """Block until something new arrived after `seen_generation` (or timeout); returns the new one."""
        with self._arrived:
            self._arrived.wait_for(lambda: self._generation != seen_generation, timeout)
            return self._generation
