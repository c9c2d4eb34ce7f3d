from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fsm_bot.storage.models import LongPollCursor, ProcessedEvent
from fsm_bot.storage.repositories._upsert import insert_if_absent
from fsm_bot.storage.types import utcnow


class ProcessedEventRepository:
    """Dedup of VK events across restarts and across workers."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def claim(self, event_id: str) -> bool:
        """True the first time an event id is seen; False for a repeat (the caller skips it).

        Claimed in the same transaction as the event's effects, so a crash before commit
        leaves the event unclaimed and it is handled again, once.
        """
        return insert_if_absent(
            self.session,
            ProcessedEvent.__table__,
            {"community_id": self.community_id, "event_id": event_id, "processed_at": utcnow()},
        )

    def prune(self, older_than: datetime) -> int:
        """VK does not repeat events after a day; older ids only cost space."""
        result = self.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.community_id == self.community_id, ProcessedEvent.processed_at < older_than
            )
        )
        return result.rowcount


class CursorRepository:
    """The Long Poll `ts` after the last handled batch: a restart resumes from here."""

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
