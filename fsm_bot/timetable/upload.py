"""The bytes of an uploaded timetable file, whatever its format: what the CLI and a VK upload both parse.

The format follows the file's name (.ics and friends are iCalendar, anything else our YAML), and the size
bound (limits.MAX_FILE_BYTES) is checked here, before decoding, as well as in each parser.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.ics_import import import_ics
from fsm_bot.timetable.limits import check_size, decode_utf8, shorten
from fsm_bot.timetable.model import TimetableFile
from fsm_bot.timetable.yaml_file import load_timetable

ICS_SUFFIXES = (".ics", ".ical", ".ifb")


def is_ics(name: str) -> bool:
    return name.lower().endswith(ICS_SUFFIXES)


def parse_timetable_file(data: bytes, name: str, group: str | None, timezone: ZoneInfo) -> TimetableFile:
    """A YAML timetable (all its groups, or only `group`), or an .ics a university publishes (then `group`
    says whose it is). `name` is the file's name, for its format and for errors."""
    check_size(len(data), name)
    if is_ics(name):
        if not group:
            raise TimetableFileError([f"{name}: an .ics file does not name its group; add --group NAME"])
        parsed = import_ics(data, timezone, name)
        slots = [slot for slots in parsed.groups.values() for slot in slots]
        return TimetableFile(parsed.semester, {group: slots})
    timetable = load_timetable(decode_utf8(data, name), name)
    if group is not None:
        if group not in timetable.groups:
            raise TimetableFileError(
                [f"{name}: no group {group!r} in the file (it has: {shorten(', '.join(timetable.groups), 200)})"]
            )
        timetable = TimetableFile(timetable.semester, {group: timetable.groups[group]})
    return timetable
