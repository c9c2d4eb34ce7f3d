"""The YAML timetable file: what it accepts, every error it names (line and field), and dump -> load."""

from __future__ import annotations

from datetime import date, time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm_bot.timetable import (
    Parity,
    Semester,
    Slot,
    TimetableFile,
    TimetableFileError,
    dump_timetable,
    load_timetable,
)

EXAMPLE = """\
semester: {start: 2026-09-01, end: 2026-12-30, first_week: odd}
holidays: [2026-11-04]
groups:
  ИВТ-101:
    - {day: mon, start: "09:00", end: "10:30", subject: Математический анализ, kind: лекция,
       teacher: Иванов И. И., room: "301", weeks: all}
    - {day: mon, start: "10:45", end: "12:15", subject: Физика, kind: практика, room: "214", weeks: odd, subgroup: 1}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(TimetableFileError) as caught:
        load_timetable(text, "timetable.yaml")
    assert str(caught.value) == "\n".join(caught.value.errors)
    assert isinstance(caught.value, ValueError)
    return caught.value.errors


def test_the_example_parses_to_exact_values() -> None:
    assert load_timetable(EXAMPLE) == TimetableFile(
        semester=Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.ODD, frozenset({date(2026, 11, 4)})),
        groups={
            "ИВТ-101": [
                Slot(0, time(9, 0), time(10, 30), "Математический анализ", "лекция", "Иванов И. И.", "301", Parity.ALL),
                Slot(0, time(10, 45), time(12, 15), "Физика", "практика", "", "214", Parity.ODD, 1),
            ]
        },
    )


def test_semester_and_holidays_are_optional() -> None:
    loaded = load_timetable("groups:\n  A:\n    - {day: fri, start: '8:30', end: '10:00', subject: X}\n  B:\n")
    assert loaded == TimetableFile(None, {"A": [Slot(4, time(8, 30), time(10), "X")], "B": []})


def test_unquoted_times_that_yaml_1_1_reads_as_base_60_integers() -> None:
    text = (
        "groups:\n"
        "  A:\n"
        "    - {day: mon, start: 9:00, end: 10:30, subject: X}\n"
        "    - {day: mon, start: 13:05, end: 14:35, subject: Y}\n"
    )
    assert yaml.safe_load(text)["groups"]["A"][0]["start"] == 540  # what a naive loader would see
    [first, second] = load_timetable(text).groups["A"]
    assert (first.start, first.end) == (time(9, 0), time(10, 30))
    assert (second.start, second.end) == (time(13, 5), time(14, 35))


def test_numbers_stay_the_text_that_was_written() -> None:
    text = "groups:\n  101:\n    - {day: mon, start: '9:00', end: '10:00', subject: 1984, room: 0301, teacher: null}\n"
    loaded = load_timetable(text)
    [slot] = loaded.groups["101"]
    assert (slot.subject, slot.room, slot.teacher) == ("1984", "0301", "")  # 0301 is not the octal 193


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("mon", 0),
        ("Tue", 1),
        ("wednesday", 2),
        ("пн", 0),
        ("Вт", 1),
        ("СР", 2),
        ("чт", 3),
        ("пт.", 4),
        ("сб", 5),
        ("вс", 6),
        ("Воскресенье", 6),
        ("SUN", 6),
    ],
)
def test_days_in_english_and_russian(written: str, day: int) -> None:
    text = f"groups:\n  A:\n    - {{day: {written}, start: '9:00', end: '10:00', subject: X}}\n"
    assert load_timetable(text).groups["A"][0].day == day


@pytest.mark.parametrize(
    ("written", "weeks"),
    [
        ("all", Parity.ALL),
        ("все", Parity.ALL),
        ("", Parity.ALL),
        ("ODD", Parity.ODD),
        ("нечёт", Parity.ODD),
        ("нечет", Parity.ODD),
        ("нечетная", Parity.ODD),
        ("Нечётная", Parity.ODD),
        ("even", Parity.EVEN),
        ("чёт", Parity.EVEN),
        ("чет", Parity.EVEN),
        ("четная", Parity.EVEN),
        ("чётная", Parity.EVEN),
    ],
)
def test_weeks_in_english_and_russian(written: str, weeks: Parity) -> None:
    text = f"groups:\n  A:\n    - {{day: mon, start: '9:00', end: '10:00', subject: X, weeks: {written}}}\n"
    assert load_timetable(text).groups["A"][0].weeks is weeks


def test_first_week_even_in_russian() -> None:
    text = "semester: {start: 2026-09-01, end: 2026-12-30, first_week: чётная}\ngroups: {}\n"
    semester = load_timetable(text).semester
    assert semester is not None
    assert semester.first_week is Parity.EVEN


def test_holidays_take_dates_and_inclusive_ranges() -> None:
    text = (
        "semester: {start: 2026-09-01, end: 2027-01-31}\n"
        "holidays: [2026-11-04, 2026-12-30..2027-01-02, '2027-01-07', 2027-01-08..2027-01-08]\ngroups: {}\n"
    )
    semester = load_timetable(text).semester
    assert semester is not None
    assert semester.holidays == {
        date(2026, 11, 4),
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
        date(2027, 1, 7),
        date(2027, 1, 8),
    }


# -- errors


def test_the_error_of_the_brief_names_file_line_and_field() -> None:
    text = (
        "groups:\n"
        "  ИВТ-101:\n"
        "    - {day: mon, start: '09:00', end: '10:30', subject: A}\n"
        "    - {day: mon, start: '10:45', end: '12:15', subject: B}\n"
        "\n"
        "    # a comment\n"
        '    - {day: mon, start: "25:00", end: "26:00", subject: C}\n'
    )
    assert errors_of(text) == [
        'timetable.yaml, line 7: groups.ИВТ-101[2].start: "25:00" is not a time (HH:MM)',
        'timetable.yaml, line 7: groups.ИВТ-101[2].end: "26:00" is not a time (HH:MM)',
    ]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            ["semester: {start: 2026-09-01, end: 2026-12-30, color: red}", "groups: {}"],
            "line 1: semester.color: unknown field (expected one of: start, end, first_week)",
        ),
        (["groups: {}", "notes: hello"], "line 2: notes: unknown field (expected one of: semester, holidays, groups)"),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00', subject: X, colour: red}"],
            "line 3: groups.A[0].colour: unknown field (expected one of: day, start, end, subject, kind, teacher, "
            "room, weeks, subgroup)",
        ),
        (["groups:", "  A:", "    - {start: '9:00', end: '10:00', subject: X}"], 'line 3: groups.A[0]: missing "day"'),
        (["groups:", "  A:", "    - {day: mon, end: '10:00', subject: X}"], 'line 3: groups.A[0]: missing "start"'),
        (["groups:", "  A:", "    - {day: mon, start: '9:00', subject: X}"], 'line 3: groups.A[0]: missing "end"'),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00'}"],
            'line 3: groups.A[0]: missing "subject"',
        ),
        (
            ["groups:", "  A:", "    - day: mon", "      start: '9:00'", "      end: '10:00'", "      subject: '  '"],
            "line 6: groups.A[0].subject: is empty",
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '10:00', end: '10:00', subject: X}"],
            'line 3: groups.A[0].end: "10:00" is not after the start "10:00"',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '10:00', end: '9:59', subject: X}"],
            'line 3: groups.A[0].end: "09:59" is not after the start "10:00"',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: 9.30, end: '10:00', subject: X}"],
            'line 3: groups.A[0].start: "9.30" is not a time (HH:MM)',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00', subject: X, subgroup: 0}"],
            'line 3: groups.A[0].subgroup: "0" is not a subgroup number (a positive integer)',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00', subject: X, subgroup: первая}"],
            'line 3: groups.A[0].subgroup: "первая" is not a subgroup number (a positive integer)',
        ),
        (
            ["groups:", "  A:", "    - {day: понедельн, start: '9:00', end: '10:00', subject: X}"],
            'line 3: groups.A[0].day: "понедельн" is not a day of the week (mon..sun or пн..вс)',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00', subject: X, weeks: знаменатель}"],
            'line 3: groups.A[0].weeks: "знаменатель" is not a week parity (all, odd or even)',
        ),
        (
            ["groups:", "  A:", "    - {day: mon, start: '9:00', end: '10:00', subject: [X, Y]}"],
            "line 3: groups.A[0].subject: expected text, got a list",
        ),
        (
            ["semester: {start: 2026-09-01, end: 2026-12-30, first_week: all}", "groups: {}"],
            'line 1: semester.first_week: "all" is not a week parity (odd or even)',
        ),
        (
            ["semester:", "  start: 2026-09-01", "  end: 2026-08-31", "groups: {}"],
            "line 3: semester.end: 2026-08-31 is before the start 2026-09-01",
        ),
        (["semester: {start: 2026-09-01}", "groups: {}"], 'line 1: semester: missing "end"'),
        (
            ["semester: {start: 2026-09-31, end: 2026-12-30}", "groups: {}"],
            'line 1: semester.start: "2026-09-31" is not a date (YYYY-MM-DD)',
        ),
        (
            [
                "semester: {start: 2026-09-01, end: 2026-12-30}",
                "holidays:",
                "  - 2026-11-04",
                "  - 2026-12-31..2026-12-29",
                "groups: {}",
            ],
            'line 4: holidays[1]: "2026-12-31..2026-12-29" ends before it starts',
        ),
        (
            ["semester: {start: 2026-09-01, end: 2026-12-30}", "holidays: [4 ноября]", "groups: {}"],
            'line 2: holidays[0]: "4 ноября" is not a date (YYYY-MM-DD)',
        ),
        (["holidays: [2026-11-04]", "groups: {}"], 'line 1: holidays: need a "semester" (start and end) to belong to'),
        (
            ["groups:", "  A:", "    - Физика пн 9:00"],
            'line 3: groups.A[0]: expected {day: mon, start: "09:00", end: "10:30", subject: ...}, '
            'got "Физика пн 9:00"',
        ),
        (["groups:", "  A: {day: mon}"], "line 2: groups.A: expected a list of lessons, got a mapping"),
        (["groups: [A, B]"], "line 1: groups: expected a mapping: study group name -> list of lessons, got a list"),
        (
            ["semester: {start: 2026-09-01, end: 2026-12-30}"],
            'line 1: missing "groups" (study group name -> list of lessons)',
        ),
        (["- groups"], "line 1: expected a mapping with semester, holidays and groups, got a list"),
        (["groups: {}", "groups: {}"], "line 2: groups: appears twice"),
        (
            [
                "groups:",
                "  A:",
                "    - {day: mon, start: '9:00', end: '10:00', subject: X}",
                "    - {day: tue, start: '9:00', end: '10:00', subject: X}",
                "    - {day: пн, start: '09:00', end: '10:00', subject: X, weeks: все}",
            ],
            "line 5: groups.A[2]: the same lesson as groups.A[0]",
        ),
    ],
)
def test_each_error_names_its_line_and_field(lines: list[str], error: str) -> None:
    assert errors_of("\n".join(lines) + "\n") == [f"timetable.yaml, {error}"]


def test_every_error_of_a_file_is_reported_at_once() -> None:
    text = """\
