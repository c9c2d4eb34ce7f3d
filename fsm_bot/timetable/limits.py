"""How big a timetable file may be, and how much of it may unfold: the bounds every parser checks first.

A timetable comes from people (a headman's YAML, a university's .ics; later an upload through VK), so a
file may be hostile: 50 MB, a YAML alias "billion laughs", `[[[[` nested 100,000 deep, weekly rules that
never end next to an event in the year 9999 (issue 15: 3.3 GB in 90 s before these bounds). A real
semester is far below every limit here: one group has some 40 weekly lessons, a year of them is under
2,000 occurrences, and the largest file we have seen (a faculty's .ics) was about 300 KB.
"""

from __future__ import annotations

from fsm_bot.timetable.errors import TimetableFileError

MAX_FILE_BYTES = 1024 * 1024  # 1 MB: checked before a byte is parsed
# Text columns of timetable_slot (fsm_bot/storage/timetable_models.py); a longer value would fail the INSERT
# on PostgreSQL and be silently kept whole on SQLite. tests/timetable/test_hostile_files.py checks they agree.
MAX_SUBJECT = 200
MAX_KIND = 64
MAX_TEACHER = 200
MAX_ROOM = 64
MAX_GROUP_NAME = 64  # study_group.name (fsm_bot/storage/models.py)
# Our YAML nests four levels (groups -> group -> lesson -> field); deeper is not a timetable. PyYAML's composer
# recurses once per level, so `[` * 100,000 ends in RecursionError unless the depth is bounded before it.
MAX_YAML_DEPTH = 16
# VCALENDAR > VEVENT > VALARM, VCALENDAR > VTIMEZONE > STANDARD: three levels in RFC 5545; icalendar's walk()
# recurses once per level.
MAX_ICS_DEPTH = 4
# Occurrences an .ics may unfold into (single events and expanded rules together, each rule up to a year
# before the semester's end trims it), and distinct weekly lessons per group: far above a real semester
# (40 lessons x 53 weeks = 2,120), and still small enough to import in a second.
MAX_OCCURRENCES = 50_000
MAX_SLOTS_PER_GROUP = 1_000
# A semester (and an .ics's span of lessons) is at most this many days: every day-by-day walk stays short.
LONGEST_SEMESTER_DAYS = 366
MAX_HOLIDAYS = LONGEST_SEMESTER_DAYS
# How much of a value an error message quotes: a 1 MB subject must not become a 1 MB line on stderr.
QUOTE_CHARS = 60


def check_size(size: int, source: str = "the file") -> None:
    """Refuse a file over MAX_FILE_BYTES; `size` may be a lower bound (what was read of a longer file)."""
    if size > MAX_FILE_BYTES:
        raise TimetableFileError(
            [f"{source}: larger than {MAX_FILE_BYTES // 2**20} MB; a timetable file is far smaller (split it by group)"]
        )


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """The start of a value for an error message, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def decode_utf8(data: bytes, source: str) -> str:
    """The text of a UTF-8 file; anything else (Windows-1251, Latin-1, UTF-16) is one error naming the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = line_of(data, error.start)
        raise TimetableFileError(
            [f"{source}, line {line}: not UTF-8 text (byte 0x{data[error.start]:02X}); save the file as UTF-8"]
        ) from None
