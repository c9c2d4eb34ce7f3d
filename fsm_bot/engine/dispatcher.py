"""The dispatcher: inbox events to workers; one user's events in order, different users in parallel.

Each user has a queue of their pending events. A user whose oldest event is ready waits in line; a
worker takes the oldest events of up to BATCH people from that line and handles them in one transaction
(group commit: the commit, the session and the connection are most of an event's cost), and takes
nobody's next event before that one is done, so each person's order holds. A batch that fails is
handled again one event at a time, so one poisoned event or a lost race costs only itself. The pool is
bounded, and so is the number of events read ahead from the inbox, so a flood of events costs memory in
proportion to the pool, not to the flood.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from fsm_bot.backoff import backoff_delay
from fsm_bot.delivery.effects import AfterCommit
from fsm_bot.engine.inbox import Inbox, QueuedEvent
from fsm_bot.engine.saving import Handled

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # tries of one event before it is set aside, if the database answers meanwhile
RETRY_FIRST, RETRY_MAX = 0.4, 10.0  # seconds between tries of an event (fsm_bot/backoff.py): 0.2-0.4 s first
TYPING_AFTER = 0.7  # seconds a handler may take before the person sees "typing..."
TYPING_CHECK = 0.25
READ_BATCH = 200
BATCH = 32  # people whose events one transaction handles at most; the line is usually shorter


class EventHandling(Protocol):
    """What the dispatcher runs each event through (the EventHandler): handle it in its unit of work,
    or set it aside after it kept failing with an outage's error while the database answered."""

    def handle(self, queued: QueuedEvent) -> Handled: ...

    def handle_batch(self, batch: Sequence[QueuedEvent]) -> list[Handled] | None: ...

    def set_aside(self, queued: QueuedEvent, error: BaseException, attempts: int) -> Handled: ...


AfterCommitFunction = Callable[[AfterCommit], None]
TypingFunction = Callable[[int], None]


