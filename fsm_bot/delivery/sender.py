"""The sender: drains the outboxes (replies first, then broadcasts) through one VkClient.

Every queue keeps its rows in the database: a row is claimed (marked sending, with the random_id
its copy will carry), sent inside an execute of up to 25 messages.send calls of up to 100 peers,
and settled with VK's answer. A crash between the send and the settle leaves rows marked sending;
the next start sends them again with the same random_id and VK drops what it already delivered.
One person has at most one message in flight, so their messages keep their order.

Several processes may drain the same outboxes (PostgreSQL): claims skip rows another process is
claiming (SKIP LOCKED), and a row being sent carries a lease; rows whose process died are sent
again when it runs out, by whichever sender looks first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.client import Slot, VkClient
from fsm_bot.vk.errors import Outcome, VkAuthError, VkCallError, VkUnavailableError
from fsm_bot.vk.messages import SendUnit
from fsm_bot.vk.sending import PeerResult, send_units

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
MAX_ATTEMPTS = 10
DEFAULT_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Delivery:
    """The final fate of one copy, for whoever wants to react (mark a member, update a report)."""

    queue: str
    row_id: int
    peer_id: int
    outcome: Outcome
    message_id: int | None = None
    error_code: int | None = None
    error: str | None = None


@dataclass
class Claimed:
    """One messages.send call's worth of rows, claimed and marked sending."""

    unit: SendUnit
    row_ids: dict[int, int]  # peer_id -> row id
    attempts: int
    owner: int | None = None  # what the rows belong to, for the queue's own book-keeping (a broadcast id)
    stage: int = 0  # which part of the owner's message the rows were sent: a settle applies only at that part


RetryAt = Callable[[int], datetime]


class Queue(Protocol):
    """An outbox the sender drains; the methods run inside the sender's units of work."""

    name: str

    def requeue_interrupted(self, session: Session, expired_before: datetime | None = None) -> int:
        """Rows left sending by a dead sender back to the queue: all, or those leased before a time."""
        ...

    def has_work(self, session: Session, now: datetime) -> bool: ...

    def claim(self, session: Session, busy_peers: set[int], lease_until: datetime) -> tuple[list[Claimed], bool]:
        """Rows for one request (at most 25 units), leased until `lease_until`, and whether more is
        ready at once."""
        ...

    def settle(
        self, session: Session, claimed: Sequence[Claimed], results: Sequence[list[PeerResult]], retry_at: RetryAt
    ) -> list[Delivery]: ...

    def release(self, session: Session, row_ids: Sequence[int], not_before: datetime | None) -> None: ...


