"""Several workers fire homework reminders at the same moment: each reminder is queued once all the same.

Each worker is a process of its own in production; here each is a thread with its own connection pool, racing
on the same database; `fired_reminder`'s unique (subscription, occurrence) decides who sends.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fsm_bot.runtime.bot import FLOW_CATALOGS
from fsm_bot.scheduler.homework_reminders import fire_due_homework, homework_instants
from fsm_bot.scheduler.reminders import ReminderPolicy
from fsm_bot.storage import Database
from fsm_bot.storage.models import OutgoingMessage
from fsm_bot.storage.repositories.homework import HomeworkRepository
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.texts import Catalogs
from tests.support.autumn import COMMUNITY, MOSCOW, seed_autumn

POLICY = ReminderPolicy(MOSCOW)
WORKERS = 4


def test_racing_workers_queue_each_reminder_once(database: Database, database_url: str) -> None:
    stream = seed_autumn(database)
    students = [stream.student(700 + number, None) for number in range(10)]
    for member_id in students:
        stream.subscribe(member_id, SubscriptionKind.HOMEWORK_HOURS, lead=180)
    created = datetime.now(UTC)
    due = created + timedelta(days=2)

    def give(session) -> int:  # type: ignore[no-untyped-def]
        repository = HomeworkRepository(session, COMMUNITY)
        homework = repository.add(stream.group_id, "Физика", "Задачи 1–5", [], due, by=1)
        repository.tell(homework.id, students)
        repository.set_done(homework.id, students[0], True)  # one is done: no reminder for them
        return homework.id

    database.transaction(give)
    moment = due - timedelta(hours=3)
    assert homework_instants(database, COMMUNITY, POLICY, created, timedelta(days=3)) == [moment]

    catalogs = Catalogs.load("ru", [FLOW_CATALOGS])
    counts: list[int] = []
    start = threading.Barrier(WORKERS)

    def worker() -> None:
        own = Database(database_url)
        try:
            start.wait()
            counts.append(fire_due_homework(own, COMMUNITY, POLICY, catalogs, moment + timedelta(seconds=1)))
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(counts) == WORKERS and sum(counts) == 9  # one worker may win some rows and another the rest
    peers = database.transaction(lambda session: list(session.scalars(select(OutgoingMessage.peer_id))))
    assert sorted(peers) == list(range(701, 710))
    assert fire_due_homework(database, COMMUNITY, POLICY, catalogs, moment + timedelta(minutes=5)) == 0
