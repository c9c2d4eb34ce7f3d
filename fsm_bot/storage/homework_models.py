"""Tables of homework and deadlines: a group's assignments and who was told of each.

Kept apart from the engine's tables (models.py) because they belong to one feature; they share its declarative
Base, so migrations and `compare_metadata` see one schema. Reminders before a due time are rows of `subscription`
(the homework_* kinds) and `fired_reminder`: the timetable's exactly-once machinery, not a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fsm_bot.storage.models import Base
from fsm_bot.storage.types import JsonDocument, UtcDateTime, utcnow

SUBJECT_LENGTH = 200


class Homework(Base):
    """An assignment a headman or deputy gave their group; a cancelled one stays, so its notices can say so."""

    __tablename__ = "homework"
    __table_args__ = (Index("ix_homework_group_due", "study_group_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)  # VK attachment strings
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int] = mapped_column(BigInteger)  # VK id of the leader who gave it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class HomeworkRecipient(Base):
    """A member who was told of an assignment (so hears of its edits), and whether they marked it done."""

    __tablename__ = "homework_recipient"
    __table_args__ = (Index("ix_homework_recipient_member", "member_id"),)

    homework_id: Mapped[int] = mapped_column(ForeignKey("homework.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    told_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


__all__ = ["SUBJECT_LENGTH", "Homework", "HomeworkRecipient"]
