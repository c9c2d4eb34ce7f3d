"""Tables of polls: a broadcast whose message carries answer buttons, and the answers to it.

An answer is one row per chosen option, unique per (poll, person, option): a press that is handled twice
(a redelivered event) cannot count twice, and a multiple-choice poll toggles a row in or out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsm_bot.storage.models import Base
from fsm_bot.storage.types import JsonDocument, UtcDateTime, utcnow


class Poll(Base):
    """The question of one broadcast: its options, how it is answered, and when it closes."""

    __tablename__ = "poll"
    __table_args__ = (
        UniqueConstraint("broadcast_id", name="uq_poll_broadcast"),
        Index("ix_poll_closes_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[str]] = mapped_column(JsonDocument)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closes_label: Mapped[str] = mapped_column(String(32), default="")  # the deadline as the author typed it, local
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # 0: the deadline


class PollVote(Base):
    """One option one person chose."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "vk_id", "option", name="uq_poll_vote"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    vk_id: Mapped[int] = mapped_column(BigInteger)
    option: Mapped[int] = mapped_column(Integer)
    voted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
