"""`fsm-bot timetable import/export` as a deployer types it, against a real database."""

from __future__ import annotations

import stat
from datetime import date, time
from pathlib import Path

import icalendar
import pytest

from fsm_bot.storage import Database
from fsm_bot.storage.models import StudyGroup
from fsm_bot.storage.repositories import TimetableRepository
from fsm_bot.timetable import Parity, load_timetable
from tests.support.bots import fsm_bot

EXAMPLE = """\
semester: {start: 2026-09-01, end: 2026-12-30, first_week: odd}
holidays: [2026-11-04]
groups:
  ИВТ-101:
    - {day: mon, start: "09:00", end: "10:30", subject: Математический анализ, kind: лекция,
       teacher: Иванов И. И., room: "301", weeks: all}
    - {day: mon, start: "10:45", end: "12:15", subject: Физика, kind: практика, room: "214", weeks: odd, subgroup: 1}
  ИВТ-102:
    - {day: tue, start: "09:00", end: "10:30", subject: Физика, kind: лекция, room: "301"}
"""


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> tuple[Path, str]:
    config = tmp_path / "settings.yaml"
    config.write_text(
        f"vk:\n  group_id: 227000001\ndatabase:\n  url: {database_url}\n",
        encoding="utf-8",
    )
    return config, database_url


def slots_of(database_url: str, group: str) -> list[tuple[int, time, str, Parity, int | None]]:
    database = Database(database_url)

    def read(session):  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        group_id = session.scalars(select(StudyGroup.id).where(StudyGroup.name == group)).one_or_none()
        if group_id is None:
            return []
        return [
            (slot.day, slot.start, slot.subject, slot.weeks, slot.subgroup)
            for slot in TimetableRepository(session, 227000001).slots(group_id)
        ]

    try:
        return database.transaction(read)
    finally:
        database.dispose()


def test_import_creates_the_groups_and_their_weeks(tmp_path: Path, deployment: tuple[Path, str]) -> None:
    config, url = deployment
    source = tmp_path / "timetable.yaml"
    source.write_text(EXAMPLE, encoding="utf-8")
    result = fsm_bot("timetable", "import", str(source), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ИВТ-101: 2 weekly lesson(s)" in result.stdout
    assert "semester 2026-09-01 .. 2026-12-30, first week odd" in result.stdout
    assert slots_of(url, "ИВТ-101") == [
        (0, time(9, 0), "Математический анализ", Parity.ALL, None),
        (0, time(10, 45), "Физика", Parity.ODD, 1),
    ]
    assert slots_of(url, "ИВТ-102") == [(1, time(9, 0), "Физика", Parity.ALL, None)]


def test_a_file_with_mistakes_changes_nothing_and_names_every_line(
    tmp_path: Path, deployment: tuple[Path, str]
) -> None:
    config, url = deployment
    good = tmp_path / "good.yaml"
    good.write_text(EXAMPLE, encoding="utf-8")
    assert fsm_bot("timetable", "import", str(good), "--config", str(config), cwd=tmp_path).returncode == 0

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        EXAMPLE.replace('start: "10:45"', 'start: "25:45"').replace("day: tue", "day: someday"), encoding="utf-8"
    )
    result = fsm_bot("timetable", "import", str(broken), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2  # a file that cannot be imported is the deployer's input, like a usage error
    assert "was not imported, nothing changed" in result.stderr
    assert "line 7" in result.stderr and "start" in result.stderr  # the Физика line
    assert "line 9" in result.stderr and "day" in result.stderr  # ИВТ-102's lesson
    assert "Traceback" not in result.stderr
    assert len(slots_of(url, "ИВТ-101")) == 2  # the earlier import stands


def test_export_to_ics_and_yaml_and_back(tmp_path: Path, deployment: tuple[Path, str]) -> None:
    config, url = deployment
    source = tmp_path / "timetable.yaml"
    source.write_text(EXAMPLE, encoding="utf-8")
    fsm_bot("timetable", "import", str(source), "--config", str(config), cwd=tmp_path)

    ics = tmp_path / "ivt101.ics"
    result = fsm_bot(
        "timetable", "export", "--group", "ИВТ-101", "--output", str(ics), "--config", str(config), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    events = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    mondays = [
        d
        for d in (date.fromordinal(n) for n in range(date(2026, 9, 1).toordinal(), date(2026, 12, 31).toordinal()))
        if d.weekday() == 0
    ]
    odd_mondays = [d for d in mondays if ((d - date(2026, 8, 31)).days // 7) % 2 == 0]
    assert len(events) == len(mondays) + len(odd_mondays)  # Матанализ every Monday, Физика in odd weeks
    assert f"{ics}: {len(events)} lesson(s)" in result.stdout
    assert stat.S_IMODE(ics.stat().st_mode) == 0o600  # exports are the owner's only, like the database

    # An .ics imported for another group gives the same week back.
    result = fsm_bot("timetable", "import", str(ics), "--group", "ИВТ-103", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(slots_of(url, "ИВТ-103")) == sorted(slots_of(url, "ИВТ-101"))

    back = tmp_path / "back.yaml"
    fsm_bot("timetable", "export", "--group", "ИВТ-101", "--output", str(back), "--config", str(config), cwd=tmp_path)
    exported = load_timetable(back.read_text(encoding="utf-8"))
    assert stat.S_IMODE(back.stat().st_mode) == 0o600
    original = load_timetable(EXAMPLE)
    assert exported.groups["ИВТ-101"] == original.groups["ИВТ-101"]
    assert exported.semester == original.semester


def test_an_ics_without_a_group_and_an_unknown_group_are_refused(tmp_path: Path, deployment: tuple[Path, str]) -> None:
    config, _ = deployment
    ics = tmp_path / "university.ics"
    ics.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    result = fsm_bot("timetable", "import", str(ics), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "add --group NAME" in result.stderr
    result = fsm_bot(
        "timetable",
        "export",
        "--group",
        "НЕТ-999",
        "--output",
        str(tmp_path / "x.ics"),
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "no study group 'НЕТ-999'" in result.stderr
