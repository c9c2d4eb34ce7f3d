"""Polls and their answers: created with their broadcast, answered press by press, closed once.

Closing is a conditional UPDATE (`closed_at IS NULL`): whoever's UPDATE matched the row (the deadline sweep of
one process, another process, the author's «Закрыть опрос») does what closing entails, in the same
transaction, and nobody else ever does; a crash before the commit leaves the poll open for the next sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Broadcast, BroadcastRecipient, BroadcastStatus
from fsm_bot.storage.poll_models import Poll, PollVote
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.types import utcnow

V = PollVote.__table__.c
R = BroadcastRecipient.__table__.c


class PollRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def create(
        self,
        broadcast_id: int,
        question: str,
        options: Sequence[str],
        multiple: bool,
        anonymous: bool,
        closes_at: datetime | None,
        closes_label: str = "",
    ) -> Poll:
        poll = Poll(
            broadcast_id=broadcast_id,
            question=question,
            options=list(options),
            multiple=multiple,
            anonymous=anonymous,
            closes_at=closes_at,
            closes_label=closes_label,
        )
        self.session.add(poll)
        self.session.flush()
        return poll

    def get(self, poll_id: int) -> tuple[Poll, Broadcast] | None:
        """The poll with its broadcast, if both are this community's."""
        row = self.session.execute(
            select(Poll, Broadcast)
            .join(Broadcast, Broadcast.id == Poll.broadcast_id)
            .where(Poll.id == poll_id, Broadcast.community_id == self.community_id)
        ).first()
        return None if row is None else (row[0], row[1])

    def of_broadcast(self, broadcast_id: int) -> Poll | None:
        return self.session.scalar(select(Poll).where(Poll.broadcast_id == broadcast_id))

    def recipient_name(self, broadcast_id: int, vk_id: int) -> str | None:
        """The name of a recipient of the broadcast, None for anybody else."""
        return self.session.scalar(select(R.name).where(R.broadcast_id == broadcast_id, R.vk_id == vk_id))

    def recipients(self, broadcast_id: int) -> list[tuple[int, str, str]]:
        """(vk id, name, delivery status) of every recipient, by name."""
        rows = self.session.execute(
            select(R.vk_id, R.name, R.status).where(R.broadcast_id == broadcast_id).order_by(R.name, R.vk_id)
        ).all()
        return [(row.vk_id, row.name, row.status) for row in rows]

    def votes(self, poll_id: int) -> list[tuple[int, int]]:
        """(vk id, option) of every answer."""
        rows = self.session.execute(select(V.vk_id, V.option).where(V.poll_id == poll_id).order_by(V.id)).all()
        return [(row.vk_id, row.option) for row in rows]

    def choices(self, poll_id: int, vk_id: int) -> list[int]:
        return list(
            self.session.scalars(select(V.option).where(V.poll_id == poll_id, V.vk_id == vk_id).order_by(V.option))
        )

    def choose(self, poll_id: int, vk_id: int, option: int, multiple: bool) -> list[int]:
        """Record a press and return the person's choices after it: a single-choice press replaces the
        earlier answer, a multiple-choice one toggles its option."""
        mine = (V.poll_id == poll_id, V.vk_id == vk_id)
        if multiple:
            removed = self.session.execute(delete(PollVote).where(*mine, V.option == option))
            if rowcount(removed) == 0:
                self._add(poll_id, vk_id, option)
        else:
            self.session.execute(delete(PollVote).where(*mine, V.option != option))
            if option not in self.choices(poll_id, vk_id):
                self._add(poll_id, vk_id, option)
        return self.choices(poll_id, vk_id)

    def _add(self, poll_id: int, vk_id: int, option: int) -> None:
        self.session.execute(
            insert(PollVote.__table__), [{"poll_id": poll_id, "vk_id": vk_id, "option": option, "voted_at": utcnow()}]
        )

    def close(self, poll_id: int, by: int) -> bool:
        """Close the poll now; True only for the one call that closed it."""
        result = self.session.execute(
            update(Poll).where(Poll.id == poll_id, Poll.closed_at.is_(None)).values(closed_at=utcnow(), closed_by=by)
        )
        return rowcount(result) == 1

    def due(self, now: datetime, limit: int = 20) -> list[tuple[Poll, Broadcast]]:
        """Open polls of this community whose deadline has passed, locked (another process skips them)."""
        rows = self.session.execute(
            select(Poll, Broadcast)
            .join(Broadcast, Broadcast.id == Poll.broadcast_id)
            .where(
                Broadcast.community_id == self.community_id,
                Broadcast.status != BroadcastStatus.DELETED.value,
                Poll.closed_at.is_(None),
                Poll.closes_at <= now,
            )
            .order_by(Poll.id)
            .limit(limit)
            .with_for_update(of=Poll, skip_locked=True)
        ).all()
        return [(row[0], row[1]) for row in rows]
