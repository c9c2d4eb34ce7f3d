"""The engine's tables. Later features add theirs in their own modules and migrations.

Every table carries `community_id`: one deployment may serve several communities (a faculty),
and a VK user id alone does not say which community's stream a person belongs to.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fsm_bot.storage.types import JsonDocument, UtcDateTime, utcnow

NAME_LENGTH = 100  # a member's first or last name; longer input is cut or refused before it gets here
GROUP_NAME_LENGTH = 64

# VK's random_id is a positive int32.
RANDOM_ID_SPACE = 2**31 - 1


class Base(DeclarativeBase):
    # Every model maps one Table (none a join or a select), which Core statements (upserts, bulk inserts, FOR
    # UPDATE OF) take as it is; DeclarativeBase can only promise a FromClause.
    __table__: ClassVar[Table]


class Role(StrEnum):
    """Who may do what. Admins are the community's managers; headmen and deputies lead one group."""

    STUDENT = "student"
    DEPUTY = "deputy"
    HEADMAN = "headman"
    ADMIN = "admin"


def _random_id_base() -> int:
    return secrets.randbelow(RANDOM_ID_SPACE // 2) + 1  # any offset; random_ids.py folds it into range


class MemberStatus(StrEnum):
    NEW = "new"
    PENDING = "pending"
    ACTIVE = "active"


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200), default="")
    # VK drops a message whose random_id this community already used for that peer, for ever.
    # Outbox row ids restart at 1 when a deployer starts over with a fresh database; offsetting
    # them by a base drawn once per database keeps a new installation from reusing the old ids.
    random_id_base: Mapped[int] = mapped_column(BigInteger, default=_random_id_base)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # settings.yaml's stream.groups and stream.auto_approve are copied here once (members/seeding.py); from
    # then on the database is the truth and «⚙ Настройка» changes it.
    seeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    auto_approve: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None until seeded


