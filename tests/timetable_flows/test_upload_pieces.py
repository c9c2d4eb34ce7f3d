"""The pieces of a timetable upload without a bot: which group a file gives, what changes, whose semester."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from fsm_bot.services.timetable_upload import TimetableUpload, difference, parse_upload, semester_after
from fsm_bot.texts import Texts
from fsm_bot.timetable import Parity, Semester, Slot, TimetableFileError
from fsm_bot.timetable.ics import export_ics

RU = Texts.load("ru")  # the words of a moved lesson's note

MOSCOW = ZoneInfo("Europe/Moscow")
AUTUMN = Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.ODD)
SPRING = Semester(date(2027, 2, 9), date(2027, 6, 30), Parity.EVEN)
MATH = Slot(0, time(9), time(10, 30), "Матанализ", "лекция")
PHYSICS = Slot(1, time(10, 45), time(12, 15), "Физика", weeks=Parity.ODD, subgroup=1)
TWO_GROUPS = """\
semester: {start: 2026-09-01, end: 2026-12-30, first_week: odd}
groups:
  ИВТ-101:
    - {day: mon, start: "09:00", end: "10:30", subject: Матанализ, kind: лекция}
  ИВТ-102:
    - {day: tue, start: "09:00", end: "10:30", subject: Физика}
""".encode()


def test_a_yaml_file_gives_the_senders_group_and_names_the_others() -> None:
    upload = parse_upload(TWO_GROUPS, "week.yaml", "ИВТ-101", MOSCOW)
    assert (upload.slots, upload.semester, upload.other_groups) == ((MATH,), AUTUMN, ("ИВТ-102",))
    kept = TimetableUpload.from_kept(upload.kept(), upload.title, upload.group)
    assert (kept.slots, kept.semester) == (upload.slots, upload.semester)  # what the dialog keeps reads back whole


def test_a_file_without_the_senders_group_is_refused_naming_what_it_has() -> None:
    with pytest.raises(TimetableFileError, match=r"week.yaml: no group 'ПМИ-201' in the file \(it has: ИВТ-101, ИВТ"):
        parse_upload(TWO_GROUPS, "week.yaml", "ПМИ-201", MOSCOW)


def test_an_ics_file_is_the_senders_group_whatever_it_calls_itself() -> None:
    data = export_ics("ИВТ-101", AUTUMN, [MATH, PHYSICS], [], MOSCOW, AUTUMN.start, AUTUMN.end, t=RU)
    upload = parse_upload(data, "university.ics", "ПМИ-201", MOSCOW)
    assert set(upload.slots) == {MATH, PHYSICS} and upload.group == "ПМИ-201"


def test_the_difference_counts_lessons_that_came_went_and_stayed() -> None:
    moved = Slot(0, time(10, 45), time(12, 15), "Матанализ", "лекция")
    change = difference([MATH, PHYSICS], [moved, PHYSICS])
    assert (change.before, change.after, change.added, change.removed, change.kept) == (2, 2, (moved,), (MATH,), 1)
    assert difference([MATH], [MATH]).same


@pytest.mark.parametrize(
    ("stored", "only_group", "expected"),
    [
        (None, False, (SPRING, True, False)),  # no semester yet: the file's
        (AUTUMN, True, (SPRING, True, False)),  # no other group depends on the stored one
        (AUTUMN, False, (AUTUMN, False, True)),  # other groups' parity must not move under them
        (SPRING, False, (SPRING, False, False)),  # the same: nothing to replace
    ],
)
def test_a_files_semester_replaces_the_stream_only_when_no_other_group_depends_on_it(
    stored: Semester | None, only_group: bool, expected: tuple[Semester, bool, bool]
) -> None:
    assert semester_after(SPRING, stored, only_group) == expected