semester: {start: 2026-09-01, end: 2026-12-30, first_week: 3}
groups:
  ИВТ-101:
    - {day: mon, start: "09:00", end: "10:30", subject: Матанализ}
    - {day: xyz, start: "09:00", end: "10:30", subject: Физика}
    - {day: tue, start: "9", end: "10:30"}
  ИВТ-102:
    - {day: wed, start: "12:00", end: "11:00", subject: Химия, room: [1]}
"""
    assert errors_of(text) == [
        'timetable.yaml, line 1: semester.first_week: "3" is not a week parity (odd or even)',
        'timetable.yaml, line 5: groups.ИВТ-101[1].day: "xyz" is not a day of the week (mon..sun or пн..вс)',
        'timetable.yaml, line 6: groups.ИВТ-101[2]: missing "subject"',
        'timetable.yaml, line 6: groups.ИВТ-101[2].start: "9" is not a time (HH:MM)',
        "timetable.yaml, line 8: groups.ИВТ-102[0].room: expected text, got a list",
        'timetable.yaml, line 8: groups.ИВТ-102[0].end: "11:00" is not after the start "12:00"',
    ]


def test_a_yaml_syntax_error_names_its_line() -> None:
    text = "groups:\n  A:\n    - {day: mon, start: '9:00', end: '10:00', subject: X\n  B: []\n"
    [error] = errors_of(text)
    assert error.startswith("timetable.yaml, line 4: YAML syntax error: ")
    [error] = errors_of("groups:\n  A: []\n\tB: []\n")
    assert error.startswith("timetable.yaml, line 3: YAML syntax error: found character '\\t'")


def test_an_empty_file_is_an_error() -> None:
    assert errors_of("") == ['timetable.yaml, line 1: the file is empty; expected "groups:" with the lessons']
    assert errors_of("# nothing\n") == [
        'timetable.yaml, line 1: the file is empty; expected "groups:" with the lessons'
    ]


def test_the_default_source_name() -> None:
    with pytest.raises(TimetableFileError, match=r"^<timetable>, line 1: groups: expected a mapping"):
        load_timetable("groups: 5\n")


# -- writing


def test_dump_writes_the_documented_format() -> None:
    text = dump_timetable(load_timetable(EXAMPLE))
    assert text == (
        "semester: {start: 2026-09-01, end: 2026-12-30, first_week: odd}\n"
        "holidays: [2026-11-04]\n"
        "groups:\n"
        "  ИВТ-101:\n"
        '    - {day: mon, start: "09:00", end: "10:30", subject: Математический анализ, kind: лекция, '
        "teacher: Иванов И. И., room: '301', weeks: all}\n"
        '    - {day: mon, start: "10:45", end: "12:15", subject: Физика, kind: практика, room: \'214\', weeks: odd, '
        "subgroup: 1}\n"
    )


def test_dump_writes_consecutive_holidays_as_ranges_and_reads_back() -> None:
    holidays = {date(2026, 11, 4), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)}
    timetable = TimetableFile(Semester(date(2026, 9, 1), date(2027, 1, 31), Parity.EVEN, frozenset(holidays)), {})
    text = dump_timetable(timetable)
    assert "holidays: [2026-11-04, 2026-12-29..2027-01-01]\n" in text
    assert "first_week: even" in text
    assert load_timetable(text) == timetable


def test_dump_then_load_gives_the_same_timetable_for_awkward_text() -> None:
    awkward = [
        Slot(6, time(0, 0), time(23, 59), "a: b, {c} [d] # e", "'кавычки'", '"двойные"', "0301", Parity.EVEN, 12),
        Slot(3, time(8, 0), time(9, 0), "yes", "null", "~", "1.5", Parity.ODD),
        Slot(3, time(8, 0), time(9, 0), "- dash", "&anchor", "*alias", "!tag", Parity.ALL),
    ]
    timetable = TimetableFile(None, {"ИВТ-101": awkward, "101": [], "null": awkward[:1]})
    assert load_timetable(dump_timetable(timetable)) == timetable


texts = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85\u2028\u2029"),
    max_size=20,
).map(str.strip)
slots = st.builds(
    Slot,
    day=st.integers(0, 6),
    start=st.times(max_value=time(22, 0)).map(lambda moment: moment.replace(second=0, microsecond=0)),
    end=st.just(time(23, 30)),
    subject=texts.filter(bool),
    kind=texts,
    teacher=texts,
    room=texts,
    weeks=st.sampled_from(Parity),
    subgroup=st.none() | st.integers(1, 5),
)
semesters = st.builds(
    lambda start, length, first_week, holidays: Semester(
        start, start + length, first_week, frozenset(start + offset for offset in holidays)
    ),
    start=st.dates(date(2020, 1, 1), date(2035, 1, 1)),
    length=st.timedeltas(min_value=date.resolution * 0, max_value=date.resolution * 200),
    first_week=st.sampled_from([Parity.ODD, Parity.EVEN]),
    holidays=st.lists(st.timedeltas(min_value=date.resolution * 0, max_value=date.resolution * 220), max_size=8),
)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    semester=st.none() | semesters,
    groups=st.dictionaries(texts.filter(bool), st.lists(slots, max_size=5, unique=True), max_size=3),
)
def test_any_timetable_survives_dump_and_load(semester: Semester | None, groups: dict[str, list[Slot]]) -> None:
    timetable = TimetableFile(semester, groups)
    assert load_timetable(dump_timetable(timetable)) == timetable
