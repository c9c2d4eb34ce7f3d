"""Reminder subscriptions and the record of reminders that fired."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Member, MemberStatus
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.timetable_models import FiredReminder, Subscription, SubscriptionKind
from fsm_bot.storage.types import utcnow


@dataclass(frozen=True)
class Subscriber:
    """A subscription with what a reminder needs of its member: where to send and whose timetable."""

    subscription_id: int
    kind: SubscriptionKind
    at_time: time | None
    lead_minutes: int | None
    vk_id: int
    study_group_id: int
    subgroup: int | None
    locale: str | None = None  # the language they read (chosen, else their app's); None: the default


@dataclass(frozen=True)
class Firing:
    subscription_id: int
    occurrence: str
    due_at: datetime
    outcome: str = "sent"


class SubscriptionRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def of_member(self, member_id: int) -> list[Subscription]:
        return list(
            self.session.scalars(
                select(Subscription).where(Subscription.member_id == member_id).order_by(Subscription.id)
            )
        )

    def put(
        self, member_id: int, kind: SubscriptionKind, at_time: time | None = None, lead_minutes: int | None = None
    ) -> Subscription:
        """Subscribe, or change the time of an existing subscription of that kind (one per kind)."""
        row = self.session.scalars(
            select(Subscription).where(Subscription.member_id == member_id, Subscription.kind == kind.value)
        ).one_or_none()
        if row is None:
            row = Subscription(community_id=self.community_id, member_id=member_id, kind=kind.value)
            self.session.add(row)
        row.at_time = at_time
        row.lead_minutes = lead_minutes
        self.session.flush()
        return row

    def remove(
        self, member_id: int, kind: SubscriptionKind | None = None, kinds: Sequence[SubscriptionKind] | None = None
    ) -> int:
        """Unsubscribe from `kind`, or from every one of `kinds`, or (neither) from everything."""
        statement = delete(Subscription).where(Subscription.member_id == member_id)
        if kind is not None:
            statement = statement.where(Subscription.kind == kind.value)
        if kinds is not None:
            statement = statement.where(Subscription.kind.in_([each.value for each in kinds]))
        return rowcount(self.session.execute(statement))

    def subscribers(
        self, kinds: Sequence[SubscriptionKind] | None = None, study_group_id: int | None = None
    ) -> list[Subscriber]:
        """Subscriptions of current, approved members who belong to a group (the only ones with a timetable)."""
        statement = (
            select(
                Subscription.id,
                Subscription.kind,
                Subscription.at_time,
                Subscription.lead_minutes,
                Member.vk_id,
                Member.study_group_id,
                Member.subgroup,
                func.coalesce(Member.locale, Member.app_locale).label("locale"),
            )
            .join(Member, Member.id == Subscription.member_id)
            .where(
                Subscription.community_id == self.community_id,
                Member.is_member.is_(True),
                Member.status == MemberStatus.ACTIVE.value,
                Member.study_group_id.is_not(None),
            )
            .order_by(Subscription.id)
        )
        if kinds is not None:
            statement = statement.where(Subscription.kind.in_([kind.value for kind in kinds]))
        if study_group_id is not None:
            statement = statement.where(Member.study_group_id == study_group_id)
        return [
            Subscriber(
                row.id,
                SubscriptionKind(row.kind),
                row.at_time,
                row.lead_minutes,
                row.vk_id,
                row.study_group_id,
                row.subgroup,
                row.locale,
            )
            for row in self.session.execute(statement)
        ]

    def record_fired(self, firings: Sequence[Firing]) -> set[tuple[int, str]]:
        """Record firings; returns those that are new. An existing (subscription, occurrence) is kept
        as it was, so whoever recorded it first is the only one who sends it."""
        if not firings:
            return set()
        now = utcnow()
        if self.session.get_bind().dialect.name == "postgresql":
            # One statement over arrays: no per-row parameters for the server to parse.
            rows = self.session.execute(
                text(
                    "INSERT INTO fired_reminder (subscription_id, occurrence, due_at, fired_at, outcome)"
                    " SELECT s, o, d, :now, x FROM unnest(CAST(:subscriptions AS integer[]),"
                    " CAST(:occurrences AS varchar[]), CAST(:dues AS timestamptz[]), CAST(:outcomes AS varchar[]))"
                    " AS fresh(s, o, d, x)"
                    " ON CONFLICT DO NOTHING RETURNING subscription_id, occurrence"
                ),
                {
                    "now": now,
                    "subscriptions": [firing.subscription_id for firing in firings],
                    "occurrences": [firing.occurrence for firing in firings],
                    "dues": [firing.due_at for firing in firings],
                    "outcomes": [firing.outcome for firing in firings],
                },
            )
            return {(row.subscription_id, row.occurrence) for row in rows}
        # One executemany, which SQLAlchemy batches into multi-row INSERTs compiled once; building a
        # 1,000-row VALUES clause per chunk by hand cost a second of CPU at 10,000 reminders.
        statement = (
            sqlite.insert(FiredReminder)
            .on_conflict_do_nothing()
            .returning(FiredReminder.subscription_id, FiredReminder.occurrence)
        )
        rows = self.session.execute(
            statement,
            [
                {
                    "subscription_id": firing.subscription_id,
                    "occurrence": firing.occurrence,
                    "due_at": firing.due_at,
                    "fired_at": now,
                    "outcome": firing.outcome,
                }
                for firing in firings
            ],
        )
        return {(row.subscription_id, row.occurrence) for row in rows}

    def recorded(self, subscription_ids: Iterable[int], since: datetime) -> set[tuple[int, str]]:
        """(subscription, occurrence) of the reminders these subscriptions fired (or dropped) due after `since`."""
        rows = self.session.execute(
            select(FiredReminder.subscription_id, FiredReminder.occurrence).where(
                FiredReminder.subscription_id.in_(set(subscription_ids)), FiredReminder.due_at > since
            )
        )
        return {(row.subscription_id, row.occurrence) for row in rows}

    def fired(self, subscription_id: int | None = None) -> list[FiredReminder]:
        statement = select(FiredReminder).order_by(FiredReminder.id)
        if subscription_id is not None:
            statement = statement.where(FiredReminder.subscription_id == subscription_id)
        return list(self.session.scalars(statement))
