"""A broadcast as its sender and its recipients see it: created by the confirming dialog, read as a
report, acknowledged, resent to those it missed, deleted. Small and per broadcast, so ORM objects.

The sender's side (broadcast_queue.py) and the follow-ups (broadcast_followups.py) have their own
repositories: the three change for different reasons and at very different rates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientStatus,
)
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.types import utcnow

R = BroadcastRecipient.__table__.c

# The delivery's bulk updates touch rows no session holds as objects (claims read plain rows), so
# the ORM need not fetch the changed rows back to refresh objects: on SQLite it would, by RETURNING,
# and that was half of a settle's time (bench/broadcast.py under py-spy).
UNSYNCED = {"synchronize_session": False}


@dataclass(frozen=True)
class Tally:
    """How a broadcast went, as the report shows it."""

    planned: int = 0
    delivered: int = 0
    pending: int = 0
    cannot_receive: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    acknowledged: int = 0
    unacknowledged: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.pending == 0


class AckResult:
    RECORDED = "recorded"
    ALREADY = "already"
    NOT_RECIPIENT = "not_recipient"
    DELETED = "deleted"


class BroadcastRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    # --- the dialog side

    def create(
        self,
        sender_vk_id: int,
        audience: str,
        audience_label: str,
        parts: list[dict[str, Any]],
        ask_ack: bool,
        recipients: Iterable[tuple[int, str]],
        nudge_at: datetime | None,
    ) -> Broadcast:
        """The broadcast and one pending row per recipient, in the caller's (the confirming) transaction."""
        broadcast = Broadcast(
            community_id=self.community_id,
            sender_vk_id=sender_vk_id,
            audience=audience,
            audience_label=audience_label,
            parts=parts,
            ask_ack=ask_ack,
            status=BroadcastStatus.SENDING.value,
            report_dirty=True,
            nudge_at=nudge_at if ask_ack else None,
            nudged=False,
            admins_told=False,
        )
        self.session.add(broadcast)
        self.session.flush()
        rows = [
            {
                "broadcast_id": broadcast.id,
                "vk_id": vk_id,
                "name": name,
                "status": RecipientStatus.PENDING.value,
                "parts_sent": 0,
                "random_id": 0,
                "attempts": 0,
            }
            for vk_id, name in dict(recipients).items()
        ]
        if rows:
            self.session.execute(insert(BroadcastRecipient.__table__), rows)
        return broadcast

    def get(self, broadcast_id: int) -> Broadcast | None:
        broadcast = self.session.get(Broadcast, broadcast_id)
        return broadcast if broadcast is not None and broadcast.community_id == self.community_id else None

    def recent(self, sender_vk_id: int | None, limit: int = 10) -> list[Broadcast]:
        query = select(Broadcast).where(
            Broadcast.community_id == self.community_id, Broadcast.status != BroadcastStatus.DELETED.value
        )
        if sender_vk_id is not None:
            query = query.where(Broadcast.sender_vk_id == sender_vk_id)
        return list(self.session.scalars(query.order_by(Broadcast.id.desc()).limit(limit)))

    def tally(self, broadcast_id: int) -> Tally:
        rows = self.session.execute(
            select(R.name, R.status, R.error, R.acknowledged_at).where(R.broadcast_id == broadcast_id).order_by(R.name)
        ).all()
        delivered = [row for row in rows if row.status == RecipientStatus.SENT.value]
        return Tally(
            planned=len(rows),
            delivered=len(delivered),
            pending=sum(row.status in (RecipientStatus.PENDING.value, RecipientStatus.SENDING.value) for row in rows),
            cannot_receive=[row.name for row in rows if row.status == RecipientStatus.CANNOT_RECEIVE.value],
            failed=[(row.name, row.error or "") for row in rows if row.status == RecipientStatus.FAILED.value],
            acknowledged=sum(row.acknowledged_at is not None for row in rows),
            unacknowledged=[row.name for row in delivered if row.acknowledged_at is None],
        )

    def acknowledge(self, broadcast_id: int, vk_id: int) -> str:
        """Record a press of «Ознакомлен», once; the answer says what happened."""
        broadcast = self.get(broadcast_id)
        if broadcast is None or broadcast.status == BroadcastStatus.DELETED.value:
            return AckResult.DELETED
        result = self.session.execute(
            update(BroadcastRecipient)
            .where(
                R.broadcast_id == broadcast_id,
                R.vk_id == vk_id,
                R.acknowledged_at.is_(None),
                R.status == RecipientStatus.SENT.value,
            )
            .values(acknowledged_at=utcnow())
        )
        if rowcount(result) == 1:
            broadcast.report_dirty = True
            return AckResult.RECORDED
        known = self.session.scalar(select(R.id).where(R.broadcast_id == broadcast_id, R.vk_id == vk_id))
        return AckResult.ALREADY if known is not None else AckResult.NOT_RECIPIENT

    def resend_unreached(self, broadcast_id: int) -> int:
        """Queue again those it did not reach (failed or could not receive); the reached are left alone.
        A broadcast the sender set aside stays aside: it would fail the same way."""
        set_aside = select(Broadcast.id).where(
            Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.FAILED.value
        )
        result = self.session.execute(
            update(BroadcastRecipient)
            .where(
                R.broadcast_id == broadcast_id,
                R.broadcast_id.not_in(set_aside),
                R.status.in_([RecipientStatus.FAILED.value, RecipientStatus.CANNOT_RECEIVE.value]),
            )
            .values(status=RecipientStatus.PENDING.value, attempts=0, not_before=None, error=None, error_code=None)
        )
        if rowcount(result):
            self.session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(status=BroadcastStatus.SENDING.value, report_dirty=True, finished_at=None)
            )
        return rowcount(result)

    def delete(self, broadcast_id: int) -> bool:
        result = self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.community_id == self.community_id)
            .values(status=BroadcastStatus.DELETED.value)
        )
        self.session.execute(
            update(BroadcastRecipient)
            .where(R.broadcast_id == broadcast_id, R.status.in_([RecipientStatus.PENDING.value]))
            .values(status=RecipientStatus.FAILED.value, error="broadcast deleted")
        )
        return rowcount(result) == 1
