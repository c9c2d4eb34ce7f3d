"""Tables of the attendance register: marked lessons, absences, the audit trail, advance notices.

A lesson's marks are saved as a whole ("sheet"): the sheet's version grows with every save, so
two leaders marking the same lesson at once find out instead of overwriting each other silently.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsm_bot.storage.models import Base
from fsm_bot.storage.types import UtcDateTime, utcnow

WHOLE_DAY = "day"  # the lesson key of a mark for the whole day


class AbsenceReason(StrEnum):
    UNEXCUSED = "unexcused"  # н
    ILLNESS = "illness"  # у: болезнь
    OFFICIAL = "official"  # у: по официальной причине (олимпиада, военкомат, ...)
    OTHER = "other"  # у: другое

    @property
    def excused(self) -> bool:
        return self is not AbsenceReason.UNEXCUSED


class AttendanceSheet(Base):
    """One lesson (or a whole day) of one group that a leader has marked."""

    __tablename__ = "attendance_sheet"
    __table_args__ = (UniqueConstraint("study_group_id", "date", "lesson_key", name="uq_attendance_sheet"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    lesson_key: Mapped[str] = mapped_column(String(16))  # "HH:MM" of the lesson's start, or "day"
    subject: Mapped[str] = mapped_column(String(200), default="")
    lesson_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    marked_by: Mapped[int] = mapped_column(BigInteger)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Absence(Base):
    """One student missing one marked lesson: н or у with its reason."""

    __tablename__ = "absence"
    __table_args__ = (
        UniqueConstraint("sheet_id", "member_id", name="uq_absence"),
        Index("ix_absence_member_date", "member_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("attendance_sheet.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(16))
    excused: Mapped[bool] = mapped_column(Boolean)
    notice_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # pre-marked from an approved notice
    marked_by: Mapped[int] = mapped_column(BigInteger)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AttendanceAudit(Base):
    """Who changed which mark and when: the register's history, for disputes with the dean's office."""

    __tablename__ = "attendance_audit"
    __table_args__ = (Index("ix_attendance_audit_sheet", "sheet_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("attendance_sheet.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(Integer)
    before: Mapped[str] = mapped_column(String(16))  # "present" or a reason
    after: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NoticeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AbsenceNotice(Base):
    """A student telling in advance «пропущу»: days, perhaps one lesson, and why; the headman decides."""

    __tablename__ = "absence_notice"
    __table_args__ = (Index("ix_absence_notice_member", "member_id", "first_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    lesson_key: Mapped[str] = mapped_column(String(16), default=WHOLE_DAY)
    reason: Mapped[str] = mapped_column(String(16))  # an AbsenceReason that is excused
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.PENDING.value)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
