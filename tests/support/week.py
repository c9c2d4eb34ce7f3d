"""A semester around today: lessons every day, so the timetable views have something to show whatever day
the suite runs on; which lessons a person sees depends on the week's parity and their subgroup.

`week.TODAY` and `week.MONDAY` are read from the clock each time, because the bot reads its own clock: a suite
that runs across Moscow midnight must expect the new day, not the one it started on. The semester stays the
one seeded at the start (it spans weeks either side). `wait_out_midnight` keeps a single test from straddling
the turn of the day, which no expectation computed before an answer could survive.
"""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.timetable import Parity, Semester, Slot

MOSCOW = ZoneInfo("Europe/Moscow")
MIDNIGHT_MARGIN = timedelta(minutes=3)
_FIRST_DAY = datetime.now(MOSCOW).date()
_FIRST_MONDAY = _FIRST_DAY - timedelta(days=_FIRST_DAY.weekday())
SEMESTER = Semester(_FIRST_MONDAY - timedelta(weeks=5), _FIRST_MONDAY + timedelta(weeks=8), Parity.ODD)


def __getattr__(name: str) -> date:
    """TODAY and MONDAY as the bot sees them now (module attributes computed on each read, PEP 562)."""
    today = datetime.now(MOSCOW).date()
    if name == "TODAY":
        return today
    if name == "MONDAY":
        return today - timedelta(days=today.weekday())
    raise AttributeError(name)


def wait_out_midnight(margin: timedelta = MIDNIGHT_MARGIN) -> None:
    """Sleep past Moscow midnight when it is closer than `margin`, so a test begins and ends on one day."""
    now = datetime.now(MOSCOW)
    next_midnight = datetime.combine(now.date() + timedelta(days=1), time(0), MOSCOW)
    if next_midnight - now < margin:
        clock.sleep((next_midnight - now).total_seconds() + 1)


SLOTS = [
    slot
    for day in range(7)
    for slot in (
        Slot(day, time(9, 0), time(10, 30), "Общая пара", "лекция", "Иванов И. И.", "301"),
        Slot(day, time(10, 45), time(12, 15), "Физика", "практика", "", "214", Parity.ALL, 1),
        Slot(day, time(10, 45), time(12, 15), "Химия", "практика", "", "215", Parity.ALL, 2),
        Slot(day, time(13, 0), time(14, 30), "Нечётная пара", "семинар", "", "118", Parity.ODD),
        Slot(day, time(13, 0), time(14, 30), "Чётная пара", "семинар", "", "119", Parity.EVEN),
    )
]


def seed(database_url: str, community: int) -> None:
    """A migrated database with groups ИВТ-101 (with the timetable above) and ИВТ-102, before the bot starts."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def write(session) -> None:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(community)
        group = CommunityRepository(session).study_group(community, "ИВТ-101")
        CommunityRepository(session).study_group(community, "ИВТ-102")
        timetable = TimetableRepository(session, community)
        timetable.set_semester(SEMESTER)
        timetable.replace_slots(group.id, SLOTS)

    database.transaction(write)
    database.dispose()
