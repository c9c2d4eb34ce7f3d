"""Week parity, study days, and how slots and the headman's changes expand into the lessons of a day."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fsm_bot.texts import Texts
from fsm_bot.timetable import (
    Change,
    ChangeKind,
    Lesson,
    LessonStatus,
    Parity,
    Semester,
    Slot,
    is_study_day,
    lessons_between,
    lessons_on,
    parity_of,
    week_number,
)
from fsm_bot.timetable.render import lesson_note

RU, EN = Texts.load("ru"), Texts.load("en")


def note(lesson: Lesson, texts: Texts = RU) -> str:
    """What a reader of `texts` is told about a changed lesson: where it moved, and the headman's note."""
    return lesson_note(texts, lesson)


# 2026-09-01 is a Tuesday; its week (Mon 31.08 - Sun 06.09) is week 1.
AUTUMN = Semester(
    start=date(2026, 9, 1),
    end=date(2026, 12, 30),
    first_week=Parity.ODD,
    holidays=frozenset({date(2026, 11, 4), date(2026, 11, 2)}),
)
MON_ODD_WEEK = date(2026, 11, 9)  # week 11
MON_EVEN_WEEK = date(2026, 11, 16)  # week 12

ANALYSIS = Slot(0, time(9, 0), time(10, 30), "Матанализ", "лекция", "Иванов И. И.", "301", Parity.ALL, None, id=1)
PHYSICS = Slot(0, time(10, 45), time(12, 15), "Физика", "практика", "Петров", "214", Parity.ODD, 1, id=2)
CHEMISTRY = Slot(0, time(10, 45), time(12, 15), "Химия", "лабораторная", "Сидорова", "105", Parity.EVEN, 2, id=3)
HISTORY = Slot(2, time(13, 0), time(14, 30), "История", "", "", "", Parity.ALL, None, id=4)
SLOTS = [CHEMISTRY, HISTORY, PHYSICS, ANALYSIS]  # deliberately not in time order


def summary(lessons: list[Lesson]) -> list[tuple[date, str, str, LessonStatus]]:
    return [(lesson.date, f"{lesson.start:%H:%M}", lesson.subject, lesson.status) for lesson in lessons]


# -- weeks and parity


def test_week_number_counts_monday_based_weeks_from_the_semester_start() -> None:
    assert week_number(AUTUMN, date(2026, 8, 31)) == 1  # Monday before the Tuesday start
    assert week_number(AUTUMN, date(2026, 9, 1)) == 1
    assert week_number(AUTUMN, date(2026, 9, 6)) == 1
    assert week_number(AUTUMN, date(2026, 9, 7)) == 2
    assert week_number(AUTUMN, MON_ODD_WEEK) == 11
    assert week_number(AUTUMN, date(2026, 8, 30)) == 0
    assert week_number(AUTUMN, date(2026, 8, 23)) == -1


def test_parity_follows_first_week_even() -> None:
    semester = Semester(date(2026, 9, 1), date(2026, 12, 30), first_week=Parity.EVEN)
    assert parity_of(semester, date(2026, 9, 1)) is Parity.EVEN
    assert parity_of(semester, date(2026, 9, 6)) is Parity.EVEN
    assert parity_of(semester, date(2026, 9, 7)) is Parity.ODD
    assert parity_of(semester, date(2026, 9, 14)) is Parity.EVEN
    assert parity_of(semester, date(2026, 8, 30)) is Parity.ODD  # week 0 before the start


def test_parity_keeps_alternating_across_new_year_unlike_iso_weeks() -> None:
    winter = Semester(date(2026, 9, 1), date(2027, 1, 31))
    assert week_number(winter, date(2026, 12, 28)) == 18
    assert parity_of(winter, date(2026, 12, 28)) is Parity.EVEN
    assert week_number(winter, date(2027, 1, 4)) == 19
    assert parity_of(winter, date(2027, 1, 4)) is Parity.ODD
    # ISO weeks 53 and 1 are both odd: without a semester two "odd" weeks follow each other
    assert parity_of(None, date(2026, 12, 28)) is Parity.ODD
    assert parity_of(None, date(2027, 1, 4)) is Parity.ODD
    assert parity_of(None, date(2027, 1, 11)) is Parity.EVEN


