"""The reply outbox and its sender.

A handler queues replies in the same transaction as its state change (`queue_reply`); the
sender claims them, packs what is waiting into as few requests as VK allows, and settles each row
with VK's answer. Every row keeps its random_id across retries and restarts, so VK drops a copy
that was already delivered before a crash instead of showing it twice.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.models import OutgoingMessage, OutgoingStatus
from fsm_bot.storage.repositories import OutboxRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.client import Slot, VkClient
from fsm_bot.vk.errors import Outcome, VkAuthError, VkCallError
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_PEERS_PER_CALL, MessageContent, SendUnit, split_text
from fsm_bot.vk.sending import PeerResult, send_units

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
POLL_INTERVAL = 1.0

_STATUS_BY_OUTCOME = {
    Outcome.SENT: OutgoingStatus.SENT,
    Outcome.CANNOT_RECEIVE: OutgoingStatus.CANNOT_RECEIVE,
    Outcome.GONE: OutgoingStatus.GONE,
}


@dataclass(frozen=True)
class Delivery:
    """The final fate of one queued reply, for whoever wants to react (mark a member, alert an admin)."""

    outbox_id: int
    peer_id: int
    outcome: Outcome
    message_id: int | None = None
    error_code: int | None = None
    error: str | None = None


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


def _content(row: OutgoingMessage) -> MessageContent:
    return MessageContent(row.text, row.keyboard, row.attachment, row.forward, dict(row.options or {}))


@dataclass
class _Claimed:
    unit: SendUnit
    row_ids: dict[int, int]  # peer_id -> outbox row id
    attempts: int


class ReplySender:
    """Drains one community's reply outbox through a VkClient."""

    def __init__(
        self,
        database: Database,
        community_id: int,
        client: VkClient,
        on_delivery: Callable[[list[Delivery]], None] | None = None,
        on_fatal: Callable[[Exception], None] | None = None,
        max_in_flight: int | None = None,
        claim_limit: int = 250,
    ) -> None:
        self.database = database
        self.community_id = community_id
        self.client = client
        self.on_delivery = on_delivery
        self.on_fatal = on_fatal
        self.claim_limit = claim_limit
        workers = max_in_flight or 4 * len(client.lanes)
        self._slots = threading.BoundedSemaphore(workers)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="reply-sender")
        self._wakeup = threading.Event()
        self._stop = threading.Event()
        self._in_flight_peers: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wakeup.set()

    def start(self) -> None:
        requeued = self.database.transaction(
            lambda session: OutboxRepository(session, self.community_id).requeue_interrupted()
        )
        if requeued:
            log.info("resending %d reply(ies) interrupted by the last stop (VK drops repeats)", requeued)
        self._wakeup.set()
        self._thread = threading.Thread(target=self._run, name="reply-sender-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in flight, then return; unsent rows stay queued for the next start."""
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._executor.shutdown(wait=True, cancel_futures=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wakeup.wait(POLL_INTERVAL)
            self._wakeup.clear()
            more = self._has_work()
            while more and not self._stop.is_set():
                self._slots.acquire()
                try:
                    slot = self.client.reserve()
                    claimed, more = self.database.transaction(self._claim)
                except Exception:
                    self._slots.release()
                    if self._stop.is_set():
                        return
                    log.exception("reply sender: claiming failed; retrying shortly")
                    self._stop.wait(POLL_INTERVAL)
                    break
                if not claimed:
                    self._slots.release()
                    break
                self._executor.submit(self._send, slot, claimed)

    def _has_work(self) -> bool:
        now = utcnow()
        try:
            return bool(
                self.database.transaction(
                    lambda session: OutboxRepository(session, self.community_id).claimable(now, limit=1)
                )
            )
        except Exception:
            log.exception("reply sender: the outbox cannot be read")
            return False

    def _claim(self, session: Session) -> tuple[list[_Claimed], bool]:
        """Pick what goes in the next request; one row per person, so their replies keep their order.

        Also says whether more is ready to go at once, so a backlog is drained without another look
        at the outbox between requests (that look would cost as much as the claim itself).
        """
        outbox = OutboxRepository(session, self.community_id)
        rows = outbox.claimable(utcnow(), self.claim_limit)
        with self._lock:
            busy = set(self._in_flight_peers)
        first_per_peer: dict[int, OutgoingMessage] = {}
        for row in rows:
            if row.peer_id not in busy and row.peer_id not in first_per_peer:
                first_per_peer[row.peer_id] = row
        groups: dict[tuple, list[OutgoingMessage]] = defaultdict(list)
        for row in first_per_peer.values():
            # A row tried before keeps the random_id it was sent with, and so its companions.
            key = ("retry", row.random_id, *_content(row).key()) if row.attempts else ("new", *_content(row).key())
            groups[key].append(row)
        chunks = [
            group[start : start + MAX_PEERS_PER_CALL]
            for group in groups.values()
            for start in range(0, len(group), MAX_PEERS_PER_CALL)
        ]
        chunks.sort(key=lambda chunk: min(row.id for row in chunk))
        claimed = []
        for chunk in chunks[:MAX_CALLS_PER_EXECUTE]:
            chunk.sort(key=lambda row: row.id)
            random_id = chunk[0].random_id
            for row in chunk:
                row.random_id = random_id  # one peer_ids call shares one random_id (VK_PROTOCOL.md)
                row.status = OutgoingStatus.SENDING.value
                row.attempts += 1
            unit = SendUnit(tuple(row.peer_id for row in chunk), random_id, _content(chunk[0]))
            claimed.append(_Claimed(unit, {row.peer_id: row.id for row in chunk}, max(row.attempts for row in chunk)))
        with self._lock:
            for item in claimed:
                self._in_flight_peers.update(item.row_ids)
        taken = sum(len(item.row_ids) for item in claimed)
        return claimed, taken < len(first_per_peer) or len(rows) == self.claim_limit

    def _send(self, slot: Slot, claimed: list[_Claimed]) -> None:
        try:
            self._deliver(slot, claimed)
        except Exception:
            log.exception("reply sender: unexpected failure; the replies stay queued")
        finally:
            with self._lock:
                for item in claimed:
                    self._in_flight_peers.difference_update(item.row_ids)
            self._slots.release()
            self._wakeup.set()

    def _deliver(self, slot: Slot, claimed: list[_Claimed]) -> None:
        all_ids = [row_id for item in claimed for row_id in item.row_ids.values()]
        try:
            results = send_units(self.client, [item.unit for item in claimed], slot=slot)
        except VkAuthError as error:
            self._release(all_ids, delay=None)
            log.error("%s", error)
            self._stop.set()
            if self.on_fatal is not None:
                self.on_fatal(error)
            return
        except VkCallError as error:
            log.warning("reply sender: %s; %d reply(ies) will be retried", error, len(all_ids))
            self._release(all_ids, delay=self._backoff(max(item.attempts for item in claimed)))
            return
        deliveries = self.database.transaction(lambda session: self._settle(session, claimed, results))
        if deliveries and self.on_delivery is not None:
            self.on_delivery(deliveries)

    def _settle(self, session: Session, claimed: list[_Claimed], results: Sequence[list[PeerResult]]) -> list[Delivery]:
        outbox = OutboxRepository(session, self.community_id)
        rows = {row.id: row for row in outbox.by_ids([i for item in claimed for i in item.row_ids.values()])}
        deliveries = []
        retry: list[OutgoingMessage] = []
        for item, unit_results in zip(claimed, results, strict=True):
            for result in unit_results:
                row = rows[item.row_ids[result.peer_id]]
                if result.outcome is Outcome.RETRY and row.attempts < MAX_ATTEMPTS:
                    retry.append(row)
                    continue
                status = _STATUS_BY_OUTCOME.get(result.outcome, OutgoingStatus.FAILED)
                outbox.settle(
                    row, status, result.message_id, result.conversation_message_id, result.error_code, result.error
                )
                deliveries.append(
                    Delivery(row.id, row.peer_id, result.outcome, result.message_id, result.error_code, result.error)
                )
        for row in retry:
            row.status = OutgoingStatus.PENDING.value
            row.not_before = utcnow() + self._backoff(row.attempts)
        return deliveries

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.client.backoff(attempts, 0))

    def _release(self, row_ids: list[int], delay: timedelta | None) -> None:
        not_before: datetime | None = utcnow() + delay if delay is not None else None
        self.database.transaction(
            lambda session: OutboxRepository(session, self.community_id).release(row_ids, not_before)
        )
