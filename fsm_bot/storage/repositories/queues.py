"""Queues as stored: the queue, its places and swap offers; every change that two presses could race on is
one conditional UPDATE, so the database, not timing, decides who got there first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Member
from fsm_bot.storage.queue_models import EntryStatus, Queue, QueueEntry, QueueStatus, QueueSwap, SwapStatus
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.types import utcnow


@dataclass(frozen=True)
class EntryRow:
    """A place in a queue with the person's name, as one read of the queue sees it."""

    entry_id: int
    member_id: int
    vk_id: int
    first_name: str
    last_name: str
    place: int
    status: str
    sex: int
    called_at: datetime | None
    joined: datetime


class QueueRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    # --- queues

    def create(
        self,
        study_group_id: int,
        subject: str,
        opens_at: datetime,
        closes_at: datetime,
        helper_vk_id: int | None,
        opened_by: int,
    ) -> Queue:
        queue = Queue(
            community_id=self.community_id,
            study_group_id=study_group_id,
            subject=subject,
            opens_at=opens_at,
            closes_at=closes_at,
            helper_vk_id=helper_vk_id,
            opened_by=opened_by,
            status=QueueStatus.OPEN.value,
            last_place=0,
            calls=0,
        )
        self.session.add(queue)
        self.session.flush()
        return queue

    def get(self, queue_id: int) -> Queue | None:
        queue = self.session.get(Queue, queue_id, populate_existing=True)
        return queue if queue is not None and queue.community_id == self.community_id else None

    def open_queues(self, study_group_id: int, ended_after: datetime) -> list[Queue]:
        return list(
            self.session.scalars(
                select(Queue)
                .where(
                    Queue.community_id == self.community_id,
                    Queue.study_group_id == study_group_id,
                    Queue.status == QueueStatus.OPEN.value,
                    Queue.closes_at > ended_after,
                )
                .order_by(Queue.opens_at, Queue.id)
            )
        )

    def close(self, queue_id: int) -> bool:
        result = self.session.execute(
            update(Queue)
            .where(Queue.id == queue_id, Queue.status == QueueStatus.OPEN.value)
            .values(status=QueueStatus.CLOSED.value)
        )
        return rowcount(result) == 1

    # --- places

    def entries(self, queue_id: int) -> list[EntryRow]:
        """Every place of the queue, in order (waiting, called and left alike)."""
        rows = self.session.execute(
            select(QueueEntry, Member)
            .join(Member, Member.id == QueueEntry.member_id)
            .where(QueueEntry.queue_id == queue_id)
            .order_by(QueueEntry.place)
            .execution_options(populate_existing=True)
        )
        return [
            EntryRow(
                entry.id,
                member.id,
                member.vk_id,
                member.first_name,
                member.last_name,
                entry.place,
                entry.status,
                member.sex or 0,
                entry.called_at,
                entry.joined_at,
            )
            for entry, member in rows
        ]

    def entry(self, queue_id: int, member_id: int) -> QueueEntry | None:
        return self.session.scalars(
            select(QueueEntry)
            .where(QueueEntry.queue_id == queue_id, QueueEntry.member_id == member_id)
            .execution_options(populate_existing=True)
        ).first()

    def join(self, queue_id: int, member_id: int) -> int | None:
        """A place at the end for the member; None if they already wait in it.

        The counter's UPDATE takes the queue row's lock (PostgreSQL) or the database's write lock (SQLite)
        before anything is read, so two joins at the same moment get one place each; the unique constraint
        on (queue, place) would refuse a second anyway.
        """
        self.session.execute(update(Queue).where(Queue.id == queue_id).values(last_place=Queue.last_place + 1))
        place = self.session.scalar(select(Queue.last_place).where(Queue.id == queue_id))
        assert place is not None
        entry = self.entry(queue_id, member_id)
        if entry is None:
            self.session.add(QueueEntry(queue_id=queue_id, member_id=member_id, place=place))
        elif entry.status == EntryStatus.WAITING.value:
            return None
        else:  # left or was called: in again, at the end
            entry.place, entry.status, entry.joined_at, entry.called_at = (
                place,
                EntryStatus.WAITING.value,
                utcnow(),
                None,
            )
        self.session.flush()
        return place

    def leave(self, queue_id: int, member_id: int) -> bool:
        result = self.session.execute(
            update(QueueEntry)
            .where(
                QueueEntry.queue_id == queue_id,
                QueueEntry.member_id == member_id,
                QueueEntry.status == EntryStatus.WAITING.value,
            )
            .values(status=EntryStatus.LEFT.value)
        )
        return rowcount(result) == 1

    def call_next(self, queue_id: int, seen_calls: int) -> tuple[bool, int | None]:
        """Call the first one waiting, if nobody has pressed «Следующий» since `seen_calls`: (False, None)
        for a stale press, else (True, the entry called or None when nobody waits).

        The conditional UPDATE of the counter is where a second press of the same button is told apart,
        across restarts and workers; it also takes the queue row's lock, so the first one waiting is read
        after any leave or swap committed meanwhile.
        """
        counted = self.session.execute(
            update(Queue).where(Queue.id == queue_id, Queue.calls == seen_calls).values(calls=Queue.calls + 1)
        )
        if rowcount(counted) != 1:
            return False, None
        first = self.session.scalar(
            select(QueueEntry.id)
            .where(QueueEntry.queue_id == queue_id, QueueEntry.status == EntryStatus.WAITING.value)
            .order_by(QueueEntry.place)
            .limit(1)
        )
        if first is None:  # nobody to call: the press changed nothing
            self.session.execute(update(Queue).where(Queue.id == queue_id).values(calls=Queue.calls - 1))
            return True, None
        self.session.execute(
            update(QueueEntry).where(QueueEntry.id == first).values(status=EntryStatus.CALLED.value, called_at=utcnow())
        )
        return True, first

    # --- swaps

    def offer_swap(self, queue_id: int, asker: QueueEntry, other: QueueEntry) -> QueueSwap:
        swap = QueueSwap(
            queue_id=queue_id,
            asker_entry_id=asker.id,
            other_entry_id=other.id,
            asker_place=asker.place,
            other_place=other.place,
            status=SwapStatus.PENDING.value,
        )
        self.session.add(swap)
        self.session.flush()
        return swap

    def pending_swap(self, asker_entry_id: int, other_entry_id: int) -> QueueSwap | None:
        return self.session.scalars(
            select(QueueSwap).where(
                QueueSwap.asker_entry_id == asker_entry_id,
                QueueSwap.other_entry_id == other_entry_id,
                QueueSwap.status == SwapStatus.PENDING.value,
            )
        ).first()

    def swap(self, swap_id: int) -> QueueSwap | None:
        swap = self.session.get(QueueSwap, swap_id, populate_existing=True)
        if swap is None or self.get(swap.queue_id) is None:
            return None
        return swap

    def entry_by_id(self, entry_id: int) -> QueueEntry | None:
        return self.session.get(QueueEntry, entry_id, populate_existing=True)

    def decide_swap(self, swap_id: int, status: SwapStatus) -> bool:
        """Settle a pending offer; False if it was settled already (a second press, the other's answer)."""
        result = self.session.execute(
            update(QueueSwap)
            .where(QueueSwap.id == swap_id, QueueSwap.status == SwapStatus.PENDING.value)
            .values(status=status.value, decided_at=utcnow())
        )
        return rowcount(result) == 1

    def exchange(self, swap: QueueSwap) -> bool:
        """Exchange the two places, only if both still wait at the places of the offer.

        Three UPDATEs through a free negative place: the unique (queue, place) holds after each one, which
        PostgreSQL checks per statement.
        """
        waiting = EntryStatus.WAITING.value
        parked = self.session.execute(
            update(QueueEntry)
            .where(
                QueueEntry.id == swap.asker_entry_id, QueueEntry.place == swap.asker_place, QueueEntry.status == waiting
            )
            .values(place=-swap.asker_place)
        )
        if rowcount(parked) != 1:
            return False
        moved = self.session.execute(
            update(QueueEntry)
            .where(
                QueueEntry.id == swap.other_entry_id, QueueEntry.place == swap.other_place, QueueEntry.status == waiting
            )
            .values(place=swap.asker_place)
        )
        if rowcount(moved) != 1:
            self.session.execute(
                update(QueueEntry).where(QueueEntry.id == swap.asker_entry_id).values(place=swap.asker_place)
            )
            return False
        self.session.execute(
            update(QueueEntry).where(QueueEntry.id == swap.asker_entry_id).values(place=swap.other_place)
        )
        return True
