"""What follows a broadcast once it is out: report refreshes, pins in the group's chat, nudges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import (
    Broadcast,
    BroadcastStatus,
    RecipientStatus,
)
from fsm_bot.storage.repositories.broadcasts import R


class BroadcastFollowUps:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def dirty_reports(self, limit: int = 50) -> list[Broadcast]:
        """Broadcasts whose report needs a refresh, locked until the refresh commits.

        The lock makes a settle that finishes meanwhile wait to mark the report dirty again, after
        the refresh has cleared the flag; without it the refresh would clear the settle's mark and
        the report would keep the old tally for good. Another process's refresh skips them.
        """
        return list(
            self.session.scalars(
                select(Broadcast)
                .where(Broadcast.community_id == self.community_id, Broadcast.report_dirty.is_(True))
                .order_by(Broadcast.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )

    def dirty(self, broadcast_ids: Iterable[int]) -> None:
        """These reports need another refresh (their last edit did not get through)."""
        ids = list(broadcast_ids)
        if ids:
            self.session.execute(
                update(Broadcast)
                .where(Broadcast.community_id == self.community_id, Broadcast.id.in_(ids))
                .values(report_dirty=True)
            )

    def recheck(self, since: datetime) -> None:
        """Every report that may have changed lately needs a refresh: those of broadcasts still going out
        or made after `since`."""
        self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.community_id == self.community_id,
                Broadcast.status != BroadcastStatus.DELETED.value,
                Broadcast.report_outbox_id.is_not(None),
                or_(Broadcast.status == BroadcastStatus.SENDING.value, Broadcast.created_at >= since),
            )
            .values(report_dirty=True)
        )

    def pending_pins(self, limit: int = 20) -> list[Broadcast]:
        return list(
            self.session.scalars(
                select(Broadcast)
                .where(Broadcast.community_id == self.community_id, Broadcast.pin_state == "pending")
                .order_by(Broadcast.id)
                .limit(limit)
            )
        )

    def due_nudges(self, now: datetime) -> list[Broadcast]:
        return list(
            self.session.scalars(
                select(Broadcast)
                .where(
                    Broadcast.community_id == self.community_id,
                    Broadcast.nudged.is_(False),
                    Broadcast.nudge_at <= now,
                    Broadcast.status != BroadcastStatus.DELETED.value,
                )
                .with_for_update(skip_locked=True)
            )
        )

    def unacknowledged_ids(self, broadcast_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(R.vk_id).where(
                    R.broadcast_id == broadcast_id,
                    R.status == RecipientStatus.SENT.value,
                    R.acknowledged_at.is_(None),
                )
            )
        )