def test_study_days() -> None:
    assert is_study_day(AUTUMN, date(2026, 9, 1))
    assert is_study_day(AUTUMN, date(2026, 12, 30))
    assert not is_study_day(AUTUMN, date(2026, 8, 31))
    assert not is_study_day(AUTUMN, date(2026, 12, 31))
    assert not is_study_day(AUTUMN, date(2026, 11, 4))
    assert is_study_day(None, date(2030, 1, 1))


def test_semester_and_slot_reject_impossible_values() -> None:
    with pytest.raises(ValueError, match="odd or even"):
        Semester(date(2026, 9, 1), date(2026, 12, 30), first_week=Parity.ALL)
    with pytest.raises(ValueError, match="before it starts"):
        Semester(date(2026, 9, 1), date(2026, 8, 30))
    with pytest.raises(ValueError, match="Sunday"):
        Slot(7, time(9), time(10), "x")
    with pytest.raises(ValueError, match="end after"):
        Slot(0, time(10), time(10), "x")
    with pytest.raises(ValueError, match="positive"):
        Slot(0, time(9), time(10), "x", subgroup=0)
    assert Semester(date(2026, 9, 1), date(2026, 9, 2), holidays=[date(2026, 9, 2)]).holidays == {date(2026, 9, 2)}


# -- regular lessons


def test_headman_sees_every_lesson_of_the_week_parity_sorted_by_time() -> None:
    assert summary(lessons_on(AUTUMN, SLOTS, [], MON_ODD_WEEK)) == [
        (MON_ODD_WEEK, "09:00", "Матанализ", LessonStatus.REGULAR),
        (MON_ODD_WEEK, "10:45", "Физика", LessonStatus.REGULAR),
    ]
    assert summary(lessons_on(AUTUMN, SLOTS, [], MON_EVEN_WEEK)) == [
        (MON_EVEN_WEEK, "09:00", "Матанализ", LessonStatus.REGULAR),
        (MON_EVEN_WEEK, "10:45", "Химия", LessonStatus.REGULAR),
    ]


def test_a_lesson_carries_its_slot() -> None:
    [lesson] = lessons_on(AUTUMN, [ANALYSIS], [], MON_ODD_WEEK)
    assert lesson == Lesson(
        date=MON_ODD_WEEK,
        start=time(9, 0),
        end=time(10, 30),
        subject="Матанализ",
        kind="лекция",
        teacher="Иванов И. И.",
        room="301",
        subgroup=None,
        status=LessonStatus.REGULAR,
        slot_id=1,
    )
    assert lesson.takes_place


def test_no_lessons_on_holidays_or_outside_the_semester() -> None:
    assert lessons_on(AUTUMN, SLOTS, [], date(2026, 11, 2)) == []  # a Monday holiday
    assert lessons_on(AUTUMN, SLOTS, [], date(2026, 11, 4)) == []  # a Wednesday holiday
    assert lessons_on(AUTUMN, SLOTS, [], date(2026, 8, 31)) == []  # the Monday before the start
    assert [lesson.subject for lesson in lessons_on(AUTUMN, SLOTS, [], date(2026, 11, 11))] == ["История"]


def test_without_a_semester_every_day_is_a_study_day_with_iso_parity() -> None:
    assert date(2026, 11, 2).isocalendar().week == 45  # a holiday of AUTUMN, an ordinary day without a semester
    assert [lesson.subject for lesson in lessons_on(None, SLOTS, [], date(2026, 11, 2))] == ["Матанализ", "Физика"]
    assert [lesson.subject for lesson in lessons_on(None, SLOTS, [], date(2026, 11, 9))] == ["Матанализ", "Химия"]
    assert [lesson.subject for lesson in lessons_on(None, SLOTS, [], date(2031, 6, 2))] == ["Матанализ", "Физика"]


def test_a_student_sees_the_whole_group_and_their_own_subgroup() -> None:
    assert [lesson.subject for lesson in lessons_on(AUTUMN, SLOTS, [], MON_ODD_WEEK, subgroup=1)] == [
        "Матанализ",
        "Физика",
    ]
    assert [lesson.subject for lesson in lessons_on(AUTUMN, SLOTS, [], MON_ODD_WEEK, subgroup=2)] == ["Матанализ"]
    assert [lesson.subject for lesson in lessons_on(AUTUMN, SLOTS, [], MON_EVEN_WEEK, subgroup=2)] == [
        "Матанализ",
        "Химия",
    ]


