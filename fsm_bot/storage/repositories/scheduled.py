from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsm_bot.storage.models import ScheduledMessage


class ScheduledMessageRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def add(self, peer_id: int, text: str, due_at: datetime, keyboard: str | None = None) -> ScheduledMessage:
        row = ScheduledMessage(
            community_id=self.community_id, peer_id=peer_id, text=text, keyboard=keyboard, due_at=due_at, sent=False
        )
        self.session.add(row)
        self.session.flush()
        return row

    def due(self, now: datetime, limit: int = 500) -> list[ScheduledMessage]:
        """Due and unsent, locked so two sweeps (two processes) cannot both take one."""
        return list(
            self.session.scalars(
                select(ScheduledMessage)
                .where(
                    ScheduledMessage.community_id == self.community_id,
                    ScheduledMessage.sent.is_(False),
                    ScheduledMessage.due_at <= now,
                )
                .order_by(ScheduledMessage.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
