"""A semester around today: lessons every day, so the timetable views have something to show whatever day
the suite runs on; which lessons a person sees depends on the week's parity and their subgroup."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.timetable import Parity, Semester, Slot

MOSCOW = ZoneInfo("Europe/Moscow")
TODAY = datetime.now(MOSCOW).date()
MONDAY = TODAY - timedelta(days=TODAY.weekday())
SEMESTER = Semester(MONDAY - timedelta(weeks=5), MONDAY + timedelta(weeks=8), Parity.ODD)
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
