"""The broadcast outbox as the sender drains it: recipients claimed, sent part by part, settled.

It works on thousands of recipient rows a second, so it uses Core statements on plain rows (bulk
UPDATE ... WHERE id IN ...) rather than ORM objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Case, Integer, Row, Select, bindparam, case, insert, or_, select, text, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientStatus,
    SendBatch,
)
from fsm_bot.storage.random_ids import RandomIdRange, random_id_for
from fsm_bot.storage.repositories._ids import id_among
from fsm_bot.storage.repositories._random_id_base import random_id_base
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.repositories.broadcasts import UNSYNCED, R
from fsm_bot.storage.types import UtcDateTime, utcnow


def _claimable_query(lock: bool) -> Select[int, int, int, int, int, int]:
    """Built once per form: the sender asks it at every look for work and every claim, and building it
    cost more CPU than running it."""
    query = (
        select(R.id, R.broadcast_id, R.vk_id, R.parts_sent, R.attempts, R.random_id)
        .join(Broadcast, Broadcast.id == R.broadcast_id)
        .where(
            Broadcast.community_id == bindparam("community"),
            Broadcast.status == BroadcastStatus.SENDING.value,
            R.status == RecipientStatus.PENDING.value,
            or_(R.not_before.is_(None), R.not_before <= bindparam("now")),
        )
        .order_by(R.broadcast_id, R.id)
        .limit(bindparam("limit", type_=Integer))
    )
    return query.with_for_update(of=BroadcastRecipient.__table__, skip_locked=True) if lock else query


_CLAIMABLE = _claimable_query(lock=False)
_CLAIMABLE_LOCKED = _claimable_query(lock=True)


class BroadcastQueueRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def claimable(self, now: datetime, limit: int, lock: bool = False) -> Sequence[Row]:
        """Recipients waiting for their next part; with `lock`, those another process is claiming
        right now are skipped (SKIP LOCKED), so two senders never take the same recipient."""
        query = _CLAIMABLE_LOCKED if lock else _CLAIMABLE
        return self.session.execute(query, {"community": self.community_id, "now": now, "limit": limit}).all()

    def has_claimable(self, now: datetime) -> bool:
        return bool(self.claimable(now, 1))

    def new_random_ids(self, batches: Sequence[tuple[int, int]]) -> list[int]:
        """Fresh random_ids for send batches (broadcast id, part), from the batch table's sequence,
        in one statement: a claim makes up to 25 of them and is on the delivery's critical path."""
        if not batches:
            return []
        now = utcnow()
        rows = self.session.execute(
            insert(SendBatch).returning(SendBatch.id, sort_by_parameter_order=True),
            [{"broadcast_id": broadcast_id, "part": part, "created_at": now} for broadcast_id, part in batches],
        ).all()
        base = random_id_base(self.session, self.community_id)
        return [random_id_for(base, row.id, RandomIdRange.BROADCASTS) for row in rows]

    def mark_sending(self, batches: Sequence[tuple[Sequence[int], int]], lease_until: datetime) -> None:
        """Claim rows for their batches (row ids, random_id) before the request leaves.

        All batches go in one statement joined to the (row id, random_id) pairs: an array on
        PostgreSQL, a JSON array on SQLite. A statement per batch was most of a claim's cost (an ORM
        UPDATE per batch in process on SQLite, a round trip each on PostgreSQL), and claims are on the
        delivery's critical path.
        """
        ids = [row_id for row_ids, _ in batches for row_id in row_ids]
        if not ids:
            return
        random_ids = [random_id for row_ids, random_id in batches for _ in row_ids]
        values = {"status": RecipientStatus.SENDING.value, "lease_until": lease_until}
        if self.session.get_bind().dialect.name == "postgresql":
            pairs = "unnest(CAST(:ids AS bigint[]), CAST(:rids AS bigint[])) AS c(id, rid)"
            values.update(ids=ids, rids=random_ids)
        else:
            pairs = (
                "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS rid"
                " FROM json_each(:pairs)) AS c"
            )
            values["pairs"] = json.dumps(list(zip(ids, random_ids, strict=True)))
        self.session.execute(
            text(
                "UPDATE broadcast_recipient SET status = :status, random_id = c.rid,"
                f" attempts = broadcast_recipient.attempts + 1, not_before = :lease_until FROM {pairs}"
                " WHERE broadcast_recipient.id = c.id"
            ).bindparams(bindparam("lease_until", type_=UtcDateTime)),
            values,
        )

    def part_delivered(self, rows_by_part: Mapping[int, Sequence[int]], parts_total: dict[int, int]) -> None:
        """A part reached these rows (part -> row ids): the next part is due, or the copy is complete.

        Only rows still sending that very part move on. A request that outlived its lease may have
        been sent again by another sender (VK dropped the repeat); both then settle, and without
        this fence the second settle would skip the recipient's next part.
        """
        for part, row_ids in rows_by_part.items():
            if not row_ids:
                continue
            self.session.execute(
                update(BroadcastRecipient)
                .where(
                    id_among(self.session, R.id, row_ids),
                    R.status == RecipientStatus.SENDING.value,
                    R.parts_sent == part,
                )
                .values(
                    parts_sent=R.parts_sent + 1,
                    random_id=0,
                    attempts=0,
                    not_before=None,  # it held the lease while sending; the next part is due at once
                    status=case(
                        *[
                            (R.broadcast_id == broadcast_id, _after_part(total))
                            for broadcast_id, total in parts_total.items()
                        ],
                        else_=RecipientStatus.PENDING.value,
                    ),
                ),
                execution_options=UNSYNCED,
            )

    def retry_later(self, row_ids: Sequence[int], not_before: datetime) -> None:
        """Rows this sender was sending go back to the queue (those another sender settled meanwhile stay)."""
        if row_ids:
            self.session.execute(
                update(BroadcastRecipient)
                .where(id_among(self.session, R.id, row_ids), R.status == RecipientStatus.SENDING.value)
                .values(status=RecipientStatus.PENDING.value, not_before=not_before),
                execution_options=UNSYNCED,
            )

    def give_up(
        self, row_id: int, status: RecipientStatus, code: int | None, reason: str | None, part: int | None = None
    ) -> None:
        query = update(BroadcastRecipient).where(R.id == row_id, R.status == RecipientStatus.SENDING.value)
        if part is not None:
            query = query.where(R.parts_sent == part)
        self.session.execute(
            query.values(status=status.value, error_code=code, error=reason), execution_options=UNSYNCED
        )

    def set_aside(self, broadcast_ids: Iterable[int], reason: str) -> None:
        """Broadcasts the sender cannot turn into messages leave the queue as failed, with their
        waiting recipients, so the others go on; the sender's report says so at its next refresh."""
        ids = list(set(broadcast_ids))
        if not ids:
            return
        self.session.execute(
            update(Broadcast)
            .where(Broadcast.community_id == self.community_id, Broadcast.id.in_(ids))
            .values(status=BroadcastStatus.FAILED.value, report_dirty=True, finished_at=utcnow(), nudge_at=None),
            execution_options=UNSYNCED,
        )
        waiting = (RecipientStatus.PENDING.value, RecipientStatus.SENDING.value)
        self.session.execute(
            update(BroadcastRecipient)
            .where(R.broadcast_id.in_(ids), R.status.in_(waiting))
            .values(status=RecipientStatus.FAILED.value, error=reason[:200]),
            execution_options=UNSYNCED,
        )

    def requeue_interrupted(self, expired_before: datetime | None = None) -> int:
        """Recipients a crashed sender had claimed go back to the queue (with their random_ids): all,
        or (several processes) those whose lease (`not_before` while sending) ran out."""
        sending = select(Broadcast.id).where(Broadcast.community_id == self.community_id)
        query = update(BroadcastRecipient).where(R.status == RecipientStatus.SENDING.value, R.broadcast_id.in_(sending))
        if expired_before is not None:
            query = query.where(or_(R.not_before.is_(None), R.not_before < expired_before))
        result = self.session.execute(
            query.values(status=RecipientStatus.PENDING.value, not_before=None), execution_options=UNSYNCED
        )
        return rowcount(result)

    def touch(self, broadcast_ids: Iterable[int]) -> None:
        """Mark reports as needing a refresh, and finish broadcasts with nothing left to send."""
        ids = list(set(broadcast_ids))
        if not ids:
            return
        self.session.execute(update(Broadcast).where(Broadcast.id.in_(ids)).values(report_dirty=True))
        still_open = (
            select(R.id)
            .where(
                R.broadcast_id == Broadcast.id,
                R.status.in_([RecipientStatus.PENDING.value, RecipientStatus.SENDING.value]),
            )
            .exists()
        )
        self.session.execute(
            update(Broadcast)
            .where(Broadcast.id.in_(ids), Broadcast.status == BroadcastStatus.SENDING.value, ~still_open)
            .values(status=BroadcastStatus.DONE.value, finished_at=utcnow())
        )

    def parts(self, broadcast_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        rows = self.session.execute(select(Broadcast.id, Broadcast.parts).where(Broadcast.id.in_(set(broadcast_ids))))
        return {row.id: row.parts for row in rows}


def _after_part(total: int) -> Case[str]:
    return case((R.parts_sent + 1 >= total, RecipientStatus.SENT.value), else_=RecipientStatus.PENDING.value)