class StudyGroup(Base):
    __tablename__ = "study_group"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_study_group_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(GROUP_NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The group's chat (беседа): 2000000000 + its number; a broadcast can be posted and pinned there.
    chat_peer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("community_id", "vk_id", name="uq_member_vk_id"),
        Index("ix_member_study_group", "study_group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    vk_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    last_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    sex: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")  # VK's: 0 unknown, 1 f, 2 m
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)  # chosen in the menu; wins
    app_locale: Mapped[str | None] = mapped_column(String(8), nullable=True)  # their VK app's (client_info.lang_id)
    role: Mapped[str] = mapped_column(String(16), default=Role.STUDENT.value)
    study_group_id: Mapped[int | None] = mapped_column(ForeignKey("study_group.id", ondelete="SET NULL"), nullable=True)
    subgroup: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # new: never introduced themselves; pending: asked to join study_group, awaiting the headman;
    # active: a known member of study_group (or a stream admin, who needs no group).
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.NEW.value, server_default="new")
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
    """The inbox: every VK event the bot accepted, kept until handled and for a day after.

    Sources write here before anything else happens (Long Poll together with its `ts`, the
    callback endpoint before answering "ok"), so a crash loses nothing; the unique event id drops
    VK's repeats (Long Poll replays, Callback retries reaching another worker); `handled_at` is
    set in the same transaction as the event's effects, so nothing is handled twice.
    """

    __tablename__ = "processed_event"
    __table_args__ = (
        UniqueConstraint("community_id", "event_id", name="uq_processed_event_id"),
        # A new message is stored once whether the long poll, a push or a catch-up brought it
        # (fsm_bot.vk.events.message_key); NULL for other events, and NULLs never collide.
        Index("uq_processed_event_message", "community_id", "message_key", unique=True),
        Index("ix_processed_event_pending", "community_id", "handled_at", "id"),
        # Finds each user's oldest unhandled event (the only one a worker may claim) without a scan.
        Index(
            "ix_processed_event_user_pending",
            "community_id",
            "user_id",
            "id",
            postgresql_where=text("handled_at IS NULL"),
            sqlite_where=text("handled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Several processes share the inbox: a worker leases the events it took; a dead worker's
    # lease runs out and another takes them (handled_at still decides what counts as done).
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set with handled_at when the event failed: the exception's kind and the error id the person was told.
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # "message:<id>" or "message:<peer>:<conversation_message_id>" for message_new, else NULL.
    message_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LongPollCursor(Base):
    """Where the Long Poll stream was when the bot last finished handling events."""

    __tablename__ = "longpoll_cursor"

    community_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OutgoingStatus(StrEnum):
    UPLOADING = "uploading"  # a document waits to be uploaded to VK; then it is pending like any reply
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CANNOT_RECEIVE = "cannot_receive"
    GONE = "gone"
    FAILED = "failed"


class OutgoingMessage(Base):
    """The reply outbox: one row per message to one peer, committed before it is sent.

    The row's random_id is what VK deduplicates on, so a resend after a crash or a timeout is
    dropped by VK instead of reaching the person twice (VK_PROTOCOL.md, messages.send).
    """

    __tablename__ = "outgoing_message"
    __table_args__ = (
        Index("ix_outgoing_message_queue", "community_id", "status", "id"),
        # A person's oldest unsent reply, looked up when several processes send (keeps their order).
        Index(
            "ix_outgoing_message_peer_open",
            "community_id",
            "peer_id",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(BigInteger)
    # 0 until the row is first claimed, which sets it from the row's id before the request leaves
    # (OutboxRepository.first_random_id); kept from then on.
    random_id: Mapped[int] = mapped_column(BigInteger, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    keyboard: Mapped[str | None] = mapped_column(Text, nullable=True)
    attachment: Mapped[str | None] = mapped_column(Text, nullable=True)
    forward: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    # A file to upload and attach before sending (an .ics, a register); dropped once uploaded.
    upload_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    upload_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=OutgoingStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    conversation_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ScheduledMessage(Base):
    """A message a flow asked to send later (`ctx.schedule_message`).

    Written in the event's own transaction, so it exists exactly when the dialog step that asked for
    it committed; a sweep job moves due rows to the reply outbox and marks them in one transaction.
    """

    __tablename__ = "scheduled_message"
    __table_args__ = (Index("ix_scheduled_message_due", "community_id", "sent", "due_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    peer_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    keyboard: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Audience(StrEnum):
    GROUP = "group"  # the sender's study group
    SUBGROUP = "subgroup"  # one subgroup of it
    STREAM = "stream"  # every active member of the community (admins only)
    ADMINS = "admins"  # the stream's admins («рассылка админам»)
    CHOSEN = "chosen"  # students picked one by one


class BroadcastStatus(StrEnum):
    SENDING = "sending"
    DONE = "done"  # every recipient has a final status
    DELETED = "deleted"
    FAILED = "failed"  # set aside: it could not be sent at all (no parts, a part that cannot be rendered)


class RecipientStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CANNOT_RECEIVE = "cannot_receive"
    FAILED = "failed"


class Broadcast(Base):
    """A headman's message to many people: what it says, to whom, and how it went."""

    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_sender", "community_id", "sender_vk_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    sender_vk_id: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(String(16))
    audience_label: Mapped[str] = mapped_column(String(200), default="")
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument)  # [{text, attachment, forward}]
    ask_ack: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.SENDING.value)
    report_outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    report_dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    nudge_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    nudged: Mapped[bool] = mapped_column(Boolean, default=False)
    admins_told: Mapped[bool] = mapped_column(Boolean, default=False)  # the finished report went to the admins
    # Also posted in the group's chat: which outbox row carries it, and whether pinning it worked.
    chat_outbox_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pin_state: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class BroadcastRecipient(Base):
    """One person's copy of a broadcast: delivered part by part, then perhaps acknowledged."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "vk_id", name="uq_broadcast_recipient"),
        # Not on status: updating an indexed column rules out PostgreSQL's HOT updates (migration 0007).
        Index("ix_broadcast_recipient_order", "broadcast_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    vk_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=RecipientStatus.PENDING.value)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    random_id: Mapped[int] = mapped_column(BigInteger, default=0)  # of the part in flight; kept across retries
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SendBatch(Base):
    """One messages.send call of a broadcast part to up to 100 people; its id makes their random_id."""

    __tablename__ = "send_batch"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