class Dispatcher:
    def __init__(
        self,
        inbox: Inbox,
        handler: EventHandling,
        after_commit: AfterCommitFunction = lambda effects: None,
        workers: int = 8,
        max_read_ahead: int = 1000,
        typing: TypingFunction | None = None,
        batch: int = BATCH,
    ) -> None:
        """`after_commit` carries out what a handled event leaves to do (delivery/effects.py); `batch` is
        how many people's events may share a transaction (1: each its own, as before group commit)."""
        self.inbox = inbox
        self.handler = handler
        self.after_commit = after_commit
        self.typing = typing
        self.workers = workers
        self.batch = max(1, batch)
        # Several processes share the inbox: take only what the pool will start soon (a batch for each
        # worker), so the events a worker has leased are not waiting behind others while another idles.
        shared_limit = max(4, self.batch) * workers
        self.max_read_ahead = min(max_read_ahead, shared_limit) if inbox.shared else max_read_ahead
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="dispatch")
        self._queues: dict[int, deque[QueuedEvent]] = {}
        self._ready: deque[int] = deque()  # people whose oldest event no worker holds, in arrival order
        self._busy = 0  # workers taking from the line
        self._lock = threading.Lock()
        self._outstanding = 0
        self._room = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handled = 0
        self._attempts: dict[int, int] = {}  # row id -> failed tries so far, for events waiting to try again
        self._in_progress: dict[int, tuple[int, float]] = {}  # row id -> (peer, started), for "typing..."
        self._typing_thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._read_loop, name="dispatcher", daemon=True)
        self._thread.start()
        if self.typing is not None:
            self._typing_thread = threading.Thread(target=self._watch_typing, name="typing", daemon=True)
            self._typing_thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking events, finish those in flight (they commit or stay in the inbox), return."""
        self._stop.set()
        with self._room:
            self._room.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return self._outstanding == 0

    # --- reading the inbox

    def _read_loop(self) -> None:
        generation = -1
        while not self._stop.is_set():
            self._wait_for_room()
            try:
                rows = self.inbox.claim(self._claim_size())
            except DBAPIError:
                log.warning("dispatcher: the inbox cannot be read; retrying", exc_info=True)
                self._stop.wait(1.0)
                continue
            for event in rows:
                if not self._admit(event):
                    return
            if not rows:
                generation = self.inbox.wait_for_events(generation, timeout=1.0)

    def _wait_for_room(self) -> None:
        """With a backlog, claim when half the read-ahead is free, not as soon as one event is: a claim is a
        transaction, and one per event handled cost as much as the event's own (bench/engine.py)."""
        room = max(1, min(READ_BATCH, self.max_read_ahead // 2))
        with self._room:
            self._room.wait_for(lambda: self.max_read_ahead - self._outstanding >= room or self._stop.is_set())

    def _claim_size(self) -> int:
        with self._lock:
            return max(1, min(READ_BATCH, self.max_read_ahead - self._outstanding))

    def _admit(self, event: QueuedEvent) -> bool:
        with self._room:
            self._room.wait_for(lambda: self._outstanding < self.max_read_ahead or self._stop.is_set())
            if self._stop.is_set():
                return False
            self._outstanding += 1
            key = event.user_id if event.user_id is not None else -event.row_id
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(event)  # that user's worker will get to it, in order
                return True
            self._queues[key] = deque([event])
            self._line_up(key)
        return True

    # --- working through the line of people with a ready event

    def _line_up(self, key: int) -> None:
        """Put a person in line (the lock held); call a worker if one is free."""
        self._ready.append(key)
        if self._busy < self.workers:
            self._busy += 1
            try:
                self._executor.submit(self._work)
            except RuntimeError:  # the pool has shut down: the events stay in the inbox for the next start
                self._busy -= 1

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._ready or self._stop.is_set():  # stopping: the rest stays in the inbox
                    self._busy -= 1
                    return
                keys = self._take_batch()
                events = [self._queues[key][0] for key in keys]
            for key, event, retry_in in zip(keys, events, self._handle_batch(events), strict=True):
                self._done_with(key, event, retry_in)

    def _take_batch(self) -> list[int]:
        """The next people from the line (the lock held): up to `batch`, or one whose event brings a file alone,
        since a flow downloads it from VK inside the transaction and would hold everyone else's commit."""
        keys: list[int] = []
        while self._ready and len(keys) < self.batch:
            key = self._ready[0]
            if _brings_files(self._queues[key][0]):
                if not keys:
                    keys.append(self._ready.popleft())
                break
            keys.append(self._ready.popleft())
        return keys

    def _handle_batch(self, events: list[QueuedEvent]) -> list[float | None]:
        """Each event's outcome as `_handle_once` gives it; the batch's one transaction first, then, if it
        failed, each half as a batch of its own, down to pairs handled one event at a time. One poisoned
        event in 32 then costs about ten transactions, not 32 (which one failed is only known at the
        commit's flush); an outage fails every try at once, so halving it costs nothing worth saving."""
        if len(events) > 1:
            for event in events:
                self._started(event)
            try:
                results = self.handler.handle_batch(events)
            except Exception:
                log.exception("a batch of %d events failed outside its own error handling", len(events))
                results = None
            finally:
                for event in events:
                    self._finished(event)
            if results is not None:
                for event, handled in zip(events, results, strict=True):
                    self._give_back(event) if handled.deferred else self._after(event, handled)
                return [None] * len(events)
            if len(events) > 2:
                middle = len(events) // 2
                return self._handle_batch(events[:middle]) + self._handle_batch(events[middle:])
        return [self._handle_once(event) for event in events]

    def _done_with(self, key: int, event: QueuedEvent, retry_in: float | None) -> None:
        if retry_in is not None:
            # The worker goes back to the line while this person waits: a timer puts them in line again,
            # and their later events stay behind this one meanwhile.
            self._retry_later(key, retry_in)
            return
        with self._room:
            queue = self._queues[key]
            queue.popleft()
            self._outstanding -= 1
            self.handled += 1
            self._room.notify_all()
            self._attempts.pop(event.row_id, None)
            if queue:
                self._line_up(key)
            else:
                del self._queues[key]

    def _handle_once(self, event: QueuedEvent) -> float | None:
        """Handle the event; None when it is done with, else the seconds to wait before the next try.

        Only an outage is worth waiting out (the handler lets nothing else through); after
        MAX_ATTEMPTS an event still failing is set aside if the database answers a trivial query,
        since then the trouble is this event's, not the database's. While the database is down,
        everyone's events wait alike, and this one keeps its place in its person's order.
        """
        attempts = self._attempts.get(event.row_id, 0) + 1
        self._started(event)
        try:
            handled = self.handler.handle(event)
            if handled.deferred:
                self._give_back(event)
            else:
                self._after(event, handled)
            return None
        except DBAPIError as error:
            if self._stop.is_set():
                return None  # left unhandled in the inbox: the next start picks it up
            if attempts >= MAX_ATTEMPTS and self._set_aside(event, error, attempts):
                return None
            delay = backoff_delay(attempts, RETRY_FIRST, RETRY_MAX)
            log.warning("event %d: database unavailable; retrying in %.1fs", event.row_id, delay)
            self._attempts[event.row_id] = attempts
            return delay
        except Exception:
            log.exception("event %d: handler crashed outside its own error handling", event.row_id)
            return None
        finally:
            self._finished(event)

    def _retry_later(self, key: int, delay: float) -> None:
        def resume() -> None:
            if self._stop.is_set():
                return  # the event stays unhandled in the inbox: the next start picks it up
            with self._lock:
                self._line_up(key)

        timer = threading.Timer(delay, resume)
        timer.daemon = True
        timer.start()

    def _set_aside(self, event: QueuedEvent, error: BaseException, attempts: int) -> bool:
        if not self.inbox.database.answers():
            return False
        try:
            handled = self.handler.set_aside(event, error, attempts)
        except Exception:
            log.warning("event %d could not be set aside now; trying it again", event.row_id, exc_info=True)
            return False
        self._after(event, handled)
        return True

    def _after(self, event: QueuedEvent, handled: Handled) -> None:
        try:
            self.after_commit(handled.effects)
        except Exception:  # courtesies after the commit: never worth failing (or repeating) the event
            log.exception("event %d: its after-commit effects failed", event.row_id)

    def _give_back(self, event: QueuedEvent) -> None:
        log.debug("event %d waits for an older event of its user held by another worker", event.row_id)
        try:
            self.inbox.release(event.row_id)
        except DBAPIError:
            log.warning("event %d could not be given back; its lease will run out", event.row_id)

    # --- "typing..." for slow handlers

    def _started(self, event: QueuedEvent) -> None:
        if self.typing is not None and event.peer_id is not None:
            with self._lock:
                self._in_progress[event.row_id] = (event.peer_id, time.monotonic())

    def _finished(self, event: QueuedEvent) -> None:
        with self._lock:
            self._in_progress.pop(event.row_id, None)

    def _watch_typing(self) -> None:
        """One thread for all events (a timer thread per event cost ~250 µs each, bench/engine.py):
        whoever's event has taken longer than a moment sees "typing...", once per event."""
        while not self._stop.wait(TYPING_CHECK):
            now = time.monotonic()
            with self._lock:
                slow = [(row, peer) for row, (peer, since) in self._in_progress.items() if now - since >= TYPING_AFTER]
                for row, _ in slow:
                    del self._in_progress[row]
            for _, peer in slow:
                self._show_typing(peer)

    def _show_typing(self, peer_id: int) -> None:
        if self.typing is None:
            return
        try:
            self.typing(peer_id)
        except Exception as error:  # a courtesy; never worth failing the event
            log.debug("typing indicator for %d failed: %s", peer_id, error)


def _brings_files(queued: QueuedEvent) -> bool:
    event = queued.event
    return event is not None and any(item.get("type") == "doc" for item in event.attachments)
