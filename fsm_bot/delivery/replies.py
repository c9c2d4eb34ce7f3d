"""The reply outbox: what handlers answer, queued in their own transaction, sent by the Sender.

A handler queues replies in the same transaction as its state change (`queue_reply`); the
ReplyQueue hands the Sender what is waiting, grouped so identical texts share one peer_ids call,
and settles each row with VK's answer. A row gets its random_id at its first claim, in the claim's
transaction and so before the request leaves (OutboxRepository.first_random_id), and keeps it
across retries and restarts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fsm_bot.delivery.sender import MAX_ATTEMPTS, Claimed, Delivery, RetryAt
from fsm_bot.storage.models import OutgoingMessage, OutgoingStatus
from fsm_bot.storage.repositories import OutboxRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.errors import Outcome
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_PEERS_PER_CALL, MessageContent, SendUnit, split_text
from fsm_bot.vk.sending import PeerResult, fit_execute

log = logging.getLogger(__name__)

_STATUS_BY_OUTCOME = {
    Outcome.SENT: OutgoingStatus.SENT,
    Outcome.CANNOT_RECEIVE: OutgoingStatus.CANNOT_RECEIVE,
    Outcome.GONE: OutgoingStatus.GONE,
}


def queue_reply(
    session: Session,
    community_id: int,
    peer_id: int,
    content: MessageContent,
    outbox: OutboxRepository | None = None,
) -> list[OutgoingMessage]:
    """Queue a reply in the caller's unit of work; a text over 4096 characters becomes several messages.

    The keyboard and attachments ride on the last part, where the person's eyes end up. Pass `outbox`
    when queueing many replies in one unit of work, so the repository is set up once.
    """
    outbox = outbox or OutboxRepository(session, community_id)
    parts = split_text(content.text)
    rows = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        rows.append(
            outbox.add(
                peer_id,
                part,
                keyboard=content.keyboard if last else None,
                attachment=content.attachment if last else None,
                forward=content.forward if index == 0 else None,
                options=dict(content.options),
            )
        )
    return rows


def _content(row: Any) -> MessageContent:
    return MessageContent(row.text, row.keyboard, row.attachment, row.forward, dict(row.options or {}))


def _checked_content(row: Any) -> MessageContent:
    """The row's message, or ValueError when it cannot become a messages.send call at all."""
    content = _content(row)
    fields = (content.keyboard, content.attachment, content.forward)
    if not isinstance(content.text, str) or not all(value is None or isinstance(value, str) for value in fields):
        raise ValueError("a field of the wrong type")
    content.key()  # the options must be JSON
    return content


class ReplyQueue:
    """The Sender's view of one community's reply outbox."""

    name = "replies"

    def __init__(self, community_id: int, claim_limit: int = 2500) -> None:
        self.community_id = community_id
        self.claim_limit = claim_limit

    def requeue_interrupted(self, session: Session, expired_before: datetime | None = None) -> int:
        return OutboxRepository(session, self.community_id).requeue_interrupted(expired_before)

    def has_work(self, session: Session, now: datetime) -> bool:
        return bool(OutboxRepository(session, self.community_id).claimable(now, limit=1))

    def claim(self, session: Session, busy_peers: set[int], lease_until: datetime) -> tuple[list[Claimed], bool]:
        """Pick what goes in the next request; one row per person, so their replies keep their order.

        Rows are read as plain tuples and claimed with one UPDATE per messages.send call: a claim
        can hold an execute's worth (2,500 copies) without building an ORM object per row.
        """
        outbox = OutboxRepository(session, self.community_id)
        rows = outbox.claimable(utcnow(), self.claim_limit, lock=True)
        first_per_peer: dict[int, Any] = {}
        for row in rows:
            if row.peer_id not in busy_peers and row.peer_id not in first_per_peer:
                first_per_peer[row.peer_id] = row
        groups: dict[tuple, list[Any]] = defaultdict(list)
        broken = []
        for row in first_per_peer.values():
            try:
                content = _checked_content(row)
            except (TypeError, ValueError) as error:
                broken.append(row.id)
                log.error("reply %d cannot be sent (%s); set aside as failed", row.id, error)
                continue
            # A row tried before keeps the random_id it was sent with, and so its companions.
            key = ("retry", row.random_id, *content.key()) if row.attempts else ("new", *content.key())
            groups[key].append(row)
        if broken:
            # Failed in the claim's own transaction: one bad row must not come back at every claim
            # and hold up the person's later replies (and, before, everyone's).
            outbox.settle_many(
                [{"id": row_id, "status": OutgoingStatus.FAILED.value, "error": "cannot be sent"} for row_id in broken]
            )
        chunks = [
            group[start : start + MAX_PEERS_PER_CALL]
            for group in groups.values()
            for start in range(0, len(group), MAX_PEERS_PER_CALL)
        ]
        chunks.sort(key=lambda chunk: min(row.id for row in chunk))
        chunks = chunks[:MAX_CALLS_PER_EXECUTE]
        for chunk in chunks:
            chunk.sort(key=lambda row: row.id)
        units = [
            SendUnit(
                tuple(row.peer_id for row in chunk),
                # rows tried before share the random_id they were sent with; new rows get their first
                chunk[0].random_id if chunk[0].attempts else outbox.first_random_id(chunk[0].id),
                _content(chunk[0]),
            )
            for chunk in chunks
        ]
        fitting = fit_execute(units)  # long texts fill an execute's code before 25 calls do
        # one peer_ids call shares one random_id (VK_PROTOCOL.md)
        sending = list(zip(chunks[:fitting], units[:fitting], strict=True))
        outbox.mark_sending_many([([row.id for row in chunk], unit.random_id) for chunk, unit in sending], lease_until)
        claimed = []
        for chunk, unit in sending:
            claimed.append(
                Claimed(unit, {row.peer_id: row.id for row in chunk}, max(row.attempts for row in chunk) + 1)
            )
        taken = sum(len(item.row_ids) for item in claimed)
        return claimed, taken < len(first_per_peer) or len(rows) == self.claim_limit

    def settle(
        self, session: Session, claimed: Sequence[Claimed], results: Sequence[list[PeerResult]], retry_at: RetryAt
    ) -> list[Delivery]:
        changes: list[dict[str, Any]] = []
        deliveries = []
        now = utcnow()
        for item, unit_results in zip(claimed, results, strict=True):
            for result in unit_results:
                row_id = item.row_ids[result.peer_id]
                if result.outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
                    changes.append(
                        {"id": row_id, "status": OutgoingStatus.PENDING.value, "not_before": retry_at(item.attempts)}
                    )
                    continue
                status = _STATUS_BY_OUTCOME.get(result.outcome, OutgoingStatus.FAILED)
                changes.append(
                    {
                        "id": row_id,
                        "status": status.value,
                        "message_id": result.message_id,
                        "conversation_message_id": result.conversation_message_id,
                        "error_code": result.error_code,
                        "error": result.error,
                        "sent_at": now if status is OutgoingStatus.SENT else None,
                    }
                )
                deliveries.append(
                    Delivery(
                        self.name,
                        row_id,
                        result.peer_id,
                        result.outcome,
                        result.message_id,
                        result.error_code,
                        result.error,
                    )
                )
        OutboxRepository(session, self.community_id).settle_many(changes)
        return deliveries

    def release(self, session: Session, row_ids: Sequence[int], not_before: datetime | None) -> None:
        OutboxRepository(session, self.community_id).release(row_ids, not_before)
