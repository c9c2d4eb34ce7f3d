"""Tables of queues (lab defence, consultations): the queue, its places, and the swaps students offer.

A place is an ordering key, not the number people see: leaving leaves a gap, and «your place» is the count of
those still waiting before you. Places are unique per queue, so two joins at the same moment cannot share one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsm_bot.storage.models import Base
from fsm_bot.storage.types import UtcDateTime, utcnow


class QueueStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EntryStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    LEFT = "left"


class SwapStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    STALE = "stale"


class Queue(Base):
    """One queue of one group: a subject and the window in which students may join."""

    __tablename__ = "queue"
    __table_args__ = (Index("ix_queue_group_status", "study_group_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    helper_vk_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the teacher's helper
    opened_by: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=QueueStatus.OPEN.value)
    last_place: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every join: the place counter
    calls: Mapped[int] = mapped_column(Integer, default=0)  # «Следующий» presses that called someone
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueueEntry(Base):
    """A student's place in a queue; one row per student and queue, reused when they join again."""

    __tablename__ = "queue_entry"
    __table_args__ = (
        UniqueConstraint("queue_id", "place", name="uq_queue_entry_place"),
        UniqueConstraint("queue_id", "member_id", name="uq_queue_entry_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    place: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.WAITING.value)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class QueueSwap(Base):
    """One student's offer to swap places with another; the places are those at the offer, so an answer
    given after either moved is refused rather than applied to a different order."""

    __tablename__ = "queue_swap"
    __table_args__ = (Index("ix_queue_swap_queue", "queue_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id", ondelete="CASCADE"))
    asker_entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entry.id", ondelete="CASCADE"))
    other_entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entry.id", ondelete="CASCADE"))
    asker_place: Mapped[int] = mapped_column(Integer)
    other_place: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SwapStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
