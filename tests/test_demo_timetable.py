"""The demo stream's timetable loads as `fsm-bot sandbox` loads it, in a semester around today."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from fsm_bot.runtime.demo import DEMO_TIMETABLE, load_demo_timetable
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import StudyGroup
from fsm_bot.storage.repositories import TimetableRepository
from fsm_bot.timetable import lessons_on, load_timetable


def test_the_demo_timetable_loads_once_with_every_view_in_its_semester(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade_to_head(database.engine)
    today = date(2026, 11, 25)
    load_demo_timetable(database, 227000001, today)

    def read(session):  # type: ignore[no-untyped-def]
        repository = TimetableRepository(session, 227000001)
        groups = {g.name: g.id for g in session.scalars(select(StudyGroup))}
        return repository.semester(), {name: repository.slots(group) for name, group in groups.items()}

    semester, slots = database.transaction(read)
    parsed = load_timetable(DEMO_TIMETABLE.read_text(encoding="utf-8"))
    assert set(slots) == {"ИВТ-101", "ИВТ-102"}
    assert slots["ИВТ-101"] == parsed.groups["ИВТ-101"]
    assert semester is not None and semester.start <= today - timedelta(weeks=8) and semester.end > today
    monday = today - timedelta(days=today.weekday())
    assert lessons_on(semester, slots["ИВТ-101"], [], monday)  # this week's Monday has lessons

    load_demo_timetable(database, 227000001, today + timedelta(weeks=30))  # a later start keeps it as it is
    assert database.transaction(read)[0] == semester
    database.dispose()
