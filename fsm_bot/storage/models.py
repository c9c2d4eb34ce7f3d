"""The engine's tables. Later features add theirs in their own modules and migrations.

Every table carries `community_id`: one deployment may serve several communities (a faculty),
and a VK user id alone does not say which community's stream a person belongs to.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fsm_bot.storage.types import JsonDocument, UtcDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Role(StrEnum):
    """Who may do what. Admins are the community's managers; headmen and deputies lead one group."""

    STUDENT = "student"
    DEPUTY = "deputy"
    HEADMAN = "headman"
    ADMIN = "admin"


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StudyGroup(Base):
    __tablename__ = "study_group"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_study_group_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("community_id", "vk_id", name="uq_member_vk_id"),
        Index("ix_member_study_group", "study_group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    vk_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.STUDENT.value)
    study_group_id: Mapped[int | None] = mapped_column(ForeignKey("study_group.id", ondelete="SET NULL"), nullable=True)
    subgroup: Mapped[int | None] = mapped_column(Integer, nullable=True)
    can_receive: Mapped[bool] = mapped_column(Boolean, default=False)
    is_member: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


class Dialog(Base):
    """One person's place in one multi-step dialog; the model a flow's state machine drives."""

    __tablename__ = "dialog"
    __table_args__ = (
        UniqueConstraint("community_id", "peer_id", "user_id", name="uq_dialog_owner"),
        Index("ix_dialog_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ProcessedEvent(Base):
    """VK may deliver one event twice (Long Poll replays, Callback retries): remember what was handled."""

    __tablename__ = "processed_event"
    __table_args__ = (Index("ix_processed_event_at", "processed_at"),)

    community_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LongPollCursor(Base):
    """Where the Long Poll stream was when the bot last finished handling events."""

    __tablename__ = "longpoll_cursor"

    community_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
