"""`fsm-bot attendance export` as a deployer types it, against a real database."""

from __future__ import annotations

import csv
import io
import stat
from datetime import date, time
from pathlib import Path

import openpyxl
import pytest

from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.attendance_models import AbsenceReason
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import (
    AttendanceRepository,
    CommunityRepository,
    MemberProfile,
    MemberRepository,
    TimetableRepository,
)
from fsm_bot.timetable import Parity, Semester, Slot
from tests.support.bots import fsm_bot

COMMUNITY = 227000001
MONDAY = date(2026, 11, 30)


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> Path:
    """Two groups; ИВТ-101 has a Monday timetable and three marked lessons."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def seed(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(COMMUNITY)
        group = communities.study_group(COMMUNITY, "ИВТ-101")
        communities.study_group(COMMUNITY, "ИВТ-102")
        timetable = TimetableRepository(session, COMMUNITY)
        timetable.set_semester(Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.ODD))
        timetable.replace_slots(
            group.id,
            [
                Slot(0, time(9, 0), time(10, 30), "Матанализ", "лекция"),
                Slot(0, time(10, 45), time(12, 15), "Физика", "практика"),
            ],
        )
        members = MemberRepository(session, COMMUNITY)
        people = [(1, "Анна", "Яковлева"), (2, "Борис", "Абрамов"), (3, "Вера", "Ёлкина")]
        members.upsert_profiles([MemberProfile(vk, first, last) for vk, first, last in people])
        ids = {}
        for vk, _, _ in people:
            members.assign_group(vk, group.id)
            member = members.get(vk)
            assert member is not None
            member.status = MemberStatus.ACTIVE.value
            ids[vk] = member.id
        register = AttendanceRepository(session, COMMUNITY)
        register.save(group.id, MONDAY, "09:00", {ids[2]: AbsenceReason.UNEXCUSED}, 10, 0, "Матанализ", time(9, 0))
        register.save(group.id, MONDAY, "10:45", {ids[1]: AbsenceReason.ILLNESS}, 10, 0, "Физика", time(10, 45))
        # A whole day away a week later counts both Monday lessons.
        register.save(group.id, date(2026, 12, 7), "day", {ids[3]: AbsenceReason.OFFICIAL}, 10, 0, "Весь день")

    database.transaction(seed)
    database.dispose()
    config = tmp_path / "settings.yaml"
    config.write_text(f"vk:\n  group_id: {COMMUNITY}\ndatabase:\n  url: {database_url}\n", encoding="utf-8")
    return config


def test_export_one_group_as_xlsx(tmp_path: Path, deployment: Path) -> None:
    output = tmp_path / "register.xlsx"
    result = fsm_bot(
        "attendance",
        "export",
        "--group",
        "ИВТ-101",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--format",
        "xlsx",
        "--output",
        str(output),
        "--config",
        str(deployment),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "ИВТ-101: 3 student(s), 4 marked lesson(s)" in result.stdout
    assert stat.S_IMODE(output.stat().st_mode) == 0o600  # names and absences: the owner's eyes only
    sheet = openpyxl.load_workbook(output)["ИВТ-101"]
    assert [sheet.cell(row, 2).value for row in (6, 7, 8)] == ["Абрамов", "Ёлкина", "Яковлева"]
    header = {sheet.cell(5, column).value: column for column in range(4, 8)}
    assert set(header) == {"09:00 Матанализ", "10:45 Физика", "09:00 Матанализ (лекция)", "10:45 Физика (практика)"}
    assert sheet.cell(4, 4).value == "30.11" and sheet.cell(4, 6).value == "07.12"
    assert sheet.cell(6, header["09:00 Матанализ"]).value == "н"
    assert sheet.cell(8, header["10:45 Физика"]).value == "у"
    assert sheet.cell(8, header["10:45 Физика"]).comment.text.startswith("болезнь")
    assert sheet.cell(7, header["09:00 Матанализ (лекция)"]).value == "у"  # the whole day, spread
    assert sheet.cell(7, header["10:45 Физика (практика)"]).value == "у"
    totals = [[sheet.cell(row, column).value for column in (8, 9, 10)] for row in (6, 7, 8)]
    assert totals == [[2, 0, 2], [4, 4, 0], [2, 2, 0]]  # all, excused, unexcused: 2 hours a lesson


def test_export_every_group_as_csv(tmp_path: Path, deployment: Path) -> None:
    output = tmp_path / "register.csv"
    output.write_text("last month's register, readable by all\n", encoding="utf-8")
    output.chmod(0o644)
    result = fsm_bot(
        "attendance",
        "export",
        "--from",
        "2026-11-30",
        "--to",
        "2026-11-30",
        "--format",
        "csv",
        "--output",
        str(output),
        "--config",
        str(deployment),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "ИВТ-102: 0 student(s), 0 marked lesson(s)" in result.stdout
    assert stat.S_IMODE(output.stat().st_mode) == 0o600  # replaced, not rewritten in its old 0644
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []  # no leftovers
    rows = list(csv.reader(io.StringIO(output.read_bytes().decode("utf-8-sig")), delimiter=";"))
    titles = [row[0] for row in rows if row and row[0].startswith("Журнал посещаемости")]
    assert titles == ["Журнал посещаемости группы ИВТ-101", "Журнал посещаемости группы ИВТ-102"]
    abramov = next(row for row in rows if len(row) > 1 and row[1] == "Абрамов")
    assert abramov[3:5] == ["н", ""]


def test_bad_requests_are_one_line(tmp_path: Path, deployment: Path) -> None:
    result = fsm_bot(
        "attendance",
        "export",
        "--group",
        "НЕТ-1",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--output",
        str(tmp_path / "x.xlsx"),
        "--config",
        str(deployment),
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "no study group 'НЕТ-1'" in result.stderr
    result = fsm_bot(
        "attendance",
        "export",
        "--from",
        "2026-12-01",
        "--to",
        "2026-11-01",
        "--output",
        str(tmp_path / "x.xlsx"),
        "--config",
        str(deployment),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "is after --to" in result.stderr  # a usage error, like argparse's
    result = fsm_bot(
        "attendance",
        "export",
        "--from",
        "yesterday",
        "--to",
        "2026-11-01",
        "--output",
        "x.xlsx",
        "--config",
        str(deployment),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "is not a date like 2026-12-01" in result.stderr
