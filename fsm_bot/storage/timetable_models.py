"""Tables of the timetable and its reminders: slots, one-off changes, subscriptions, what fired.

Kept apart from the engine's tables (models.py) because they belong to one feature; they share
its declarative Base, so migrations and `compare_metadata` see one schema.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fsm_bot.storage.models import Base
from fsm_bot.storage.types import JsonDocument, UtcDateTime, utcnow


class TimetableCalendar(Base):
    """The semester every group of a community studies in: its dates, holidays and first week's parity."""

    __tablename__ = "timetable_calendar"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    semester_start: Mapped[date] = mapped_column(Date)
    semester_end: Mapped[date] = mapped_column(Date)
    first_week: Mapped[str] = mapped_column(String(8))  # odd | even
    holidays: Mapped[list[str]] = mapped_column(JsonDocument, default=list)  # ISO dates
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TimetableSlot(Base):
    """A weekly lesson of one study group (replaced as a whole when a timetable file is imported)."""

    __tablename__ = "timetable_slot"
    __table_args__ = (Index("ix_timetable_slot_group", "study_group_id", "day", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), default="")
    teacher: Mapped[str] = mapped_column(String(200), default="")
    room: Mapped[str] = mapped_column(String(64), default="")
    weeks: Mapped[str] = mapped_column(String(8), default="all")  # all | odd | even
    subgroup: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TimetableChange(Base):
    """A one-off change by the headman: a lesson cancelled or moved, or an extra one."""

    __tablename__ = "timetable_change"
    __table_args__ = (Index("ix_timetable_change_group", "study_group_id", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    study_group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # cancel | move | extra
    date: Mapped[date] = mapped_column(Date)
    # A re-import replaces the slots; a change of a slot that no longer exists goes with it.
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("timetable_slot.id", ondelete="CASCADE"), nullable=True)
    new_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # dt.: `date` is the field above
    new_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    new_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    new_room: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    kind_label: Mapped[str] = mapped_column(String(64), default="")
    teacher: Mapped[str] = mapped_column(String(200), default="")
    subgroup: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(BigInteger)  # VK id of the headman who made it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SubscriptionKind(StrEnum):
    DIGEST = "digest"  # tomorrow's lessons, every evening at `at_time`
    BEFORE_FIRST = "before_first"  # `lead_minutes` before the day's first lesson
    BEFORE_EACH = "before_each"  # `lead_minutes` before every lesson
    CHANGES = "changes"  # only changes (every kind of subscription gets changes too)
    # Homework due soon, `lead_minutes` before its due time (storage/homework_models.py): one kind per lead, since
    # a member has one subscription of each kind and may want both «за день» and «за 3 часа».
    HOMEWORK_DAY = "homework_day"
    HOMEWORK_HOURS = "homework_hours"
    HOMEWORK_HOUR = "homework_hour"


HOMEWORK_KINDS = (SubscriptionKind.HOMEWORK_DAY, SubscriptionKind.HOMEWORK_HOURS, SubscriptionKind.HOMEWORK_HOUR)
TIMETABLE_KINDS = tuple(kind for kind in SubscriptionKind if kind not in HOMEWORK_KINDS)


class Subscription(Base):
    """What a student asked to be reminded of; one row per member and kind."""

    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", name="uq_subscription_member_kind"),
        Index("ix_subscription_community_kind", "community_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at_time: Mapped[time | None] = mapped_column(Time, nullable=True)
    lead_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class FiredReminder(Base):
    """A reminder that went to the outbox: unique per subscription and occurrence, so never twice.

    Written in the same transaction as the reply it queued; a job that runs again after a crash
    or a restart finds the row and sends nothing.
    """

    __tablename__ = "fired_reminder"
    __table_args__ = (UniqueConstraint("subscription_id", "occurrence", name="uq_fired_reminder"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(64))  # e.g. "digest:2026-11-27", "lesson:2026-11-28T09:00"
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16), default="sent")  # sent | dropped (too late)


class TimetableFeedState(Base):
    """What the bot last saw of a group's timetable feed (settings `timetable.feeds`): the validators for a
    conditional GET, the hash of the content last applied, and the problem last reported to the headman
    (so a feed that stays broken is reported once, and its recovery too). Kept in the database because the
    process that runs the scheduler may change."""

    __tablename__ = "timetable_feed_state"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    group_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # another address in settings starts afresh
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # sha256 of the applied body
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)  # reported and not yet recovered from
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


__all__ = [
    "HOMEWORK_KINDS",
    "TIMETABLE_KINDS",
    "FiredReminder",
    "Subscription",
    "SubscriptionKind",
    "TimetableCalendar",
    "TimetableChange",
    "TimetableFeedState",
    "TimetableSlot",
]
