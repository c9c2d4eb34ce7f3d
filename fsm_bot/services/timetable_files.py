"""Timetable files in and out of the database: what `fsm-bot timetable import/export` does.

An import is one transaction: a file with one mistake changes nothing (the parser reports every
mistake with its line first). Groups named in the file are created if missing; each named group's
weekly slots are replaced as a whole; the semester is replaced if the file has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.private_files import write_private
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.texts import Texts
from fsm_bot.timetable import (
    Change,
    Semester,
    Slot,
    TimetableFile,
    TimetableFileError,
    dump_timetable,
    export_ics,
)
from fsm_bot.timetable.limits import MAX_FILE_BYTES
from fsm_bot.timetable.upload import parse_timetable_file


@dataclass(frozen=True)
class ImportSummary:
    lessons_by_group: dict[str, int]
    semester: Semester | None


def read_timetable_file(path: Path, group: str | None, timezone: ZoneInfo) -> TimetableFile:
    """A YAML timetable, or an .ics a university publishes (then `group` says whose it is).

    At most MAX_FILE_BYTES + 1 bytes are read: a 50 MB file is refused after 1 MB, not loaded whole (issue 15).
    """
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise TimetableFileError([f"{path}: cannot read the file: {error.strerror or error}"]) from None
    return parse_timetable_file(raw, str(path), group, timezone)


def import_timetable(database: Database, community_id: int, timetable: TimetableFile) -> ImportSummary:
    def store(session: Session) -> ImportSummary:
        communities = CommunityRepository(session)
        communities.ensure(community_id)
        repository = TimetableRepository(session, community_id)
        if timetable.semester is not None:
            repository.set_semester(timetable.semester)
        counts: dict[str, int] = {}
        for name, slots in timetable.groups.items():
            group = communities.study_group(community_id, name)
            repository.replace_slots(group.id, slots)
            counts[name] = len(slots)
        return ImportSummary(counts, timetable.semester)

    return database.transaction(store)


class _Stored(NamedTuple):
    """A group's timetable as the database has it, with the changes of the span to export."""

    semester: Semester | None
    slots: list[Slot]
    changes: list[Change]
    first: date
    last: date


def export_timetable(
    database: Database,
    community_id: int,
    group: str,
    output: Path,
    timezone: ZoneInfo,
    first: date | None = None,
    last: date | None = None,
    subgroup: int | None = None,
    *,
    texts: Texts,
) -> int:
    """Write the group's timetable to `output` (.ics: every lesson of the span, a move's note in the words of
    `texts`; .yaml: the weekly slots and the semester, the import format); returns how many lessons or slots
    were written."""

    def read(session: Session) -> _Stored | None:
        study_group = CommunityRepository(session).find_group(community_id, group)
        if study_group is None:
            return None
        group_id = study_group.id
        repository = TimetableRepository(session, community_id)
        semester = repository.semester()
        span_first = first or (semester.start if semester else date.today())
        span_last = last or (semester.end if semester else span_first + timedelta(days=120))
        changes = repository.changes(group_id, span_first, span_last)
        return _Stored(semester, repository.slots(group_id), changes, span_first, span_last)

    found = database.transaction(read)
    if found is None:
        raise TimetableFileError([f"no study group {group!r} in the database"])
    semester, slots = found.semester, found.slots
    if not slots:
        raise TimetableFileError([f"group {group!r} has no timetable yet (import one first)"])
    if output.suffix.lower() in (".yaml", ".yml"):
        write_private(output, dump_timetable(TimetableFile(semester, {group: slots})).encode("utf-8"))
        return len(slots)
    name = group if subgroup is None else f"{group} / {subgroup}"
    data = export_ics(name, semester, slots, found.changes, timezone, found.first, found.last, subgroup, t=texts)
    write_private(output, data)  # 0600, like the database it comes from
    return data.count(b"BEGIN:VEVENT")