def test_lessons_between_is_inclusive_and_ordered_by_date_then_time() -> None:
    lessons = lessons_between(AUTUMN, SLOTS, [], date(2026, 11, 9), date(2026, 11, 16))
    assert summary(lessons) == [
        (date(2026, 11, 9), "09:00", "Матанализ", LessonStatus.REGULAR),
        (date(2026, 11, 9), "10:45", "Физика", LessonStatus.REGULAR),
        (date(2026, 11, 11), "13:00", "История", LessonStatus.REGULAR),
        (date(2026, 11, 16), "09:00", "Матанализ", LessonStatus.REGULAR),
        (date(2026, 11, 16), "10:45", "Химия", LessonStatus.REGULAR),
    ]
    assert lessons_between(AUTUMN, SLOTS, [], date(2026, 11, 16), date(2026, 11, 9)) == []


# -- changes


def test_a_cancelled_lesson_is_shown_as_cancelled() -> None:
    cancel = Change(ChangeKind.CANCEL, MON_ODD_WEEK, slot_id=1, note="преподаватель болеет", id=10)
    lessons = lessons_on(AUTUMN, SLOTS, [cancel], MON_ODD_WEEK)
    assert summary(lessons)[0] == (MON_ODD_WEEK, "09:00", "Матанализ", LessonStatus.CANCELLED)
    assert lessons[0].change_id == 10
    assert lessons[0].note == "преподаватель болеет"
    assert not lessons[0].takes_place
    # only that date
    assert lessons_on(AUTUMN, SLOTS, [cancel], MON_EVEN_WEEK)[0].status is LessonStatus.REGULAR


def test_a_move_within_the_day_shows_the_lesson_once_at_its_new_time_and_room() -> None:
    move = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_start=time(12, 30), new_end=time(14, 0), new_room="214")
    lessons = lessons_on(AUTUMN, SLOTS, [move], MON_ODD_WEEK)
    assert summary(lessons) == [
        (MON_ODD_WEEK, "10:45", "Физика", LessonStatus.REGULAR),
        (MON_ODD_WEEK, "12:30", "Матанализ", LessonStatus.MOVED),
    ]
    moved = lessons[1]
    assert (moved.end, moved.room, note(moved)) == (time(14, 0), "214", "перенесено с 09:00, ауд. 301")
    assert moved.takes_place


def test_a_move_of_the_start_only_keeps_the_length_and_a_room_only_move_says_so() -> None:
    later = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_start=time(15, 0))
    [moved] = lessons_on(AUTUMN, [ANALYSIS], [later], MON_ODD_WEEK)
    assert (moved.start, moved.end, moved.room, note(moved)) == (time(15, 0), time(16, 30), "301", "перенесено с 09:00")
    elsewhere = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_room="105")
    [moved] = lessons_on(AUTUMN, [ANALYSIS], [elsewhere], MON_ODD_WEEK)
    assert (moved.start, moved.room, note(moved)) == (time(9, 0), "105", "перенесено из ауд. 301")


def test_a_move_to_another_day_leaves_a_note_on_the_old_date_and_a_lesson_on_the_new_one() -> None:
    thursday = date(2026, 11, 12)
    move = Change(
        ChangeKind.MOVE,
        MON_ODD_WEEK,
        slot_id=2,
        new_date=thursday,
        new_start=time(10, 45),
        new_end=time(12, 15),
        new_room="214а",
        id=11,
    )
    [analysis, away] = lessons_on(AUTUMN, SLOTS, [move], MON_ODD_WEEK)
    assert analysis.status is LessonStatus.REGULAR
    assert (away.subject, away.status, away.start, away.room) == (
        "Физика",
        LessonStatus.MOVED_AWAY,
        time(10, 45),
        "214",
    )
    assert note(away) == "перенесено на 12.11 10:45, ауд. 214а"
    assert not away.takes_place
    [moved_in] = lessons_on(AUTUMN, SLOTS, [move], thursday)
    assert (moved_in.subject, moved_in.status, moved_in.room, moved_in.subgroup) == (
        "Физика",
        LessonStatus.MOVED,
        "214а",
        1,
    )
    assert (moved_in.slot_id, moved_in.change_id, note(moved_in)) == (2, 11, "перенесено с 09.11 10:45")
    # the subgroup filter applies to the moved lesson as to its slot
    assert lessons_on(AUTUMN, SLOTS, [move], thursday, subgroup=2) == []
    assert [lesson.status for lesson in lessons_on(AUTUMN, SLOTS, [move], thursday, subgroup=1)] == [LessonStatus.MOVED]
    assert [lesson.status for lesson in lessons_on(AUTUMN, SLOTS, [move], MON_ODD_WEEK, subgroup=2)] == [
        LessonStatus.REGULAR
    ]


