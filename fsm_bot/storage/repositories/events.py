from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from fsm_bot.storage.models import LongPollCursor, ProcessedEvent
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.repositories._upsert import insert_all_if_absent
from fsm_bot.storage.types import UtcDateTime, utcnow


@dataclass(frozen=True)
class ReceivedEvent:
    """An event as the inbox stores it: the VK envelope plus what the dispatcher orders by."""

    event_id: str
    type: str
    user_id: int | None
    payload: dict[str, Any]
    message_key: str | None = None  # a new message's natural key (fsm_bot.vk.events.message_key)


def _claim_queries() -> tuple[Select[int, int | None], Select[int]]:
    """The claim's two queries, built once (an aliased table and its subquery cost more CPU to build than
    to run, and every worker claims many times a second): the heads that may start a claim, then the later
    events of their people."""
    event, earlier = ProcessedEvent, aliased(ProcessedEvent)
    free = or_(event.claimed_until.is_(None), event.claimed_until < bindparam("now"))
    # The user's oldest unhandled event, as a subquery run per candidate: PostgreSQL looks it up
    # in the partial index whatever its statistics say (NOT EXISTS could be planned as a scan
    # of the whole backlog per candidate right after a burst filled the table).
    oldest = (
        select(func.min(earlier.id))
        .where(
            earlier.community_id == event.community_id,
            earlier.user_id == event.user_id,
            earlier.handled_at.is_(None),
        )
        .scalar_subquery()
    )
    heads = (
        select(event.id, event.user_id)
        .where(
            event.community_id == bindparam("community"),
            event.handled_at.is_(None),
            free,
            or_(event.user_id.is_(None), event.id == oldest),
        )
        .order_by(event.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    followers = (
        select(event.id)
        .where(
            event.community_id == bindparam("community"),
            event.user_id.in_(bindparam("users", expanding=True)),
            event.handled_at.is_(None),
            free,
        )
        .with_for_update(skip_locked=True)
    )
    return heads, followers


_CLAIM_HEADS, _CLAIM_FOLLOWERS = _claim_queries()
_LEASE = (
    update(ProcessedEvent)
    .where(ProcessedEvent.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until", type_=UtcDateTime))
    .returning(ProcessedEvent.id, ProcessedEvent.user_id, ProcessedEvent.payload)
)
# Built once: a batch's one statement that marks its events handled (it runs for every batch).
_MARK_ALL_HANDLED = (
    update(ProcessedEvent)
    .where(ProcessedEvent.id.in_(bindparam("ids", expanding=True)), ProcessedEvent.handled_at.is_(None))
    .values(handled_at=bindparam("now", type_=UtcDateTime))
)


def _readiness_query() -> Select[int, datetime | None, bool]:
    """Each listed event's handled_at and whether its person has an older event still open: built once,
    since an aliased table makes new Column objects each time (5% of an event's CPU when built per batch)."""
    earlier = aliased(ProcessedEvent)
    behind = (
        exists()
        .where(
            earlier.community_id == ProcessedEvent.community_id,
            earlier.user_id == ProcessedEvent.user_id,
            earlier.handled_at.is_(None),
            earlier.id < ProcessedEvent.id,
        )
        .correlate(ProcessedEvent)
    )
    return select(ProcessedEvent.id, ProcessedEvent.handled_at, ProcessedEvent.user_id.is_not(None) & behind).where(
        ProcessedEvent.id.in_(bindparam("ids", expanding=True))
    )


_READINESS = _readiness_query()


class InboxRepository:
    """The processed_event table used as a durable inbox with dedup (see models.ProcessedEvent)."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def add(self, events: Sequence[ReceivedEvent]) -> int:
        """Store events not seen before; returns how many were new (repeats are dropped silently)."""
        now = utcnow()
        rows = [
            {
                "community_id": self.community_id,
                "event_id": event.event_id,
                "type": event.type,
                "user_id": event.user_id,
                "payload": event.payload,
                "message_key": event.message_key,
                "received_at": now,
            }
            for event in events
        ]
        return insert_all_if_absent(self.session, ProcessedEvent.__table__, rows)

    def known_messages(self, keys: Sequence[str]) -> set[str]:
        """Which of these message keys the inbox holds (waiting or handled): a catch-up skips those."""
        if not keys:
            return set()
        return set(
            self.session.scalars(
                select(ProcessedEvent.message_key).where(
                    ProcessedEvent.community_id == self.community_id,
                    ProcessedEvent.message_key.in_(list(keys)),
                )
            )
        )

    def backlog(self) -> int:
        """How many events wait to be handled: a catch-up adds more only when the dispatcher keeps up."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ProcessedEvent)
                .where(ProcessedEvent.community_id == self.community_id, ProcessedEvent.handled_at.is_(None))
            )
            or 0
        )

    def pending(self, limit: int = 100, after_id: int = 0) -> list[ProcessedEvent]:
        """Unhandled events in arrival order: the order one user's events must be handled in."""
        return list(
            self.session.scalars(
                select(ProcessedEvent)
                .where(
                    ProcessedEvent.community_id == self.community_id,
                    ProcessedEvent.handled_at.is_(None),
                    ProcessedEvent.id > after_id,
                )
                .order_by(ProcessedEvent.id)
                .limit(limit)
            )
        )

    def claim(self, worker: str, lease: timedelta, limit: int) -> list[tuple[int, int | None, dict[str, Any]]]:
        """Lease unhandled events to `worker` (PostgreSQL, several processes): (id, user_id, payload).

        Only a user's oldest unhandled event can start a claim, and it brings that user's later
        events with it, so one user's events go to one worker and in order; rows another worker is
        claiming are skipped (SKIP LOCKED), rows leased to a live worker are left alone, and a dead
        worker's lease runs out.
        """
        now = utcnow()
        params = {"community": self.community_id, "now": now}
        heads = self.session.execute(_CLAIM_HEADS, {**params, "limit": limit}).all()
        if not heads:
            return []
        ids = {row.id for row in heads}
        users = {row.user_id for row in heads if row.user_id is not None}
        if users:
            ids.update(self.session.scalars(_CLAIM_FOLLOWERS, {**params, "users": list(users)}))
        rows = self.session.execute(_LEASE, {"ids": list(ids), "worker": worker, "until": now + lease}).all()
        return sorted((row.id, row.user_id, row.payload) for row in rows)

    def release(self, row_id: int) -> None:
        """Give a claimed event back (its user had an earlier one in hand elsewhere)."""
        self.session.execute(update(ProcessedEvent).where(ProcessedEvent.id == row_id).values(claimed_until=None))

    def release_all(self) -> int:
        """Every lease of this community ends now: the one process starting knows their holders are gone."""
        result = self.session.execute(
            update(ProcessedEvent)
            .where(
                ProcessedEvent.community_id == self.community_id,
                ProcessedEvent.handled_at.is_(None),
                ProcessedEvent.claimed_until.is_not(None),
            )
            .values(claimed_until=None)
        )
        return rowcount(result)

    def lock_user(self, user_id: int) -> None:
        """Serialise this user's events across processes until the transaction ends (PostgreSQL).

        The dialog row's FOR UPDATE does the same once the row exists; a person's first events
        have no row yet, and two of them would otherwise both start one.
        """
        self.lock_users([user_id])

    def lock_users(self, user_ids: Sequence[int]) -> None:
        """`lock_user` for a batch, in one statement; the locks are taken in the order of their keys, the
        same in every process, so two batches never wait for each other in a circle."""
        if self.session.get_bind().dialect.name != "postgresql" or not user_ids:
            return
        keys = [f"fsm_bot:user:{self.community_id}:{user_id}" for user_id in sorted(set(user_ids))]
        self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h "
                "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS ordered"
            ),
            {"keys": keys},
        )

    def readiness_of(self, rows: Sequence[tuple[int, int | None]]) -> dict[int, tuple[bool, bool]]:
        """`readiness` for a batch of (row id, user id), in one query; a row not found is not open."""
        if not rows:
            return {}
        found = self.session.execute(_READINESS, {"ids": [row_id for row_id, _ in rows]}).all()
        ready = {
            row_id: (handled_at is None, bool(waits) and handled_at is None) for row_id, handled_at, waits in found
        }
        return {row_id: ready.get(row_id, (False, False)) for row_id, _ in rows}

    def readiness(self, row_id: int, user_id: int | None) -> tuple[bool, bool]:
        """(whether the event is still to be handled, whether its user has an older event still waiting:
        handling this one now would reorder them), in one round trip. Its envelope is not read: the claim
        parsed it."""
        return self.readiness_of([(row_id, user_id)])[row_id]

    def mark_all_handled(self, row_ids: Sequence[int]) -> bool:
        """`mark_handled` for a group-committed batch, in one statement; False if another worker was first
        for any of them (the caller undoes the batch)."""
        if not row_ids:
            return True
        result = self.session.execute(_MARK_ALL_HANDLED, {"ids": list(row_ids), "now": utcnow()})
        return rowcount(result) == len(row_ids)

    def mark_handled(self, row_id: int, error: str | None = None) -> bool:
        """Call in the transaction that holds the event's effects; False if another worker was first.
        `error` says why a failed event was set aside."""
        values: dict[str, object] = {"handled_at": utcnow()}
        if error is not None:
            values["error"] = error[:200]
        result = self.session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.id == row_id, ProcessedEvent.handled_at.is_(None))
            .values(**values)
        )
        return rowcount(result) == 1

    def prune(self, older_than: datetime) -> int:
        """VK does not repeat events after a day; handled ones older than that only cost space."""
        result = self.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.community_id == self.community_id,
                ProcessedEvent.handled_at.is_not(None),
                ProcessedEvent.received_at < older_than,
            )
        )
        return rowcount(result)


class CursorRepository:
    """The Long Poll `ts` stored with the last accepted batch: a restart resumes from here."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def get(self) -> str | None:
        return self.session.scalar(select(LongPollCursor.ts).where(LongPollCursor.community_id == self.community_id))

    def set(self, ts: str) -> None:
        cursor = self.session.get(LongPollCursor, self.community_id)
        if cursor is None:
            self.session.add(LongPollCursor(community_id=self.community_id, ts=ts))
        else:
            cursor.ts = ts
        self.session.flush()
