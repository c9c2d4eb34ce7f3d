from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Community, OutgoingMessage, OutgoingStatus
from fsm_bot.storage.random_ids import RandomIdRange, random_id_for
from fsm_bot.storage.types import utcnow


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

    def add_many(self, peer_ids: Sequence[int], text: str, keyboard: str | None = None) -> list[int]:
        """The same message to many peers in two statements (reminders due at one minute): the
        sender then finds identical rows and sends them as one peer_ids call per hundred."""
        if not peer_ids:
            return []
        now = utcnow()
        rows = self.session.execute(
            insert(OutgoingMessage).returning(OutgoingMessage.id, sort_by_parameter_order=True),
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
                    "created_at": now,
                }
                for peer_id in peer_ids
            ],
        ).all()
        base = self._random_id_base()
        ids = [row.id for row in rows]
        self.session.execute(
            update(OutgoingMessage),
            [{"id": row_id, "random_id": random_id_for(base, row_id, RandomIdRange.REPLIES)} for row_id in ids],
        )
        return ids

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

    def claimable(self, now: datetime, limit: int) -> list[OutgoingMessage]:
        """Pending rows whose retry time has come, oldest first."""
        return list(
            self.session.scalars(
                select(OutgoingMessage)
                .where(
                    OutgoingMessage.community_id == self.community_id,
                    OutgoingMessage.status == OutgoingStatus.PENDING.value,
                    or_(OutgoingMessage.not_before.is_(None), OutgoingMessage.not_before <= now),
                )
                .order_by(OutgoingMessage.id)
                .limit(limit)
            )
        )

    def next_retry_at(self) -> datetime | None:
        return self.session.scalar(
            select(func.min(OutgoingMessage.not_before)).where(
                OutgoingMessage.community_id == self.community_id,
                OutgoingMessage.status == OutgoingStatus.PENDING.value,
            )
        )

    def release(self, row_ids: Iterable[int], not_before: datetime | None) -> None:
        """Back to the queue after a failed attempt; random_id is kept, so VK drops a repeat."""
        ids = list(row_ids)
        if ids:
            self.session.execute(
                update(OutgoingMessage)
                .where(OutgoingMessage.id.in_(ids))
                .values(status=OutgoingStatus.PENDING.value, not_before=not_before)
            )

    def settle(
        self,
        row: OutgoingMessage,
        status: OutgoingStatus,
        message_id: int | None = None,
        conversation_message_id: int | None = None,
        error_code: int | None = None,
        error: str | None = None,
    ) -> None:
        row.status = status.value
        row.message_id = message_id
        row.conversation_message_id = conversation_message_id
        row.error_code = error_code
        row.error = error
        if status is OutgoingStatus.SENT:
            row.sent_at = utcnow()

    def requeue_interrupted(self) -> int:
        """Rows a crashed sender had claimed go back to the queue (with their random_ids)."""
        result = self.session.execute(
            update(OutgoingMessage)
            .where(
                OutgoingMessage.community_id == self.community_id,
                OutgoingMessage.status == OutgoingStatus.SENDING.value,
            )
            .values(status=OutgoingStatus.PENDING.value)
        )
        return result.rowcount

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
