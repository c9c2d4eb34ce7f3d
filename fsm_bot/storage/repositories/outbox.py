from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy import text as text_sql
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from fsm_bot.storage.models import Community, OutgoingMessage, OutgoingStatus
from fsm_bot.storage.random_ids import HALF, RandomIdRange, random_id_for
from fsm_bot.storage.repositories._ids import id_among
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.types import utcnow

# random_id_for(base, id, REPLIES) in SQL: (base + id) % (HALF - 1) + 1
REPLY_RANDOM_ID_MODULUS = HALF - 1
OPEN_STATUSES = (OutgoingStatus.PENDING.value, OutgoingStatus.SENDING.value)  # not yet with the person


class OutboxRepository:
    """Rows of the reply outbox: queued in the handler's transaction, claimed and settled by the sender."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id
        self._base: int | None = None

    def add(
        self,
        peer_id: int,
        text: str,
        keyboard: str | None = None,
        attachment: str | None = None,
        forward: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> OutgoingMessage:
        """Queue one message; its random_id comes from its own row id, unique for this community."""
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
        self.session.flush()
        row.random_id = random_id_for(self._random_id_base(), row.id, RandomIdRange.REPLIES)
        return row

    def add_many(self, peer_ids: Sequence[int], text: str, keyboard: str | None = None) -> int:
        """The same message to many peers (reminders due at one minute); returns how many were queued.

        The sender finds identical rows and sends them as one peer_ids call per hundred. Each row's
        random_id is computed from its id in SQL: on PostgreSQL one INSERT from an array, ids drawn
        from the sequence in the same statement; on SQLite (in process, no round trips) an
        executemany INSERT and one UPDATE of the rows it made (the only ones with random_id 0 after
        the largest id seen before, since this transaction holds SQLite's write lock).
        """
        if not peer_ids:
            return 0
        base = self._random_id_base()
        values = {
            "community": self.community_id,
            "text": text,
            "keyboard": keyboard,
            "status": OutgoingStatus.PENDING.value,
            "now": utcnow(),
            "base": base,
            "modulus": REPLY_RANDOM_ID_MODULUS,
        }
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text_sql(
                    "INSERT INTO outgoing_message (id, community_id, peer_id, random_id, text, keyboard, options,"
                    " status, attempts, created_at)"
                    " SELECT n, :community, p, ((:base + n) % :modulus) + 1, :text, :keyboard, '{}'::jsonb,"
                    " :status, 0, :now"
                    " FROM (SELECT nextval(pg_get_serial_sequence('outgoing_message', 'id')) AS n, p"
                    " FROM unnest(CAST(:peers AS bigint[])) AS p) AS fresh"
                ),
                {**values, "peers": list(peer_ids)},
            )
            return len(peer_ids)
        before = self.session.scalar(select(func.coalesce(func.max(OutgoingMessage.id), 0)))
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
        self.session.execute(
            update(OutgoingMessage)
            .where(
                OutgoingMessage.community_id == self.community_id,
                OutgoingMessage.random_id == 0,
                OutgoingMessage.id > before,
            )
            .values(random_id=(base + OutgoingMessage.id) % REPLY_RANDOM_ID_MODULUS + 1)
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

    def _random_id_base(self) -> int:
        if self._base is None:
            self._base = self.session.scalar(select(Community.random_id_base).where(Community.id == self.community_id))
            if self._base is None:
                raise LookupError(f"community {self.community_id} is not registered")
        return self._base

    def claimable(self, now: datetime, limit: int, lock: bool = False) -> list[Row[Any]]:
        """Pending rows whose retry time has come, oldest first, as plain rows of what sending needs
        (no ORM objects to build and track: a claim may read 2,500).

        With `lock` (several processes on PostgreSQL), rows another process is claiming right now
        are skipped rather than waited for (SKIP LOCKED), and only a person's oldest unsent row is
        offered, so their replies keep their order even when two processes send.
        """
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
                OutgoingMessage.community_id == self.community_id,
                OutgoingMessage.status == OutgoingStatus.PENDING.value,
                or_(OutgoingMessage.not_before.is_(None), OutgoingMessage.not_before <= now),
            )
            .order_by(OutgoingMessage.id)
            .limit(limit)
        )
        if lock and self.session.get_bind().dialect.name == "postgresql":
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
            query = query.where(OutgoingMessage.id == oldest_open).with_for_update(skip_locked=True)
        return list(self.session.execute(query))

    def mark_sending(self, row_ids: Sequence[int], random_id: int, lease_until: datetime) -> None:
        """One messages.send call's rows: claimed with the random_id they share, one statement.
        `not_before` of a row being sent is its lease: if the process dies, the row is sent again
        after it (with the same random_id, so VK drops the copy it already has)."""
        self.session.execute(
            update(OutgoingMessage)
            .where(id_among(self.session, OutgoingMessage.id, row_ids))
            .values(
                status=OutgoingStatus.SENDING.value,
                attempts=OutgoingMessage.attempts + 1,
                random_id=random_id,
                not_before=lease_until,
            )
            .execution_options(synchronize_session=False)
        )

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
