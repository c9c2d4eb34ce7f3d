"""Hostile timetable files (issue 15): each is refused with one line and exit code 2, within a 1 GiB address space.

An outside tester sent a 3 KB .ics that grew to 3.3 GB, an 88 KB YAML of aliases that became a million
lessons, a 50 MB file read whole and `[[[` that ended in a RecursionError. Each file is built here and fed to
`fsm-bot timetable import` the way a deployer runs it; the memory cap makes "it grew without bound" a failure
(MemoryError, a traceback) instead of a slow test.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from fsm_bot.storage.models import StudyGroup
from fsm_bot.storage.timetable_models import TimetableSlot
from fsm_bot.timetable import TimetableFileError, import_ics, limits, load_timetable, yaml_nodes
from fsm_bot.timetable.upload import parse_timetable_file

MOSCOW = ZoneInfo("Europe/Moscow")
ADDRESS_SPACE = 1 << 30  # 1 GiB


def ics(*lines: str, encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//University//RU", *lines, "END:VCALENDAR"])
    return (text + "\r\n").encode(encoding)


def event(uid: str, *lines: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}@univ", "DTSTAMP:20260801T000000Z", *lines, "END:VEVENT"]


def endless_rules_and_a_lesson_in_9999() -> bytes:
    """The tester's 3 KB calendar: 20 weekly rules with neither COUNT nor UNTIL, and one event in the year 9999."""
    rules = [
        line
        for number in range(20)
        for line in event(
            f"rule{number}",
            f"DTSTART:20260901T{8 + number % 10:02d}0000",
            f"DTEND:20260901T{8 + number % 10:02d}4500",
            f"SUMMARY:Предмет {number} (лекция)",
            "RRULE:FREQ=WEEKLY",
        )
    ]
    far = event("far", "DTSTART:99990601T090000", "DTEND:99990601T100000", "SUMMARY:Конец света")
    return ics(*rules, *far)


def alias_bomb() -> bytes:
    """The tester's alias file: one lesson, a list of 1,000 aliases of it, and 1,000 groups aliasing that list:
    12 KB of YAML that PyYAML's tree gives as a million lessons."""
    lesson = '&lesson {day: mon, start: "09:00", end: "10:30", subject: Физика}'
    week = f"&week [{', '.join(['*lesson'] * 1000)}]"
    groups = "".join(f"  ИВТ-{number}: *week\n" for number in range(1000))
    return f"lesson: {lesson}\nweek: {week}\ngroups:\n{groups}".encode()


