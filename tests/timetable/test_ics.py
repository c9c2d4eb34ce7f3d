"""iCalendar export (what phones' calendars receive) and import (what universities publish), and the round trip."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from fsm_bot.texts import LOCALES, Texts
from fsm_bot.timetable import (
    Change,
    ChangeKind,
    Parity,
    Semester,
    Slot,
    TimetableFile,
    TimetableFileError,
    export_ics,
    import_ics,
    is_study_day,
    lessons_on,
    parity_of,
)

RU = Texts.load("ru")  # the words of a moved lesson's note and of the description's labels
EN = Texts.load("en", fallback=RU)

BERLIN = ZoneInfo("Europe/Berlin")
MOSCOW = ZoneInfo("Europe/Moscow")
# 2026-09-01 is a Tuesday. Holidays: a Monday, an even-week Wednesday and an odd-week Wednesday.
SEMESTER = Semester(
    date(2026, 9, 1),
    date(2026, 12, 30),
    Parity.ODD,
    frozenset({date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 11)}),
)
ANALYSIS = Slot(0, time(9, 0), time(10, 30), "Математический анализ", "лекция", "Иванов И. И.", "301", id=1)
PHYSICS = Slot(2, time(10, 45), time(12, 15), "Физика", "практика", "Петров П. П.", "214", Parity.ODD, 1, id=2)
SLOTS = [ANALYSIS, PHYSICS]


def events_of(data: bytes) -> list[Event]:
    return Calendar.from_ical(data).events


def starts_of(data: bytes, summary: str) -> list[datetime]:
    return sorted(event.start for event in events_of(data) if str(event["SUMMARY"]) == summary)


def without_our_metadata(data: bytes) -> bytes:
    """The file as a foreign application would write it: no X-FSM-BOT-* properties."""
    return re.sub(rb"X-FSM-BOT-[A-Z-]+(;[^:\r\n]*)?:[^\r\n]*\r\n", b"", data)


def calendar_text(*lines: str) -> bytes:
    return (
        "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Университет//RU", *lines, "END:VCALENDAR"]) + "\r\n"
    ).encode()


_uids = itertools.count(1)


def event_text(*lines: str, uid: str = "") -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid or next(_uids)}@univ", "DTSTAMP:20260801T000000Z", *lines, "END:VEVENT"]


# -- export


def test_export_has_one_event_per_lesson_with_parity_and_holidays() -> None:
    data = export_ics("ИВТ-101", SEMESTER, SLOTS, [], BERLIN, SEMESTER.start, SEMESTER.end, t=RU)
    analysis = starts_of(data, "Математический анализ (лекция)")
    physics = starts_of(data, "Физика (практика)")
    mondays = [date(2026, 9, 7) + timedelta(weeks=week) for week in range(17)]  # 07.09 ... 28.12
    assert [start.date() for start in analysis] == [day for day in mondays if day != date(2026, 11, 2)]
    # odd weeks are weeks 1, 3, 5 ... counted from the week of 01.09; 11.11 (week 11) is a holiday
    assert [start.date() for start in physics] == [
        date(2026, 9, 2),
        date(2026, 9, 16),
        date(2026, 9, 30),
        date(2026, 10, 14),
        date(2026, 10, 28),
        date(2026, 11, 25),
        date(2026, 12, 9),
        date(2026, 12, 23),
    ]
    assert len(events_of(data)) == 16 + 8


def test_export_describes_each_lesson() -> None:
    data = export_ics("ИВТ-101", SEMESTER, SLOTS, [], BERLIN, date(2026, 9, 2), date(2026, 9, 2), t=RU)
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "ИВТ-101"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//fsm_bot//timetable//RU"
    [event] = calendar.events
    assert str(event["SUMMARY"]) == "Физика (практика)"
    assert str(event["LOCATION"]) == "214"
    assert str(event["DESCRIPTION"]) == "Преподаватель: Петров П. П.\nПодгруппа: 1"
    assert re.fullmatch(r"20260902-1045-[0-9a-f]{12}@fsm-bot", str(event["UID"]))
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert (event.start, event.end) == (
        datetime(2026, 9, 2, 10, 45, tzinfo=BERLIN),
        datetime(2026, 9, 2, 12, 15, tzinfo=BERLIN),
    )
    assert [timezone.tz_name for timezone in calendar.timezones] == ["Europe/Berlin"]


def test_an_english_reader_gets_the_description_in_english() -> None:
    data = export_ics("ИВТ-101", SEMESTER, SLOTS, [], BERLIN, date(2026, 9, 2), date(2026, 9, 2), t=EN)
    [event] = events_of(data)
    assert str(event["DESCRIPTION"]) == "Teacher: Петров П. П.\nSubgroup: 1"


def test_a_lesson_without_a_kind_teacher_or_room_is_just_its_subject() -> None:
    data = export_ics(
        "A", None, [Slot(0, time(9), time(10), "История")], [], BERLIN, date(2026, 9, 7), date(2026, 9, 7), t=RU
    )
    [event] = events_of(data)
    assert str(event["SUMMARY"]) == "История"
    assert "LOCATION" not in event
    assert "DESCRIPTION" not in event


def test_export_is_dst_correct_across_the_october_change() -> None:
    data = export_ics("ИВТ-101", SEMESTER, [ANALYSIS], [], BERLIN, date(2026, 10, 19), date(2026, 10, 26), t=RU)
    utc_starts = [start.astimezone(UTC) for start in starts_of(data, "Математический анализ (лекция)")]
    assert utc_starts == [datetime(2026, 10, 19, 7, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)]


def test_the_vtimezone_alone_gives_the_right_instants() -> None:
    """Renamed, the TZID is unknown to the reader, which must then build the zone from our VTIMEZONE."""
    data = export_ics("ИВТ-101", SEMESTER, [ANALYSIS], [], BERLIN, date(2026, 10, 19), date(2026, 10, 26), t=RU)
    assert b"BEGIN:VTIMEZONE" in data
    renamed = data.replace(b"Europe/Berlin", b"Custom/Campus")
    starts = sorted(event.start for event in events_of(renamed))
    assert [str(start.tzinfo) for start in starts] != ["Europe/Berlin"] * 2
    assert [start.astimezone(UTC) for start in starts] == [
        datetime(2026, 10, 19, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]


def test_export_applies_changes_and_the_subgroup_filter() -> None:
    changes = [
        Change(ChangeKind.CANCEL, date(2026, 9, 7), slot_id=1),
        Change(ChangeKind.MOVE, date(2026, 9, 14), slot_id=1, new_date=date(2026, 9, 15), new_start=time(13, 0)),
        Change(
            ChangeKind.EXTRA,
            date(2026, 9, 12),
            new_start=time(10, 0),
            new_end=time(11, 0),
            subject="Консультация",
            new_room="401",
        ),
    ]
    data = export_ics("ИВТ-101", SEMESTER, SLOTS, changes, BERLIN, date(2026, 9, 7), date(2026, 9, 20), t=RU)
    found = sorted((event.start, str(event["SUMMARY"])) for event in events_of(data))
    assert found == [
        (datetime(2026, 9, 12, 10, 0, tzinfo=BERLIN), "Консультация"),
        (datetime(2026, 9, 15, 13, 0, tzinfo=BERLIN), "Математический анализ (лекция)"),
        (datetime(2026, 9, 16, 10, 45, tzinfo=BERLIN), "Физика (практика)"),
    ]
    [moved] = [event for event in events_of(data) if event.start.day == 15]
    assert moved.end == datetime(2026, 9, 15, 14, 30, tzinfo=BERLIN)
    assert str(moved["DESCRIPTION"]) == "Преподаватель: Иванов И. И.\nперенесено с 14.09 09:00"
    second_subgroup = export_ics(
        "ИВТ-101", SEMESTER, SLOTS, changes, BERLIN, date(2026, 9, 7), date(2026, 9, 20), 2, t=RU
    )
    assert sorted(str(event["SUMMARY"]) for event in events_of(second_subgroup)) == [
        "Консультация",
        "Математический анализ (лекция)",
    ]


def test_uids_are_unique_and_stable_between_exports() -> None:
    twins = [
        ANALYSIS,
        Slot(0, time(9, 0), time(10, 30), "Математический анализ", "лекция", "Иванов И. И.", "301", id=9),
    ]
    first = [
        str(event["UID"])
        for event in events_of(export_ics("A", SEMESTER, twins, [], BERLIN, SEMESTER.start, SEMESTER.end, t=RU))
    ]
    again = [
        str(event["UID"])
        for event in events_of(export_ics("A", SEMESTER, twins, [], BERLIN, SEMESTER.start, SEMESTER.end, t=RU))
    ]
    assert first == again
    assert len(first) == 32
    assert len(set(first)) == 32
    other_group = export_ics("B", SEMESTER, twins, [], BERLIN, SEMESTER.start, SEMESTER.end, t=RU)
    assert not set(first) & {str(event["UID"]) for event in events_of(other_group)}


# -- round trip


@pytest.mark.parametrize("locale", LOCALES)
def test_our_export_imports_back_exactly_in_every_language(locale: str) -> None:
    texts = Texts.load(locale, fallback=RU)
    semester = Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.EVEN, SEMESTER.holidays)
    language = Slot(4, time(8, 0), time(9, 30), "Иностранный язык (английский)", "", "", "", Parity.EVEN, 2)
    slots = [*SLOTS, language]
    data = export_ics("ИВТ-101", semester, slots, [], BERLIN, semester.start, semester.end, t=texts)
    assert texts("timetable.ics.teacher").encode() in data  # the labels are the reader's language's
    assert import_ics(data, BERLIN) == TimetableFile(semester, {"": [ANALYSIS, PHYSICS, language]})


def test_a_foreign_export_of_the_same_lessons_gives_the_same_slots_and_dates() -> None:
    semester = Semester(date(2026, 9, 7), date(2026, 12, 28), Parity.ODD, SEMESTER.holidays)
    data = without_our_metadata(export_ics("ИВТ-101", semester, SLOTS, [], BERLIN, semester.start, semester.end, t=RU))
    assert b"X-FSM-BOT" not in data
    imported = import_ics(data, BERLIN)
    assert set(imported.groups[""]) == set(SLOTS)
    assert imported.semester is not None
    assert (imported.semester.start, imported.semester.end, imported.semester.first_week) == (
        semester.start,
        semester.end,
        Parity.ODD,
    )
    # only holidays on which some lesson would have fallen can be seen in the file
    assert imported.semester.holidays == {date(2026, 11, 2), date(2026, 11, 4)}


def canonical(slots: list[Slot]) -> set[Slot]:
    """What an export can tell apart: an odd and an even copy of a lesson, or a copy next to an every-week one,
    give the same events as one every-week lesson."""
    weeks: dict[Slot, set[Parity]] = defaultdict(set)
    for slot in slots:
        weeks[replace(slot, weeks=Parity.ALL)].add(slot.weeks)
    return {
        every_week if Parity.ALL in parities or len(parities) == 2 else replace(every_week, weeks=parities.pop())
        for every_week, parities in weeks.items()
    }


def both_parities_have_study_days(semester: Semester, slots: list[Slot]) -> bool:
    """Otherwise a file cannot show whether a lesson runs every week or every other week."""
    for slot in slots:
        seen = set()
        day = semester.start
        while day <= semester.end:
            if day.weekday() == slot.day and is_study_day(semester, day):
                seen.add(parity_of(semester, day))
            day += timedelta(days=1)
        if seen != {Parity.ODD, Parity.EVEN}:
            return False
    return True


words = st.sampled_from(["Физика", "Матанализ", "English", "ин. яз (англ.)", "a;b,c\\d", "Химия: лаб", "1984"])
optional = st.sampled_from(["", "лекция", "практика", "(лаб)", "Иванов И. И.", "301", "к. 2, ауд. 5"])
slot_strategy = st.builds(
    lambda day, start, minutes, subject, kind, teacher, room, weeks, subgroup: Slot(
        day,
        start,
        (datetime.combine(date.min, start) + timedelta(minutes=minutes)).time(),
        subject,
        kind,
        teacher,
        room,
        weeks,
        subgroup,
    ),
    day=st.integers(0, 6),
    start=st.builds(time, st.integers(8, 18), st.sampled_from([0, 15, 30, 45])),
    minutes=st.sampled_from([45, 90, 95, 180]),
    subject=words,
    kind=optional,
    teacher=optional,
    room=optional,
    weeks=st.sampled_from(Parity),
    subgroup=st.none() | st.integers(1, 3),
)
# Without our X-FSM-BOT-KIND, "ин. яз (англ.)" without a kind reads as subject "ин. яз", kind "англ.".
unambiguous_slot_strategy = slot_strategy.filter(lambda slot: bool(slot.kind) or not slot.subject.endswith(")"))
zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/Moscow", "UTC", "Australia/Sydney"]).map(ZoneInfo)


@st.composite
def semesters(draw: st.DrawFn, first_week: st.SearchStrategy[Parity]) -> Semester:
    start = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
    length = draw(st.integers(14, 130))
    holidays = draw(st.lists(st.integers(1, length - 1), max_size=3))
    return Semester(
        start,
        start + timedelta(days=length),
        draw(first_week),
        frozenset(start + timedelta(days=offset) for offset in holidays),
    )


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    semester=semesters(st.sampled_from([Parity.ODD, Parity.EVEN])),
    slots=st.lists(slot_strategy, min_size=1, max_size=6),
    tz=zones,
)
def test_any_timetable_round_trips_through_our_export(semester: Semester, slots: list[Slot], tz: ZoneInfo) -> None:
    assume(both_parities_have_study_days(semester, slots))
    imported = import_ics(export_ics("ИВТ-101", semester, slots, [], tz, semester.start, semester.end, t=RU), tz)
    assert imported.semester == semester
    assert list(imported.groups) == [""]
    assert set(imported.groups[""]) == canonical(slots)
    assert len(imported.groups[""]) == len(canonical(slots))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    semester=semesters(st.just(Parity.ODD)),
    slots=st.lists(unambiguous_slot_strategy, min_size=0, max_size=5),
    tz=zones,
)
def test_any_timetable_round_trips_through_a_foreign_export(
    semester: Semester, slots: list[Slot], tz: ZoneInfo
) -> None:
    semester = Semester(
        semester.start, semester.end, semester.first_week, semester.holidays - {semester.start, semester.end}
    )
    # lessons on the first and the last day, so the dates tell where the semester begins and ends
    slots = [
        *slots,
        Slot(
            semester.start.weekday(), time(8, 0), time(9, 0), "Первая пара", weeks=parity_of(semester, semester.start)
        ),
        Slot(semester.end.weekday(), time(8, 0), time(9, 0), "Последняя пара", weeks=parity_of(semester, semester.end)),
    ]
    assume(both_parities_have_study_days(semester, slots[:-2]))
    data = without_our_metadata(export_ics("ИВТ-101", semester, slots, [], tz, semester.start, semester.end, t=RU))
    imported = import_ics(data, tz)
    assert imported.semester is not None
    assert (imported.semester.start, imported.semester.end) == (semester.start, semester.end)
    assert imported.semester.holidays <= semester.holidays
    assert set(imported.groups[""]) - canonical(slots[-2:]) == canonical(slots[:-2]) - canonical(slots[-2:])


# -- import of other calendars


UNIVERSITY = calendar_text(
    *event_text(
        "DTSTART;TZID=Europe/Moscow:20260907T090000",
        "DTEND;TZID=Europe/Moscow:20260907T103000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20261223T235959Z",
        "EXDATE;TZID=Europe/Moscow:20261104T090000",
        "SUMMARY:Физика (лекция)",
        "LOCATION:ауд. 214",
        "DESCRIPTION:Преподаватель: Петров П. П.\\nПодгруппа: 1\\nкурс по выбору",
        uid="physics",
    ),
    *event_text(
        "DTSTART;TZID=Europe/Moscow:20260914T104500",
        "DTEND;TZID=Europe/Moscow:20260914T121500",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20261221",
        "SUMMARY:Химия (лабораторная работа)",
        uid="chemistry",
    ),
    *event_text(
        "DTSTART;TZID=Europe/Moscow:20260908T130000",
        "DURATION:PT1H30M",
        "RRULE:FREQ=WEEKLY;COUNT=16",
        "SUMMARY:История",
        uid="history",
    ),
    *event_text("DTSTART;VALUE=DATE:20261104", "SUMMARY:День народного единства", uid="holiday"),
)


def test_import_of_a_university_calendar_with_weekly_rules() -> None:
    imported = import_ics(UNIVERSITY, MOSCOW)
    physics = dict(subject="Физика", kind="лекция", teacher="Петров П. П.", room="ауд. 214", subgroup=1)
    assert imported == TimetableFile(
        # from the first lesson (Mon 07.09) to the last (History, the 16th Tuesday: 22.12); 04.11 was excluded
        Semester(date(2026, 9, 7), date(2026, 12, 22), Parity.ODD, frozenset({date(2026, 11, 4)})),
        {
            "": [
                Slot(0, time(9, 0), time(10, 30), weeks=Parity.ODD, **physics),
                Slot(0, time(10, 45), time(12, 15), "Химия", "лабораторная работа", weeks=Parity.EVEN),
                Slot(1, time(13, 0), time(14, 30), "История"),
                Slot(2, time(9, 0), time(10, 30), weeks=Parity.ODD, **physics),
            ]
        },
    )


def test_import_converts_to_the_groups_time_zone() -> None:
    imported = import_ics(UNIVERSITY, ZoneInfo("Asia/Yekaterinburg"))  # two hours ahead of Moscow
    assert [(slot.day, slot.start, slot.end) for slot in imported.groups[""]] == [
        (0, time(11, 0), time(12, 30)),
        (0, time(12, 45), time(14, 15)),
        (1, time(15, 0), time(16, 30)),
        (2, time(11, 0), time(12, 30)),
    ]


def test_import_of_utc_single_events_across_a_dst_change() -> None:
    events = []
    # 09:00 Berlin is 07:00Z before 25.10 and 08:00Z after it; the lesson runs in odd weeks only
    for day, hour in [("20261005", 7), ("20261019", 7), ("20261102", 8), ("20261116", 8)]:
        events += event_text(f"DTSTART:{day}T{hour:02}0000Z", f"DTEND:{day}T{hour + 1:02}3000Z", "SUMMARY:Физика (лаб)")
    # an every-week lesson on Mondays, so the even Mondays are study days without Физика
    for week in range(7):
        day = date(2026, 10, 5) + timedelta(weeks=week)
        events += event_text(f"DTSTART:{day:%Y%m%d}T130000", f"DTEND:{day:%Y%m%d}T140000", "SUMMARY:Спорт")
    imported = import_ics(calendar_text(*events), BERLIN)
    assert imported.groups[""] == [
        Slot(0, time(9, 0), time(10, 30), "Физика", "лаб", weeks=Parity.ODD),
        Slot(0, time(13, 0), time(14, 0), "Спорт", weeks=Parity.ALL),
    ]
    assert imported.semester == Semester(date(2026, 10, 5), date(2026, 11, 16), Parity.ODD)


def test_a_stray_occurrence_in_the_other_week_does_not_make_a_lesson_weekly() -> None:
    events = []
    for week in range(0, 16, 2):
        day = date(2026, 9, 7) + timedelta(weeks=week)
        events += event_text(f"DTSTART:{day:%Y%m%d}T090000", f"DTEND:{day:%Y%m%d}T103000", "SUMMARY:Физика")
    # a make-up lesson in week 4, an even week
    events += event_text("DTSTART:20260928T090000", "DTEND:20260928T103000", "SUMMARY:Физика")
    for week in range(16):
        day = date(2026, 9, 7) + timedelta(weeks=week)
        events += event_text(f"DTSTART:{day:%Y%m%d}T130000", f"DTEND:{day:%Y%m%d}T140000", "SUMMARY:Спорт")
    [physics, sport] = import_ics(calendar_text(*events), MOSCOW).groups[""]
    assert (physics.subject, physics.weeks) == ("Физика", Parity.ODD)
    assert (sport.subject, sport.weeks) == ("Спорт", Parity.ALL)


def test_overridden_and_cancelled_occurrences_of_a_series() -> None:
    data = calendar_text(
        *event_text(
            "DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Физика", uid="s"
        ),
        # the second Monday moved to 11:00, the third cancelled
        *event_text(
            "RECURRENCE-ID:20260914T090000",
            "DTSTART:20260914T110000",
            "DTEND:20260914T123000",
            "SUMMARY:Физика",
            uid="s",
        ),
        *event_text(
            "RECURRENCE-ID:20260921T090000",
            "DTSTART:20260921T090000",
            "DTEND:20260921T103000",
            "STATUS:CANCELLED",
            "SUMMARY:Физика",
            uid="s",
        ),
    )
    imported = import_ics(data, MOSCOW)
    assert imported.groups[""] == [
        Slot(0, time(9, 0), time(10, 30), "Физика"),
        Slot(0, time(11, 0), time(12, 30), "Физика", weeks=Parity.EVEN),  # a moved lesson stays a lesson of its own
    ]
    assert imported.semester == Semester(
        date(2026, 9, 7), date(2026, 9, 28), Parity.ODD, frozenset({date(2026, 9, 21)})
    )


def test_excluded_dates_are_compared_as_local_dates() -> None:
    """08:00 in Vladivostok is 22:00 UTC the evening before: an EXDATE written in UTC must still hit the 14th."""
    data = calendar_text(
        *event_text(
            "DTSTART;TZID=Asia/Vladivostok:20260907T080000",
            "DTEND;TZID=Asia/Vladivostok:20260907T093000",
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "EXDATE:20260913T220000Z",
            "SUMMARY:Физика",
        )
    )
    imported = import_ics(data, ZoneInfo("Asia/Vladivostok"))
    assert imported.semester == Semester(
        date(2026, 9, 7), date(2026, 9, 21), Parity.ODD, frozenset({date(2026, 9, 14)})
    )
    assert imported.groups[""] == [Slot(0, time(8, 0), time(9, 30), "Физика")]


def test_an_endless_rule_stops_where_the_rest_of_the_calendar_ends() -> None:
    endless = event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY", "SUMMARY:Физика")
    last = event_text("DTSTART:20261218T090000", "DTEND:20261218T103000", "SUMMARY:Зачёт")
    imported = import_ics(calendar_text(*endless, *last), MOSCOW)
    assert imported.semester is not None
    assert (imported.semester.start, imported.semester.end) == (date(2026, 9, 7), date(2026, 12, 18))
    alone = import_ics(calendar_text(*endless), MOSCOW)
    assert alone.semester is not None
    assert alone.semester.end == date(2026, 9, 7) + timedelta(weeks=26)
    assert alone.groups[""] == [Slot(0, time(9, 0), time(10, 30), "Физика")]


def test_floating_times_are_local_times() -> None:
    data = calendar_text(*event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:Физика (лекция)"))
    assert import_ics(data, ZoneInfo("Asia/Vladivostok")).groups[""] == [
        Slot(0, time(9), time(10, 30), "Физика", "лекция")
    ]


def test_our_export_reproduces_the_lessons_a_university_calendar_had() -> None:
    """Import then export: the same lessons on the same dates, so students see what the university published."""
    imported = import_ics(UNIVERSITY, MOSCOW)
    assert imported.semester is not None
    semester, slots = imported.semester, imported.groups[""]
    exported = export_ics("ИВТ-101", semester, slots, [], MOSCOW, semester.start, semester.end, t=RU)
    dates = sorted(event.start.date() for event in events_of(exported) if str(event["SUMMARY"]) == "Физика (лекция)")
    assert date(2026, 11, 4) not in dates
    assert dates[:4] == [date(2026, 9, 7), date(2026, 9, 9), date(2026, 9, 21), date(2026, 9, 23)]
    assert dates[-1] == date(2026, 12, 16)
    assert len(dates) == 15
    history = [lesson for lesson in lessons_on(semester, slots, [], date(2026, 12, 22)) if lesson.subject == "История"]
    assert len(history) == 1


# -- malformed input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an iCalendar file"),
        (b"hello, world", "not an iCalendar file"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ivanov\r\nEND:VCARD\r\n", "not an iCalendar file: it holds a VCARD"),
        (calendar_text(), "the calendar has no lessons"),
        (calendar_text(*event_text("DTSTART;VALUE=DATE:20261104", "SUMMARY:Праздник")), "the calendar has no lessons"),
        (
            calendar_text(*event_text("DTSTART:notadate", "DTEND:20260907T103000", "SUMMARY:Физика")),
            'event "Физика"',
        ),
        (
            calendar_text(*event_text("DTSTART:20260907T090000", "DTEND:20260907T080000", "SUMMARY:Физика")),
            'event "Физика" (20260907T090000): a lesson must end after it starts on the same day',
        ),
        (
            calendar_text(*event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:  ")),
            "has no SUMMARY",
        ),
        (
            calendar_text(
                *event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=MONTHLY", "SUMMARY:Ф")
            ),
            'event "Ф" (20260907T090000): repeats FREQ=MONTHLY; only weekly lessons (FREQ=WEEKLY) are supported',
        ),
        (
            calendar_text(
                *event_text(
                    "DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY;BYDAY=XX", "SUMMARY:Ф"
                )
            ),
            "RRULE FREQ=WEEKLY;BYDAY=XX cannot be read: Expected weekday abbreviation, got: XX",
        ),
        (
            calendar_text(
                *event_text(
                    "DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY;BYDAY=1MO", "SUMMARY:Ф"
                )
            ),
            "RRULE day '1MO' is not one of MO, TU, WE, TH, FR, SA, SU (weekly rules)",
        ),
        (
            calendar_text(
                *event_text(
                    "DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY;BYMONTH=9", "SUMMARY:Ф"
                )
            ),
            "RRULE parts BYMONTH are not supported",
        ),
        (
            calendar_text(*event_text("DTSTART:20260907T090000", "SUMMARY:Физика")),
            'event "Физика" (20260907T090000): has no DTEND or DURATION',
        ),
        (
            calendar_text(
                *event_text(
                    "DTSTART:20260907T090000", "DTEND:20260907T103000", "RRULE:FREQ=WEEKLY;INTERVAL=0", "SUMMARY:Ф"
                )
            ),
            "RRULE INTERVAL=0: a lesson repeats every 1 to 52 weeks",
        ),
        (
            calendar_text(
                *event_text("DTSTART:20250901T090000", "DTEND:20250901T103000", "SUMMARY:Ф"),
                *event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:Ф"),
            ),
            "the lessons run from 2025-09-01 to 2026-09-07, more than a year: a timetable is one semester",
        ),
        (
            calendar_text(
                *event_text(
                    "DTSTART:20270104T213000Z", "DTEND:20270104T224500Z", "RRULE:FREQ=WEEKLY;COUNT=15", "SUMMARY:Ночь"
                )
            ),
            # 22:30 CET in January, but 23:30-00:45 CEST after the spring change: not a lesson of one day
            'event "Ночь" (20270104T213000Z): a lesson must end after it starts on the same day '
            "(2027-03-29 23:30 - 2027-03-30 00:45)",
        ),
        (
            calendar_text(
                "X-FSM-BOT-SEMESTER:2026-09-01..someday",
                *event_text("DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:Ф"),
            ),
            "cannot read the semester",
        ),
    ],
)
def test_malformed_input_is_a_timetable_file_error(data: bytes, message: str) -> None:
    with pytest.raises(TimetableFileError) as caught:
        import_ics(data, BERLIN)
    assert message in str(caught.value)


def test_every_bad_event_is_reported() -> None:
    data = calendar_text(
        *event_text("DTSTART:20260907T090000", "DTEND:20260907T080000", "SUMMARY:A"),
        *event_text("DTSTART:20260908T090000", "DTEND:20260908T103000", "SUMMARY:B"),
        *event_text("DTSTART:20260909T090000", "DTEND:20260910T103000", "SUMMARY:C"),
    )
    with pytest.raises(TimetableFileError) as caught:
        import_ics(data, MOSCOW)
    assert [error.split(":")[0] for error in caught.value.errors] == [
        'event "A" (20260907T090000)',
        'event "C" (20260909T090000)',
    ]