class Sender:
    def __init__(
        self,
        database: Database,
        client: VkClient,
        queues: Sequence[Queue],
        on_delivery: Callable[[list[Delivery]], None] | None = None,
        on_fatal: Callable[[Exception], None] | None = None,
        max_in_flight: int | None = None,
        lease: timedelta = DEFAULT_LEASE,
        resume_all: bool = True,
    ) -> None:
        """`resume_all`: this is the only sender, so whatever was left sending at start was its own
        and goes out again at once; with several processes only expired leases are taken over."""
        self.database = database
        self.client = client
        self.queues = list(queues)
        self.on_delivery = on_delivery
        self.on_fatal = on_fatal
        self.lease = lease
        self.resume_all = resume_all
        self._next_takeover = 0.0
        workers = max_in_flight or 4 * len(client.lanes)
        self._slots = threading.BoundedSemaphore(workers)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="sender")
        self._wakeup = threading.Event()
        self._stop = threading.Event()
        self._in_flight_peers: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wakeup.set()

    def start(self) -> None:
        if self.resume_all:
            for queue in self.queues:
                requeued = self.database.transaction(queue.requeue_interrupted)
                if requeued:
                    log.info(
                        "%s: resending %d message(s) interrupted by the last stop (VK drops repeats)",
                        queue.name,
                        requeued,
                    )
        self._wakeup.set()
        self._thread = threading.Thread(target=self._run, name="sender-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in flight, then return; unsent rows stay queued for the next start."""
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._executor.shutdown(wait=True, cancel_futures=False)

    # --- the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wakeup.wait(POLL_INTERVAL)
            self._wakeup.clear()
            self._take_over_expired()
            for queue in self.queues:  # in priority order: a person's reply before a broadcast copy
                if not self._drain(queue):
                    return

    def _drain(self, queue: Queue) -> bool:
        """Send what `queue` has ready; False when the sender is stopping."""
        more = self._has_work(queue)
        while more and not self._stop.is_set():
            self._slots.acquire()
            try:
                slot = self.client.reserve()  # before the claim: the batch takes in what arrives meanwhile
                claimed, more = self.database.transaction(
                    lambda session: queue.claim(session, self._busy_peers(), utcnow() + self.lease)
                )
            except Exception:
                self._slots.release()
                if self._stop.is_set():
                    return False
                log.exception("%s: claiming failed; retrying shortly", queue.name)
                self._stop.wait(POLL_INTERVAL)
                return True
            if not claimed:
                self._slots.release()
                return True
            with self._lock:
                for item in claimed:
                    self._in_flight_peers.update(item.row_ids)
            self._executor.submit(self._send, queue, slot, claimed)
        return not self._stop.is_set()

    def _take_over_expired(self) -> None:
        """Every few seconds: rows whose sender died holding them (lease run out) go back to the queue."""
        now = time.monotonic()
        if now < self._next_takeover:
            return
        self._next_takeover = now + min(self.lease.total_seconds() / 3, 10.0)
        expired_before = utcnow()
        for queue in self.queues:
            try:
                taken = self.database.transaction(partial(queue.requeue_interrupted, expired_before=expired_before))
            except Exception:
                log.warning("%s: expired leases could not be checked now", queue.name, exc_info=True)
                continue
            if taken:
                log.warning(
                    "%s: %d message(s) of a sender that stopped are sent again (VK drops repeats)", queue.name, taken
                )

    def _busy_peers(self) -> set[int]:
        with self._lock:
            return set(self._in_flight_peers)

    def _has_work(self, queue: Queue) -> bool:
        now = utcnow()
        try:
            return self.database.transaction(lambda session: queue.has_work(session, now))
        except Exception:
            log.exception("%s: the outbox cannot be read", queue.name)
            return False

    # --- one request

    def _send(self, queue: Queue, slot: Slot, claimed: list[Claimed]) -> None:
        try:
            self._deliver(queue, slot, claimed)
        except Exception:
            log.exception("%s: unexpected failure; the messages stay queued", queue.name)
        finally:
            with self._lock:
                for item in claimed:
                    self._in_flight_peers.difference_update(item.row_ids)
            self._slots.release()
            self._wakeup.set()

    def _deliver(self, queue: Queue, slot: Slot, claimed: list[Claimed]) -> None:
        all_ids = [row_id for item in claimed for row_id in item.row_ids.values()]
        try:
            results = send_units(self.client, [item.unit for item in claimed], slot=slot)
        except VkAuthError as error:
            self._release(queue, all_ids, None)
            log.error("%s", error)
            self._stop.set()
            if self.on_fatal is not None:
                self.on_fatal(error)
            return
        except VkCallError as error:
            # The request as a whole failed: VK unavailable after the client's retries (each row is
            # retried later, up to its attempt limit), or an error no retry can fix (each row is
            # settled as failed with it, rather than retried for ever).
            outcome = Outcome.RETRY if isinstance(error, VkUnavailableError) else error.outcome
            log.warning("%s: %s; %d message(s) marked %s", queue.name, error, len(all_ids), outcome.value)
            results = [
                [PeerResult(peer, outcome, error_code=error.code, error=str(error)) for peer in item.unit.peer_ids]
                for item in claimed
            ]
        except Exception:
            # Not VK's answer but our request that could not be built or read: find the unit at fault
            # by sending each alone, so the others still go and the bad one is settled as failed
            # instead of being claimed again for ever.
            log.exception(
                "%s: a request of %d message(s) failed to go out; sending them one by one", queue.name, len(claimed)
            )
            results = [self._send_alone(item) for item in claimed]
        deliveries = self.database.transaction(lambda session: queue.settle(session, claimed, results, self.retry_at))
        if deliveries and self.on_delivery is not None:
            self.on_delivery(deliveries)

    def _send_alone(self, item: Claimed) -> list[PeerResult]:
        try:
            return send_units(self.client, [item.unit])[0]
        except VkCallError as error:
            outcome = Outcome.RETRY if isinstance(error, VkUnavailableError) else error.outcome
            return [PeerResult(peer, outcome, error_code=error.code, error=str(error)) for peer in item.unit.peer_ids]
        except Exception as error:
            reason = f"cannot be sent: {type(error).__name__}"
            return [PeerResult(peer, Outcome.BUG, error=reason) for peer in item.unit.peer_ids]

    def retry_at(self, attempts: int) -> datetime:
        return utcnow() + timedelta(seconds=self.client.backoff(attempts, 0))

    def _release(self, queue: Queue, row_ids: list[int], not_before: datetime | None) -> None:
        self.database.transaction(lambda session: queue.release(session, row_ids, not_before))
