from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, insert, or_, select, update
from sqlalchemy import text as text_sql
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from fsm_bot.storage.models import OutgoingMessage, OutgoingStatus
from fsm_bot.storage.random_ids import RandomIdRange, random_id_for
from fsm_bot.storage.repositories._ids import id_among
from fsm_bot.storage.repositories._random_id_base import random_id_base
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.types import UtcDateTime, utcnow

OPEN_STATUSES = (OutgoingStatus.PENDING.value, OutgoingStatus.SENDING.value)  # not yet with the person


def _claimable_query(locked: bool) -> Select[Any]:
    """The claim's query, built once per form: the sender runs it for every request and every look for
    work, and building it (an aliased table, its subquery) cost more CPU than running it."""
    query = (
        select(
            OutgoingMessage.id,
            OutgoingMessage.peer_id,
            OutgoingMessage.random_id,
            OutgoingMessage.text,
            OutgoingMessage.keyboard,
            OutgoingMessage.attachment,
            OutgoingMessage.forward,
            OutgoingMessage.options,
            OutgoingMessage.attempts,
        )
        .where(
            OutgoingMessage.community_id == bindparam("community"),
            OutgoingMessage.status == OutgoingStatus.PENDING.value,
            or_(OutgoingMessage.not_before.is_(None), OutgoingMessage.not_before <= bindparam("now")),
        )
        .order_by(OutgoingMessage.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if not locked:
        return query
    earlier = aliased(OutgoingMessage)
    # The person's oldest unsent row, as a subquery run per candidate: PostgreSQL looks it
    # up in the partial index whatever its statistics say. (NOT EXISTS was planned as a
    # scan of every open row per candidate when the table had just filled: 2.6 s a claim.)
    oldest_open = (
        select(func.min(earlier.id))
        .where(
            earlier.community_id == OutgoingMessage.community_id,
            earlier.peer_id == OutgoingMessage.peer_id,
            # Written into the SQL, not bound, so that it matches the index's predicate.
            earlier.status.in_(bindparam("open", OPEN_STATUSES, expanding=True, literal_execute=True)),
        )
        .scalar_subquery()
    )
    return query.where(OutgoingMessage.id == oldest_open).with_for_update(skip_locked=True)


_CLAIMABLE = _claimable_query(locked=False)
_CLAIMABLE_LOCKED = _claimable_query(locked=True)
_OUTBOX = OutgoingMessage.__table__
# Built once: every claim runs it (an executemany by primary key).
_MARK_SENDING = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row"))
    .values(
        status=OutgoingStatus.SENDING.value,
        attempts=_OUTBOX.c.attempts + 1,
        random_id=bindparam("rid"),
        not_before=bindparam("lease", type_=UtcDateTime),
    )
)


class OutboxRepository:
    """Rows of the reply outbox: queued in the handler's transaction, claimed and settled by the sender.

    A row is queued with random_id 0 and gets its random_id when it is first claimed, from its own
    id (`first_random_id`), in the claim's transaction, so before its first request leaves; from
    then on it keeps it. Queueing is one INSERT, with no flush: the rows of many events that share
    a transaction go in as one batch at its commit.
    """

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def add(
        self,
        peer_id: int,
        text: str,
        keyboard: str | None = None,
        attachment: str | None = None,
        forward: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> OutgoingMessage:
        """Queue one message (its id, and so its random_id, comes at the flush or commit)."""
        row = OutgoingMessage(
            community_id=self.community_id,
            peer_id=peer_id,
            text=text,
            keyboard=keyboard,
            attachment=attachment,
            forward=forward,
            options=dict(options or {}),
            status=OutgoingStatus.PENDING.value,
            attempts=0,
        )
        self.session.add(row)
        return row

    def add_many(self, peer_ids: Sequence[int], text: str, keyboard: str | None = None) -> int:
        """The same message to many peers (reminders due at one minute); returns how many were queued.

        The sender finds identical rows and sends them as one peer_ids call per hundred (random_ids
        come at the claim, as for `add`). On PostgreSQL one INSERT from an array; on SQLite (in
        process, no round trips) an executemany INSERT.
        """
        if not peer_ids:
            return 0
        values = {
            "community": self.community_id,
            "text": text,
            "keyboard": keyboard,
            "status": OutgoingStatus.PENDING.value,
            "now": utcnow(),
        }
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text_sql(
                    "INSERT INTO outgoing_message (community_id, peer_id, random_id, text, keyboard, options,"
                    " status, attempts, created_at)"
                    " SELECT :community, p, 0, :text, :keyboard, '{}'::jsonb, :status, 0, :now"
                    " FROM unnest(CAST(:peers AS bigint[])) AS p"
                ),
                {**values, "peers": list(peer_ids)},
            )
            return len(peer_ids)
        self.session.execute(
            insert(OutgoingMessage),
            [
                {
                    "community_id": self.community_id,
                    "peer_id": peer_id,
                    "text": text,
                    "keyboard": keyboard,
                    "options": {},
                    "status": OutgoingStatus.PENDING.value,
                    "attempts": 0,
                    "random_id": 0,
                    "created_at": values["now"],
                }
                for peer_id in peer_ids
            ],
        )
        return len(peer_ids)

    def add_document(self, peer_id: int, text: str, name: str, data: bytes) -> OutgoingMessage:
        """A message with a file: it waits as UPLOADING until the uploader attaches the file, then
        goes out like any reply (crash-safe: the file lives in the row until it is uploaded)."""
        row = self.add(peer_id, text)
        row.upload_name = name
        row.upload_data = data
        row.status = OutgoingStatus.UPLOADING.value
        return row

    def waiting_uploads(self, limit: int = 10) -> list[OutgoingMessage]:
        return list(
            self.session.scalars(
                select(OutgoingMessage)
                .where(
                    OutgoingMessage.community_id == self.community_id,
                    OutgoingMessage.status == OutgoingStatus.UPLOADING.value,
                )
                .order_by(OutgoingMessage.id)
                .limit(limit)
            )
        )

    def first_random_id(self, row_id: int) -> int:
        """The random_id of the request that first sends row `row_id` (and the rows claimed with it).

        The same for every claim of the row, so a claim rolled back and made again changes nothing;
        different for every row id, and ids are never reused, so no two requests share one. Rows
        queued before random_ids came at the claim hold this very value already.
        """
        return random_id_for(random_id_base(self.session, self.community_id), row_id, RandomIdRange.REPLIES)

    def claimable(self, now: datetime, limit: int, lock: bool = False) -> list[Row[Any]]:
        """Pending rows whose retry time has come, oldest first, as plain rows of what sending needs
        (no ORM objects to build and track: a claim may read 2,500).

        With `lock` (several processes on PostgreSQL), rows another process is claiming right now
        are skipped rather than waited for (SKIP LOCKED), and only a person's oldest unsent row is
        offered, so their replies keep their order even when two processes send.
        """
        locked = lock and self.session.get_bind().dialect.name == "postgresql"
        query = _CLAIMABLE_LOCKED if locked else _CLAIMABLE
        return list(self.session.execute(query, {"community": self.community_id, "now": now, "limit": limit}))

    def mark_sending_many(self, calls: Sequence[tuple[Sequence[int], int]], lease_until: datetime) -> None:
        """Claim the rows of every call of one execute, (row ids, random_id) each, before the request leaves,
        in one executemany (a statement per call, 25 per execute of distinct replies, was the sender's main
        cost per reply). `not_before` of a row being sent is its lease: if the process dies, the row is sent
        again after it, with the same random_id, so VK drops the copy it already has."""
        rows = [
            {"row": row_id, "rid": random_id, "lease": lease_until}
            for row_ids, random_id in calls
            for row_id in row_ids
        ]
        if rows:
            self.session.execute(_MARK_SENDING, rows)

    def settle_many(self, changes: Sequence[dict[str, Any]]) -> None:
        """Rows updated by primary key in executemany batches (each dict has "id" and the new values)."""
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for change in changes:
            by_keys.setdefault(tuple(sorted(change)), []).append(change)
        for batch in by_keys.values():
            self.session.execute(update(OutgoingMessage), batch)

    def release(self, row_ids: Iterable[int], not_before: datetime | None) -> None:
        """Back to the queue after a failed attempt; random_id is kept, so VK drops a repeat."""
        ids = list(row_ids)
        if ids:
            self.session.execute(
                update(OutgoingMessage)
                .where(id_among(self.session, OutgoingMessage.id, ids))
                .values(status=OutgoingStatus.PENDING.value, not_before=not_before)
                .execution_options(synchronize_session=False)
            )

    def requeue_interrupted(self, expired_before: datetime | None = None) -> int:
        """Rows a crashed sender had claimed go back to the queue (with their random_ids): all of
        them, or (several processes) those whose lease ran out before `expired_before`."""
        query = update(OutgoingMessage).where(
            OutgoingMessage.community_id == self.community_id,
            OutgoingMessage.status == OutgoingStatus.SENDING.value,
        )
        if expired_before is not None:
            query = query.where(or_(OutgoingMessage.not_before.is_(None), OutgoingMessage.not_before < expired_before))
        result = self.session.execute(query.values(status=OutgoingStatus.PENDING.value, not_before=None))
        return rowcount(result)

    def get(self, row_id: int | None) -> OutgoingMessage | None:
        """One queued message (a broadcast's report or chat copy), or None for no id."""
        return self.session.get(OutgoingMessage, row_id) if row_id else None

    def by_ids(self, row_ids: Sequence[int]) -> list[OutgoingMessage]:
        return list(self.session.scalars(select(OutgoingMessage).where(OutgoingMessage.id.in_(list(row_ids)))))

    def count(self, status: OutgoingStatus) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(OutgoingMessage)
                .where(OutgoingMessage.community_id == self.community_id, OutgoingMessage.status == status.value)
            )
            or 0
        )
