"""APScheduler drives the reminders: jobs in its SQLAlchemy job store, fired by a controlled clock.

time-machine moves the process's clock to just before the due minute and lets it tick, so the
real BackgroundScheduler thread wakes up at the due moment as it would on the evening itself.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import time_machine
from sqlalchemy import select

from fsm_bot.config import Settings
from fsm_bot.engine.inbox import Inbox
from fsm_bot.runtime.timekeeper import Timekeeper
from fsm_bot.scheduler import BotScheduler
from fsm_bot.storage.models import OutgoingMessage, ProcessedEvent
from fsm_bot.storage.timetable_models import SubscriptionKind
from tests.support.autumn import COMMUNITY, MOSCOW, Stream
from tests.support.waiting import wait_until


def queued(stream: Stream) -> list[tuple[int, str]]:
    return stream.database.transaction(
        lambda session: [(row.peer_id, row.text) for row in session.scalars(select(OutgoingMessage))]
    )


def keeper(stream: Stream, settings: Settings) -> tuple[Timekeeper, BotScheduler, threading.Event]:
    scheduler = BotScheduler(stream.database.engine, settings.timezone)
    woken = threading.Event()
    timekeeper = Timekeeper(
        settings, stream.database, COMMUNITY, scheduler, Inbox(stream.database, COMMUNITY), stream.texts, woken.set
    )
    return timekeeper, scheduler, woken


def test_a_planned_job_fires_the_digest_at_its_minute(stream: Stream) -> None:
    members = [stream.student(vk_id, None) for vk_id in (1, 2)]
    for member in members:
        stream.subscribe(member, SubscriptionKind.DIGEST, clock_time(20, 0))
    evening = datetime(2026, 11, 30, 19, 59, 57, tzinfo=MOSCOW)
    with time_machine.travel(evening, tick=True):
        timekeeper, scheduler, woken = keeper(stream, Settings())
        scheduler.start()
        try:
            timekeeper.start()
            stamp = "20261130T170000"  # 20:00 in Moscow is 17:00 UTC
            assert f"reminders:{COMMUNITY}:{stamp}" in scheduler.job_ids("reminders:")
            assert queued(stream) == []  # not yet: three seconds to go
            wait_until(lambda: len(queued(stream)) == 2, 10, "the two reminders queued")
            assert woken.wait(5)  # the sender is woken after the commit that made the rows visible
            assert datetime.now(MOSCOW) >= datetime(2026, 11, 30, 20, 0, tzinfo=MOSCOW)
            # The one-off job is gone; tomorrow's is planned by the next plan.
            assert f"reminders:{COMMUNITY}:{stamp}" not in scheduler.job_ids("reminders:")
        finally:
            timekeeper.stop()
            scheduler.stop()
    assert len(queued(stream)) == 2


def test_planning_again_neither_doubles_nor_moves_jobs(stream: Stream) -> None:
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_EACH, lead=10)
    with time_machine.travel(datetime(2026, 12, 1, 7, 0, tzinfo=MOSCOW), tick=False):
        timekeeper, scheduler, _ = keeper(stream, Settings())
        scheduler.start()
        try:
            timekeeper.start()
            first = scheduler.job_ids("reminders:")
            assert first == [f"reminders:{COMMUNITY}:20261201T055000", f"reminders:{COMMUNITY}:20261201T073500"]
            assert timekeeper.plan() == 2
            assert scheduler.job_ids("reminders:") == first
            run_times = {job.id: job.next_run_time for job in scheduler.scheduler.get_jobs()}
            timekeeper.plan()
            assert {job.id: job.next_run_time for job in scheduler.scheduler.get_jobs()} == run_times
        finally:
            timekeeper.stop()
            scheduler.stop()


def test_jobs_survive_a_restart_in_the_job_store_and_stale_ones_are_removed(stream: Stream) -> None:
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_FIRST, lead=15)
    with time_machine.travel(datetime(2026, 12, 1, 7, 0, tzinfo=MOSCOW), tick=False):
        timekeeper, scheduler, _ = keeper(stream, Settings())
        scheduler.start()
        timekeeper.start()
        timekeeper.stop()
        scheduler.stop()

        stored = BotScheduler(stream.database.engine, "Europe/Moscow")
        stored.start()  # a new process: the jobs come back from the database table
        try:
            assert f"reminders:{COMMUNITY}:20261201T054500" in stored.job_ids("reminders:")
        finally:
            stored.stop()

        def unsubscribe(session) -> None:  # type: ignore[no-untyped-def]
            from fsm_bot.storage.repositories import SubscriptionRepository

            SubscriptionRepository(session, COMMUNITY).remove(member)

        stream.database.transaction(unsubscribe)
        timekeeper, scheduler, _ = keeper(stream, Settings())
        scheduler.start()
        try:
            timekeeper.start()
            assert scheduler.job_ids("reminders:") == []
        finally:
            timekeeper.stop()
            scheduler.stop()


def test_scheduled_commands_get_cron_jobs_in_the_configured_time_zone(stream: Stream) -> None:
    settings = Settings(
        timezone="Europe/Berlin",
        schedule=[{"command": "расписание сегодня", "to": 2000000001, "run_as": 5, "times": ["07:30"]}],
    )
    monday_morning = datetime(2026, 10, 26, 6, 0, tzinfo=MOSCOW)  # Berlin has just left summer time
    with time_machine.travel(monday_morning, tick=False):
        timekeeper, scheduler, _ = keeper(stream, settings)
        scheduler.start()
        try:
            timekeeper.start()
            [job] = [job for job in scheduler.scheduler.get_jobs() if job.id.startswith("command:")]
            assert job.next_run_time.isoformat() == "2026-10-26T07:30:00+01:00"
            following = job.trigger.get_next_fire_time(job.next_run_time, job.next_run_time + timedelta(seconds=1))
            assert following.date() == date(2026, 10, 27)  # weekdays by default
        finally:
            timekeeper.stop()
            scheduler.stop()


def test_a_scheduled_run_becomes_one_inbox_event_however_often_it_is_triggered(stream: Stream) -> None:
    settings = Settings(
        schedule=[{"command": "расписание сегодня", "to": 2000000001, "run_as": 5, "times": ["07:30"]}],
    )
    with time_machine.travel(datetime(2026, 12, 1, 7, 31, tzinfo=MOSCOW), tick=False):
        timekeeper, _, _ = keeper(stream, settings)
        assert timekeeper.run_due_commands() == 1
        assert timekeeper.run_command_now() == 1
        assert timekeeper.run_due_commands() == 1
    events = stream.database.transaction(
        lambda session: [(row.event_id, row.user_id) for row in session.scalars(select(ProcessedEvent))]
    )
    assert len(events) == 1 and events[0][1] == 5
    assert events[0][0].endswith("-20261201T0430")  # 07:30 in Moscow, in UTC
