"""`fsm-bot attendance export`: the register of one group or of every group, as .xlsx or .csv."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from fsm_bot.attendance import Register, register_csv, registers_xlsx
from fsm_bot.services.attendance import group_register
from fsm_bot.storage import Database
from fsm_bot.storage.private_files import write_private
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.texts import Texts


class ExportError(ValueError):
    """Nothing to export as asked (an unknown group, a reversed period); the text says what."""


def export_register(
    database: Database,
    community_id: int,
    group: str | None,
    first: date,
    last: date,
    file_format: str,
    output: Path,
    hours_per_lesson: int,
    texts: Texts,
) -> list[Register]:
    """Write the register in the words of `texts`; several groups go to one workbook (a sheet each) or one CSV
    (one grid after another)."""
    if first > last:
        raise ExportError(f"--from {first} is after --to {last}")

    def read(session: Session) -> list[Register]:
        communities = CommunityRepository(session)
        if group is None:
            groups = communities.study_groups(community_id)
        else:
            found = communities.find_group(community_id, group)
            groups = [found] if found is not None else []
        if not groups:
            raise ExportError(f"no study group {group!r}" if group else "no study groups yet")
        return [
            group_register(session, community_id, found.id, found.name, first, last, hours_per_lesson, texts)
            for found in groups
        ]

    registers = database.transaction(read)
    if file_format == "xlsx":
        data = registers_xlsx(registers, texts)
    else:
        grids = [register_csv(register, texts).decode("utf-8-sig") for register in registers]
        data = "\r\n".join(grids).encode("utf-8-sig")  # one byte-order mark, at the start
    write_private(output, data)  # students' names and absences: 0600, like the database
    return registers