def test_a_lesson_moved_onto_a_holiday_or_past_the_semester_is_still_shown() -> None:
    to_holiday = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_date=date(2026, 11, 4))
    [moved] = lessons_on(AUTUMN, SLOTS, [to_holiday], date(2026, 11, 4))
    assert (moved.subject, moved.status, moved.start, moved.room) == ("Матанализ", LessonStatus.MOVED, time(9), "301")
    assert note(moved) == "перенесено с 09.11 09:00"
    to_january = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_date=date(2027, 1, 9), note="зачёт")
    [moved] = lessons_on(AUTUMN, SLOTS, [to_january], date(2027, 1, 9))
    assert note(moved) == "перенесено с 09.11 09:00; зачёт"


def test_an_english_reader_reads_every_move_in_english() -> None:
    def notes(change: Change, *days: date) -> list[str]:
        return [note(lesson, EN) for day in days for lesson in lessons_on(AUTUMN, [ANALYSIS], [change], day)]

    thursday = date(2026, 11, 12)
    away = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_date=thursday, new_start=time(10, 45), note="exam")
    assert notes(away, MON_ODD_WEEK, thursday) == ["moved to 12.11 10:45; exam", "moved from 09.11 09:00; exam"]
    away_elsewhere = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_date=thursday, new_room="214а")
    assert notes(away_elsewhere, MON_ODD_WEEK) == ["moved to 12.11 09:00, room 214а"]
    later = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_start=time(15, 0))
    assert notes(later, MON_ODD_WEEK) == ["moved from 09:00"]
    later_elsewhere = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_start=time(15, 0), new_room="214")
    assert notes(later_elsewhere, MON_ODD_WEEK) == ["moved from 09:00, room 301"]
    elsewhere = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_room="105")
    assert notes(elsewhere, MON_ODD_WEEK) == ["moved from room 301"]
    no_room_before = Slot(0, time(9), time(10, 30), "Матанализ", id=1)
    [moved] = lessons_on(AUTUMN, [no_room_before], [elsewhere], MON_ODD_WEEK)
    assert note(moved, EN) == "room changed"
    assert note(moved) == "изменена аудитория"


def test_an_extra_lesson_appears_on_its_date_even_on_a_holiday() -> None:
    extra = Change(
        ChangeKind.EXTRA,
        date(2026, 11, 4),
        new_start=time(11, 0),
        new_end=time(12, 30),
        new_room="401",
        subject="Консультация",
        kind_label="консультация",
        teacher="Иванов И. И.",
        subgroup=2,
        note="перед контрольной",
        id=12,
    )
    [lesson] = lessons_on(AUTUMN, SLOTS, [extra], date(2026, 11, 4))
    assert lesson == Lesson(
        date=date(2026, 11, 4),
        start=time(11, 0),
        end=time(12, 30),
        subject="Консультация",
        kind="консультация",
        teacher="Иванов И. И.",
        room="401",
        subgroup=2,
        status=LessonStatus.EXTRA,
        change_id=12,
        note="перед контрольной",
    )
    assert lessons_on(AUTUMN, SLOTS, [extra], date(2026, 11, 4), subgroup=1) == []
    assert len(lessons_on(AUTUMN, SLOTS, [extra], date(2026, 11, 4), subgroup=2)) == 1


