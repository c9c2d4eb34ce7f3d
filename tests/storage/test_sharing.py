"""What several processes on one PostgreSQL rely on, on the real server: inbox claims with leases,
SKIP LOCKED outbox claims, the scheduler's advisory lock and its requests.

Two sessions (two connections) stand for two processes; a claim held open in one is what the other
would meet while the first process is between its SELECT and its COMMIT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from sqlalchemy import text, update

from fsm_bot.delivery.broadcasts import BroadcastQueue
from fsm_bot.scheduler import BotScheduler
from fsm_bot.scheduler.leadership import Leadership
from fsm_bot.storage import Database
from fsm_bot.storage.migrate import upgrade_to_head
from fsm_bot.storage.models import Broadcast, OutgoingStatus, ProcessedEvent
from fsm_bot.storage.repositories import (
    BroadcastFollowUps,
    BroadcastQueueRepository,
    BroadcastRepository,
    CommunityRepository,
    InboxRepository,
    OutboxRepository,
    ReceivedEvent,
)
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.errors import Outcome
from fsm_bot.vk.sending import PeerResult

GROUP = 227000001
LEASE = timedelta(seconds=30)


@pytest.fixture
def shared(postgres_schema_url: str) -> Iterator[Database]:
    database = Database(postgres_schema_url)
    upgrade_to_head(database.engine)
    database.transaction(lambda session: CommunityRepository(session).ensure(GROUP))
    yield database
    database.dispose()


def _events(database: Database, *pairs: tuple[str, int | None]) -> None:
    database.transaction(
        lambda session: InboxRepository(session, GROUP).add(
            [ReceivedEvent(event_id, "message_new", user, {"event_id": event_id}) for event_id, user in pairs]
        )
    )


def _claim(database: Database, worker: str, limit: int = 100) -> list[str]:
    rows = database.transaction(lambda session: InboxRepository(session, GROUP).claim(worker, LEASE, limit))
    return [payload["event_id"] for _, _, payload in rows]


def test_a_claim_takes_a_persons_events_together_and_in_order(shared: Database) -> None:
    _events(shared, ("a1", 1), ("b1", 2), ("a2", 1), ("x", None), ("b2", 2))
    assert _claim(shared, "one", limit=1) == ["a1", "a2"]  # the head brings its followers
    assert _claim(shared, "two") == ["b1", "x", "b2"]
    assert _claim(shared, "three") == []  # all leased


def test_a_later_event_cannot_be_claimed_while_an_earlier_one_is_leased(shared: Database) -> None:
    _events(shared, ("a1", 1))
    assert _claim(shared, "one") == ["a1"]
    _events(shared, ("a2", 1))  # arrives while a1 is being handled by "one"
    assert _claim(shared, "two") == []  # would overtake a1
    shared.transaction(lambda session: InboxRepository(session, GROUP).mark_handled(1))
    assert _claim(shared, "two") == ["a2"]


def test_a_dead_workers_lease_runs_out_and_another_worker_takes_its_events(shared: Database) -> None:
    _events(shared, ("a1", 1), ("a2", 1))
    assert _claim(shared, "dead") == ["a1", "a2"]
    shared.transaction(
        lambda session: session.execute(update(ProcessedEvent).values(claimed_until=utcnow() - timedelta(seconds=1)))
    )
    assert _claim(shared, "alive") == ["a1", "a2"]


def test_rows_another_worker_is_claiming_are_skipped_not_waited_for(shared: Database) -> None:
    _events(shared, ("a1", 1), ("b1", 2))
    with shared.unit_of_work() as first:
        assert [row[2]["event_id"] for row in InboxRepository(first, GROUP).claim("one", LEASE, 1)] == ["a1"]
        started = time.monotonic()
        assert _claim(shared, "two") == ["b1"]  # a1 is locked by the open claim: skipped at once
        assert time.monotonic() - started < 5


def test_the_only_process_takes_back_every_lease_at_start(shared: Database) -> None:
    _events(shared, ("a1", 1))
    assert _claim(shared, "before-the-crash") == ["a1"]
    assert shared.transaction(lambda session: InboxRepository(session, GROUP).release_all()) == 1
    assert _claim(shared, "after-the-restart") == ["a1"]


def test_two_senders_claim_different_rows_and_a_persons_replies_stay_in_order(shared: Database) -> None:
    def queue(session) -> None:  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, GROUP)
        for peer in (10, 11, 12):
            outbox.add(peer, f"first to {peer}")
        outbox.add(10, "second to 10")

    shared.transaction(queue)
    now = utcnow()
    with shared.unit_of_work() as first:
        taken_first = OutboxRepository(first, GROUP).claimable(now, 2, lock=True)
        taken_second = shared.transaction(
            lambda session: OutboxRepository(session, GROUP).claimable(now, 10, lock=True)
        )
    assert [row.text for row in taken_first] == ["first to 10", "first to 11"]
    # Not the rows the first sender holds, and not 10's second reply before its first is out.
    assert [row.text for row in taken_second] == ["first to 12"]

    def send_first(session) -> None:  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, GROUP)
        outbox.mark_sending_many([([row.id for row in taken_first], 1)], utcnow() + LEASE)

    shared.transaction(send_first)
    pending = shared.transaction(lambda session: OutboxRepository(session, GROUP).claimable(utcnow(), 10, lock=True))
    assert [row.text for row in pending] == ["first to 12"]  # 10's second waits while its first is sending


def test_rows_of_a_sender_that_died_go_back_when_their_lease_runs_out(shared: Database) -> None:
    def queue_and_claim(session) -> int:  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, GROUP)
        row = outbox.add(10, "hello")
        session.flush()  # the row's id
        outbox.mark_sending_many([([row.id], 7)], utcnow() + timedelta(seconds=1))
        return row.id

    row_id = shared.transaction(queue_and_claim)
    assert shared.transaction(lambda session: OutboxRepository(session, GROUP).requeue_interrupted(utcnow())) == 0
    later = utcnow() + timedelta(seconds=1.1)  # the fake clock: the lease has run out by then
    assert shared.transaction(lambda session: OutboxRepository(session, GROUP).requeue_interrupted(later)) == 1
    [row] = shared.transaction(lambda session: OutboxRepository(session, GROUP).by_ids([row_id]))
    assert (row.status, row.random_id) == (OutgoingStatus.PENDING.value, 7)  # VK drops the copy it already has


def test_one_process_schedules_and_another_takes_over_when_it_is_gone(shared: Database) -> None:
    elected: list[str] = []
    requests: list[str] = []
    lost: list[Exception] = []

    def leadership(name: str) -> Leadership:
        return Leadership(
            Database(shared.url),
            on_elected=lambda: elected.append(name),
            on_lost=lost.append,
            on_request=lambda payload: requests.append(f"{name}:{payload}"),
            check_seconds=0.2,
        )

    first, second = leadership("first"), leadership("second")
    try:
        first.start()
        second.start()
        assert elected == ["first"]
        second.request("replan:1")  # from a process that does not lead: reaches the leader
        deadline = time.monotonic() + 5
        while not requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert requests == ["first:replan:1"]
        first.stop()  # its connection closes, as when the process dies
        deadline = time.monotonic() + 5
        while elected == ["first"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert elected == ["first", "second"]
        assert second.leading.is_set() and lost == []
    finally:
        first.stop()
        second.stop()
        first.database.dispose()
        second.database.dispose()


def test_a_lone_process_on_sqlite_leads_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    elected = threading.Event()
    leadership = Leadership(database, on_elected=elected.set, on_lost=lambda error: None)
    leadership.start()
    assert elected.is_set() and leadership.leading.is_set()
    leadership.stop()
    database.dispose()


def test_a_settle_during_a_report_refresh_marks_the_report_dirty_again(shared: Database) -> None:
    def create(session) -> int:  # type: ignore[no-untyped-def]
        broadcast = BroadcastRepository(session, GROUP).create(
            1, "group", "ИВТ-101", [{"text": "hello"}], False, [(10, "Иван")], None
        )
        return broadcast.id

    broadcast_id = shared.transaction(create)

    touched = threading.Event()
    with shared.unit_of_work() as refresh:
        [dirty] = BroadcastFollowUps(refresh, GROUP).dirty_reports()
        # The last settle commits while the refresh has read the old tally and not yet committed.
        settle = threading.Thread(
            target=lambda: (
                shared.transaction(lambda session: BroadcastQueueRepository(session, GROUP).touch([broadcast_id])),
                touched.set(),
            )
        )
        settle.start()
        assert not touched.wait(0.5)  # it waits for the refresh
        dirty.report_dirty = False
    settle.join(10)
    assert touched.is_set()
    assert shared.transaction(lambda session: session.get(Broadcast, broadcast_id).report_dirty) is True


def test_a_leader_whose_connection_breaks_stops_scheduling_and_leads_again(shared: Database) -> None:
    elected: list[int] = []
    lost: list[Exception] = []
    leadership = Leadership(
        Database(shared.url), on_elected=lambda: elected.append(1), on_lost=lost.append, check_seconds=0.2
    )
    try:
        leadership.start()
        assert elected == [1]
        backend = leadership._connection.info.backend_pid
        # What a database restart or a network cut does to the lock's connection.
        shared.transaction(lambda session: session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}))
        deadline = time.monotonic() + 10
        while len(elected) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(lost) == 1  # it noticed, stopped scheduling...
        assert elected == [1, 1] and leadership.leading.is_set()  # ...and took the lock again
    finally:
        leadership.stop()
        leadership.database.dispose()


def test_the_scheduler_pauses_while_another_process_leads_and_resumes_with_its_jobs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    scheduler = BotScheduler(database.engine, "Europe/Moscow")
    try:
        scheduler.start()
        scheduler.every("tick", time.time, 3600)
        scheduler.pause()
        assert scheduler.scheduler.state == STATE_PAUSED
        scheduler.start()  # leads again
        assert scheduler.scheduler.state == STATE_RUNNING
        assert scheduler.job_ids() == ["tick"]
    finally:
        scheduler.stop()
        database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_batch_sent_twice_after_its_lease_ran_out_moves_its_recipients_on_one_part_only(database: Database) -> None:
    """A sender outlives its lease; another takes the rows over and sends them again (same random_id,
    so VK drops the repeat). Both settle: the recipients must get part 2 next, not skip it."""
    database.transaction(lambda session: CommunityRepository(session).ensure(GROUP))
    parts = [{"text": "one"}, {"text": "two"}, {"text": "three"}]
    database.transaction(
        lambda session: BroadcastRepository(session, GROUP).create(
            1, "group", "ИВТ-101", parts, False, [(10, "Иван"), (11, "Пётр")], None
        )
    )
    queue = BroadcastQueue(GROUP)

    def claim() -> list:  # type: ignore[type-arg]
        claimed, _ = database.transaction(lambda session: queue.claim(session, set(), utcnow() + LEASE))
        return claimed

    def settle(claimed: list) -> None:  # type: ignore[type-arg]
        results = [[PeerResult(peer, Outcome.SENT) for peer in item.unit.peer_ids] for item in claimed]
        database.transaction(lambda session: queue.settle(session, claimed, results, lambda attempts: utcnow()))

    slow = claim()
    database.transaction(  # the slow sender's lease runs out; another sender takes the rows over
        lambda session: BroadcastQueueRepository(session, GROUP).requeue_interrupted(utcnow() + timedelta(hours=1))
    )
    fast = claim()
    assert [item.unit.random_id for item in fast] == [item.unit.random_id for item in slow]
    settle(fast)
    settle(slow)  # late, and for a part already settled
    again = claim()
    assert [item.unit.content.text for item in again] == ["two"]
    assert sorted(peer for item in again for peer in item.unit.peer_ids) == [10, 11]
