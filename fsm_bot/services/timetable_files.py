"""Timetable files in and out of the database: what `fsm-bot timetable import/export` does.

An import is one transaction: a file with one mistake changes nothing (the parser reports every
mistake with its line first). Groups named in the file are created if missing; each named group's
weekly slots are replaced as a whole; the semester is replaced if the file has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fsm_bot.storage import Database
from fsm_bot.storage.models import StudyGroup
from fsm_bot.storage.private_files import write_private
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.timetable import (
    Semester,
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
    def store(session) -> ImportSummary:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(community_id)
        repository = TimetableRepository(session, community_id)
        if timetable.semester is not None:
            repository.set_semester(timetable.semester)
        counts = {}
        for name, slots in timetable.groups.items():
            group = communities.study_group(community_id, name)
            repository.replace_slots(group.id, slots)
            counts[name] = len(slots)
        return ImportSummary(counts, timetable.semester)

    return database.transaction(store)


def export_timetable(
    database: Database,
    community_id: int,
    group: str,
    output: Path,
    timezone: ZoneInfo,
    first: date | None = None,
    last: date | None = None,
    subgroup: int | None = None,
) -> int:
    """Write the group's timetable to `output` (.ics: every lesson of the span; .yaml: the weekly
    slots and the semester, the import format); returns how many lessons or slots were written."""

    def read(session):  # type: ignore[no-untyped-def]
        group_id = session.scalars(
            select(StudyGroup.id).where(StudyGroup.community_id == community_id, StudyGroup.name == group)
        ).one_or_none()
        if group_id is None:
            return None
        repository = TimetableRepository(session, community_id)
        semester = repository.semester()
        span_first = first or (semester.start if semester else date.today())
        span_last = last or (semester.end if semester else span_first + timedelta(days=120))
        return (
            semester,
            repository.slots(group_id),
            repository.changes(group_id, span_first, span_last),
            (
                span_first,
                span_last,
            ),
        )

    found = database.transaction(read)
    if found is None:
        raise TimetableFileError([f"no study group {group!r} in the database"])
    semester, slots, changes, (span_first, span_last) = found
    if not slots:
        raise TimetableFileError([f"group {group!r} has no timetable yet (import one first)"])
    if output.suffix.lower() in (".yaml", ".yml"):
        write_private(output, dump_timetable(TimetableFile(semester, {group: slots})).encode("utf-8"))
        return len(slots)
    name = group if subgroup is None else f"{group} / {subgroup}"
    data = export_ics(name, semester, slots, changes, timezone, span_first, span_last, subgroup)
    write_private(output, data)  # 0600, like the database it comes from
    return data.count(b"BEGIN:VEVENT")