def test_an_extra_lesson_is_sorted_among_the_regular_ones() -> None:
    extra = Change(ChangeKind.EXTRA, MON_ODD_WEEK, new_start=time(10, 0), new_end=time(10, 40), subject="Собрание")
    assert [lesson.subject for lesson in lessons_on(AUTUMN, SLOTS, [extra], MON_ODD_WEEK)] == [
        "Матанализ",
        "Собрание",
        "Физика",
    ]


def test_changes_that_do_not_fit_the_timetable_are_ignored() -> None:
    changes = [
        Change(ChangeKind.CANCEL, MON_ODD_WEEK, slot_id=99),  # unknown slot
        Change(ChangeKind.CANCEL, MON_ODD_WEEK, slot_id=None),
        Change(ChangeKind.CANCEL, MON_ODD_WEEK, slot_id=3),  # Химия is even weeks only
        Change(ChangeKind.MOVE, date(2026, 11, 10), slot_id=1, new_date=MON_EVEN_WEEK),  # a Tuesday: no Матанализ
        Change(ChangeKind.MOVE, date(2026, 11, 2), slot_id=1, new_date=MON_EVEN_WEEK),  # a holiday: no lesson
        Change(ChangeKind.EXTRA, MON_ODD_WEEK, subject="no time"),  # an extra without a time
    ]
    expected = summary(lessons_on(AUTUMN, SLOTS, [], MON_ODD_WEEK))
    assert summary(lessons_on(AUTUMN, SLOTS, changes, MON_ODD_WEEK)) == expected
    assert summary(lessons_on(AUTUMN, SLOTS, changes, MON_EVEN_WEEK)) == summary(
        lessons_on(AUTUMN, SLOTS, [], MON_EVEN_WEEK)
    )


def test_the_latest_change_of_a_lesson_wins() -> None:
    move = Change(ChangeKind.MOVE, MON_ODD_WEEK, slot_id=1, new_date=date(2026, 11, 12))
    cancel = Change(ChangeKind.CANCEL, MON_ODD_WEEK, slot_id=1)
    assert lessons_on(AUTUMN, [ANALYSIS], [move, cancel], MON_ODD_WEEK)[0].status is LessonStatus.CANCELLED
    assert lessons_on(AUTUMN, [ANALYSIS], [move, cancel], date(2026, 11, 12)) == []
    assert lessons_on(AUTUMN, [ANALYSIS], [cancel, move], MON_ODD_WEEK)[0].status is LessonStatus.MOVED_AWAY


# -- time zones


def lesson_at(day: date, start: time) -> Lesson:
    end = time(start.hour + 1, start.minute)
    return Lesson(day, start, end, "x", "", "", "", None, LessonStatus.REGULAR)


def test_starts_at_uses_the_offset_of_the_lessons_own_date_in_berlin() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    saturday = lesson_at(date(2026, 10, 24), time(9, 0))
    sunday = lesson_at(date(2026, 10, 25), time(9, 0))  # the last Sunday of October: CEST -> CET at 03:00
    assert saturday.starts_at(berlin).utcoffset() == timedelta(hours=2)
    assert sunday.starts_at(berlin).utcoffset() == timedelta(hours=1)
    assert sunday.starts_at(berlin).astimezone(UTC).hour == 8
    assert saturday.starts_at(berlin).astimezone(UTC).hour == 7
    assert sunday.ends_at(berlin) - sunday.starts_at(berlin) == timedelta(hours=1)


def test_starts_at_in_new_york_changes_offset_on_the_first_sunday_of_november() -> None:
    new_york = ZoneInfo("America/New_York")
    before = lesson_at(date(2026, 10, 31), time(9, 0))
    after = lesson_at(date(2026, 11, 1), time(9, 0))
    assert before.starts_at(new_york).utcoffset() == timedelta(hours=-4)
    assert after.starts_at(new_york).utcoffset() == timedelta(hours=-5)
    assert after.starts_at(new_york).astimezone(UTC) - before.starts_at(new_york).astimezone(UTC) == timedelta(hours=25)


def test_a_start_in_the_spring_gap_becomes_the_real_instant_after_it() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    in_gap = lesson_at(date(2026, 3, 29), time(2, 30))  # 02:00-03:00 does not exist that night
    starts = in_gap.starts_at(berlin)
    assert (starts.hour, starts.minute, starts.utcoffset()) == (3, 30, timedelta(hours=2))
    assert starts.astimezone(UTC).hour == 1