def sparse_file(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as file:
            file.truncate(size)  # sparse: 50 MB on the command's side, nothing on the disk's

    return write


LESSON = '{day: mon, start: "09:00", end: "10:30", subject: %s}'
HOSTILE: dict[str, tuple[str, bytes | Callable[[Path], None], str]] = {
    "endless rules and 9999": ("calendar.ics", endless_rules_and_a_lesson_in_9999(), "more than a year"),
    "alias bomb": ("timetable.yaml", alias_bomb(), "line 1: YAML anchors and aliases"),
    "50 MB yaml": ("timetable.yaml", sparse_file(50 * 2**20), "larger than 1 MB"),
    "50 MB ics": ("calendar.ics", sparse_file(50 * 2**20), "larger than 1 MB"),
    "deep brackets": ("timetable.yaml", b"[" * 100_000, "line 1: "),
    "deep calendar": (
        "calendar.ics",
        b"BEGIN:VCALENDAR\r\n" + b"BEGIN:VEVENT\r\n" * 20_000,
        "line 5: components nested",
    ),
    "unknown time zone": (
        "calendar.ics",
        ics(
            *event(
                "1", "DTSTART;TZID=Mars/Olympus:20260907T090000", "DTEND;TZID=Mars/Olympus:20260907T103000", "SUMMARY:Ф"
            )
        ),
        "TZID=Mars/Olympus: an unknown time zone",
    ),
    "latin-1 yaml": (
        "timetable.yaml",
        ("groups:\n  G:\n    - " + LESSON % "Caf\xe9" + "\n").encode("latin-1"),
        "line 3: not UTF-8 text (byte 0xE9)",
    ),
    "latin-1 ics": (
        "calendar.ics",
        ics(*event("1", "DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:Caf\xe9"), encoding="latin-1"),
        "line 9: not UTF-8 text (byte 0xE9)",
    ),
    "long subject yaml": (
        "timetable.yaml",
        ("groups:\n  G:\n    - " + LESSON % ("Я" * 5000) + "\n").encode(),
        "line 3: groups.G[0].subject: 5000 characters; at most 200 fit",
    ),
    "long subject ics": (
        "calendar.ics",
        ics(*event("1", "DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:" + "Я" * 5000)),
        "SUMMARY (the subject) is 5000 characters; at most 200 fit (line 4)",
    ),
}


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_file_is_refused_with_one_line_and_exit_code_2(tmp_path: Path, case: str) -> None:
    name, content, message = HOSTILE[case]
    config = tmp_path / "settings.yaml"
    config.write_text(f"vk:\n  group_id: 227000001\ndatabase:\n  url: sqlite:///{tmp_path / 'bot.db'}\n")
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    command = [sys.executable, "-m", "fsm_bot", "timetable", "import", str(path), "--config", str(config)]
    if name.endswith(".ics"):
        command += ["--group", "ИВТ-101"]
    # the timeout only guards against a hang; it says nothing about speed
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=60, preexec_fn=_cap_memory, check=False
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
    assert f"{path} was not imported, nothing changed: " in result.stderr
    assert message in result.stderr


# -- the parsers themselves, for callers other than the CLI (an upload through VK)


def test_every_parser_refuses_a_file_over_the_limit_before_parsing_it() -> None:
    # a valid timetable padded with a comment: the size alone refuses it
    valid = "groups:\n  G:\n    - " + LESSON % "Физика" + "\n"
    padded = valid + "#" * (limits.MAX_FILE_BYTES - len(valid) + 1)
    load_timetable(valid)
    with pytest.raises(TimetableFileError, match="larger than 1 MB"):
        load_timetable(padded)
    with pytest.raises(TimetableFileError, match="larger than 1 MB"):
        load_timetable("Я" * (limits.MAX_FILE_BYTES // 2 + 1))  # half as many characters, twice the bytes
    with pytest.raises(TimetableFileError, match="larger than 1 MB"):
        import_ics(b"\0" * (limits.MAX_FILE_BYTES + 1), MOSCOW)
    with pytest.raises(TimetableFileError, match="larger than 1 MB"):
        parse_timetable_file(padded.encode(), "timetable.yaml", None, MOSCOW)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_deep_nesting_is_an_error_with_either_yaml_parser(monkeypatch: pytest.MonkeyPatch, loader: type) -> None:
    monkeypatch.setattr(yaml_nodes, "_LOADER", loader)
    for text in (
        "[" * 100_000,
        "groups:\n  G:\n" + "    - " * 40 + "x\n",
        "a:\n" + "".join(f"{' ' * n}b:\n" for n in range(1, 60)),
    ):
        with pytest.raises(TimetableFileError) as caught:
            load_timetable(text, "t.yaml")
        assert caught.value.errors[0].startswith("t.yaml, line ")


def test_an_anchor_is_refused_even_without_an_alias() -> None:
    with pytest.raises(TimetableFileError, match=r"t.yaml, line 3: YAML anchors and aliases"):
        load_timetable('groups:\n  G:\n    - &physics {day: mon, start: "09:00", end: "10:30", subject: Ф}\n', "t.yaml")


def test_the_text_limits_are_the_database_columns() -> None:
    columns = TimetableSlot.__table__.c
    assert columns.subject.type.length == limits.MAX_SUBJECT
    assert columns.kind.type.length == limits.MAX_KIND
    assert columns.teacher.type.length == limits.MAX_TEACHER
    assert columns.room.type.length == limits.MAX_ROOM
    assert StudyGroup.__table__.c.name.type.length == limits.MAX_GROUP_NAME


@pytest.mark.parametrize(
    ("field", "limit"), [("kind", limits.MAX_KIND), ("teacher", limits.MAX_TEACHER), ("room", limits.MAX_ROOM)]
)
def test_every_text_longer_than_its_column_names_its_line(field: str, limit: int) -> None:
    text = (
        f'groups:\n  G:\n    - {{day: mon, start: "09:00", end: "10:30", subject: Ф, {field}: {"ж" * (limit + 1)}}}\n'
    )
    with pytest.raises(TimetableFileError) as caught:
        load_timetable(text, "t.yaml")
    assert caught.value.errors == [
        f't.yaml, line 3: groups.G[0].{field}: {limit + 1} characters; at most {limit} fit (starts "{"ж" * 59}…")'
    ]
    load_timetable(text.replace("ж" * (limit + 1), "ж" * limit))


def test_a_group_name_longer_than_its_column_is_refused() -> None:
    with pytest.raises(TimetableFileError, match="a group name is at most 64 characters"):
        load_timetable(f"groups:\n  {'Г' * 65}: []\n")


def test_a_yaml_file_cannot_unfold_into_years_of_holidays_or_thousands_of_lessons() -> None:
    years = ", ".join(f"{year}-01-01..{year}-12-31" for year in range(2000, 2100))
    with pytest.raises(TimetableFileError, match="more than 366 days of holidays"):
        load_timetable(f"semester: {{start: 2026-09-01, end: 2026-12-30}}\nholidays: [{years}]\ngroups: {{}}\n")
    with pytest.raises(TimetableFileError, match="longer than 366 days"):
        load_timetable("semester: {start: 0001-01-01, end: 9999-12-31}\ngroups: {}\n")
    lessons = "".join(f"    - {LESSON % f'Предмет {n}'}\n" for n in range(limits.MAX_SLOTS_PER_GROUP + 1))
    with pytest.raises(TimetableFileError, match="1001 lessons; a group has at most 1000 a week"):
        load_timetable(f"groups:\n  G:\n{lessons}")


def test_an_ics_cannot_unfold_into_more_lessons_than_the_limit() -> None:
    # 150 endless rules on every day of the week: 150 x 7 x 53 weeks = 55,650 occurrences
    every_day = "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU"
    rules = [
        line
        for n in range(150)
        for line in event(
            f"r{n}", "DTSTART:20260907T090000", "DTEND:20260907T100000", f"SUMMARY:Предмет {n}", every_day
        )
    ]
    with pytest.raises(TimetableFileError, match="more than 50000 lessons"):
        import_ics(ics(*rules), MOSCOW)


def test_an_ics_semester_longer_than_a_year_is_refused() -> None:
    data = ics(
        "X-FSM-BOT-SEMESTER:0001-01-01..9999-12-31",
        *event("1", "DTSTART:20260907T090000", "DTEND:20260907T103000", "SUMMARY:Ф", "RRULE:FREQ=WEEKLY"),
    )
    with pytest.raises(TimetableFileError, match="longer than 366 days"):
        import_ics(data, MOSCOW)


def test_a_time_zone_must_be_known_or_defined_in_the_file() -> None:
    unknown = "TZID=Университетское время"
    data = ics(*event("1", f"DTSTART;{unknown}:20260907T090000", f"DTEND;{unknown}:20260907T103000", "SUMMARY:Ф"))
    with pytest.raises(TimetableFileError) as caught:
        import_ics(data, MOSCOW)
    assert caught.value.errors == [
        'event "Ф" (20260907T090000): DTSTART;TZID=Университетское время: an unknown time zone and no VTIMEZONE '
        "for it in the file (line 4)"
    ]
    # the same zone with its VTIMEZONE in the file is fine
    zone = [
        "BEGIN:VTIMEZONE",
        "TZID:Университетское время",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0300",
        "TZOFFSETTO:+0300",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    tzid = "TZID=Университетское время"
    data = ics(*zone, *event("1", f"DTSTART;{tzid}:20260907T090000", f"DTEND;{tzid}:20260907T103000", "SUMMARY:Ф"))
    [slot] = import_ics(data, ZoneInfo("Asia/Yekaterinburg")).groups[""]
    assert (slot.start.hour, slot.end.hour) == (11, 12)  # 09:00 at +03:00 is 11:00 in Yekaterinburg (+05:00)


def test_thousands_of_errors_are_shown_as_the_first_twenty() -> None:
    lessons = "".join(f"    - {{day: someday, start: '09:00', end: '10:30', subject: П{n}}}\n" for n in range(500))
    with pytest.raises(TimetableFileError) as caught:
        load_timetable(f"groups:\n  G:\n{lessons}")
    assert len(caught.value.errors) == 500
    shown = str(caught.value).splitlines()
    assert len(shown) == 21 and shown[-1] == "... and 480 more"
