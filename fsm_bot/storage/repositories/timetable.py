"""The timetable as stored: a community's semester, each group's weekly slots and one-off changes.

Rows come back as the timetable's own value objects (fsm_bot.timetable), so the code that computes
lessons, reminders and calendar files never holds a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.timetable_models import TimetableCalendar, TimetableChange, TimetableSlot
from fsm_bot.timetable import Change, ChangeKind, Parity, Semester, Slot


class TimetableRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    # --- the semester

    def semester(self) -> Semester | None:
        row = self.session.get(TimetableCalendar, self.community_id)
        if row is None:
            return None
        return Semester(
            start=row.semester_start,
            end=row.semester_end,
            first_week=Parity(row.first_week),
            holidays=frozenset(date.fromisoformat(day) for day in row.holidays or []),
        )

    def set_semester(self, semester: Semester) -> None:
        row = self.session.get(TimetableCalendar, self.community_id)
        if row is None:
            row = TimetableCalendar(community_id=self.community_id)
            self.session.add(row)
        row.semester_start = semester.start
        row.semester_end = semester.end
        row.first_week = semester.first_week.value
        row.holidays = sorted(day.isoformat() for day in semester.holidays)

    # --- weekly slots

    def slots(self, study_group_id: int) -> list[Slot]:
        rows = self.session.scalars(
            select(TimetableSlot)
            .where(TimetableSlot.study_group_id == study_group_id)
            .order_by(TimetableSlot.day, TimetableSlot.start, TimetableSlot.id)
        )
        return [_slot(row) for row in rows]

    def replace_slots(self, study_group_id: int, slots: Sequence[Slot]) -> list[int]:
        """The group's whole week replaced; changes of the old slots go with them (they named lessons
        that no longer exist), extra lessons stay."""
        old = select(TimetableSlot.id).where(TimetableSlot.study_group_id == study_group_id)
        self.session.execute(delete(TimetableChange).where(TimetableChange.slot_id.in_(old)))
        self.session.execute(delete(TimetableSlot).where(TimetableSlot.study_group_id == study_group_id))
        rows = [
            TimetableSlot(
                community_id=self.community_id,
                study_group_id=study_group_id,
                day=slot.day,
                start=slot.start,
                end=slot.end,
                subject=slot.subject,
                kind=slot.kind,
                teacher=slot.teacher,
                room=slot.room,
                weeks=slot.weeks.value,
                subgroup=slot.subgroup,
            )
            for slot in slots
        ]
        self.session.add_all(rows)
        self.session.flush()
        return [row.id for row in rows]

    def groups_with_slots(self) -> list[int]:
        return list(
            self.session.scalars(
                select(TimetableSlot.study_group_id).where(TimetableSlot.community_id == self.community_id).distinct()
            )
        )

    # --- one-off changes

    def changes(self, study_group_id: int, first: date, last: date) -> list[Change]:
        """Changes touching [first, last]: by the lesson's own date or the date it was moved to."""
        rows = self.session.scalars(
            select(TimetableChange)
            .where(
                TimetableChange.study_group_id == study_group_id,
                or_(
                    TimetableChange.date.between(first, last),
                    TimetableChange.new_date.between(first, last),
                ),
            )
            .order_by(TimetableChange.id)
        )
        return [_change(row) for row in rows]

    def add_change(self, study_group_id: int, change: Change, created_by: int) -> int:
        row = TimetableChange(
            community_id=self.community_id,
            study_group_id=study_group_id,
            kind=change.kind.value,
            date=change.date,
            slot_id=change.slot_id,
            new_date=change.new_date,
            new_start=change.new_start,
            new_end=change.new_end,
            new_room=change.new_room,
            subject=change.subject,
            kind_label=change.kind_label,
            teacher=change.teacher,
            subgroup=change.subgroup,
            note=change.note,
            created_by=created_by,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def remove_changes_of(self, study_group_id: int, slot_id: int, day: date) -> int:
        """A new change of a lesson replaces the earlier one (a move, then a cancel of the same lesson)."""
        result = self.session.execute(
            delete(TimetableChange).where(
                TimetableChange.study_group_id == study_group_id,
                TimetableChange.slot_id == slot_id,
                TimetableChange.date == day,
            )
        )
        return int(rowcount(result) or 0)


def _slot(row: TimetableSlot) -> Slot:
    return Slot(
        day=row.day,
        start=row.start,
        end=row.end,
        subject=row.subject,
        kind=row.kind,
        teacher=row.teacher,
        room=row.room,
        weeks=Parity(row.weeks),
        subgroup=row.subgroup,
        id=row.id,
    )


def _change(row: TimetableChange) -> Change:
    return Change(
        kind=ChangeKind(row.kind),
        date=row.date,
        slot_id=row.slot_id,
        new_date=row.new_date,
        new_start=row.new_start,
        new_end=row.new_end,
        new_room=row.new_room,
        subject=row.subject,
        kind_label=row.kind_label,
        teacher=row.teacher,
        subgroup=row.subgroup,
        note=row.note,
        id=row.id,
    )
