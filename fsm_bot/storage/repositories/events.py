from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import LongPollCursor, ProcessedEvent
from fsm_bot.storage.repositories._upsert import insert_if_absent
from fsm_bot.storage.types import utcnow


@dataclass(frozen=True)
class ReceivedEvent:
    """An event as the inbox stores it: the VK envelope plus what the dispatcher orders by."""

    event_id: str
    type: str
    user_id: int | None
    payload: dict[str, Any]


class InboxRepository:
    """The processed_event table used as a durable inbox with dedup (see models.ProcessedEvent)."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def add(self, events: Sequence[ReceivedEvent]) -> int:
        """Store events not seen before; returns how many were new (repeats are dropped silently)."""
        added = 0
        now = utcnow()
        for event in events:
            added += insert_if_absent(
                self.session,
                ProcessedEvent.__table__,
                {
                    "community_id": self.community_id,
                    "event_id": event.event_id,
                    "type": event.type,
                    "user_id": event.user_id,
                    "payload": event.payload,
                    "received_at": now,
                },
            )
        return added

    def pending(self, limit: int = 100, after_id: int = 0) -> list[ProcessedEvent]:
        """Unhandled events in arrival order: the order one user's events must be handled in."""
        return list(
            self.session.scalars(
                select(ProcessedEvent)
                .where(
                    ProcessedEvent.community_id == self.community_id,
                    ProcessedEvent.handled_at.is_(None),
                    ProcessedEvent.id > after_id,
                )
                .order_by(ProcessedEvent.id)
                .limit(limit)
            )
        )

    def mark_handled(self, row_id: int) -> bool:
        """Call in the transaction that holds the event's effects; False if another worker was first."""
        result = self.session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.id == row_id, ProcessedEvent.handled_at.is_(None))
            .values(handled_at=utcnow())
        )
        return result.rowcount == 1

    def prune(self, older_than: datetime) -> int:
        """VK does not repeat events after a day; handled ones older than that only cost space."""
        result = self.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.community_id == self.community_id,
                ProcessedEvent.handled_at.is_not(None),
                ProcessedEvent.received_at < older_than,
            )
        )
        return result.rowcount


class CursorRepository:
    """The Long Poll `ts` stored with the last accepted batch: a restart resumes from here."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def get(self) -> str | None:
        return self.session.scalar(select(LongPollCursor.ts).where(LongPollCursor.community_id == self.community_id))

    def set(self, ts: str) -> None:
        cursor = self.session.get(LongPollCursor, self.community_id)
        if cursor is None:
            self.session.add(LongPollCursor(community_id=self.community_id, ts=ts))
        else:
            cursor.ts = ts
        self.session.flush()
