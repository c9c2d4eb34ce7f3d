"""Expanding weekly slots and one-off changes into the lessons of a given day.

Week parity is counted from the semester's first week, not from ISO week numbers: a university's
числитель/знаменатель starts wherever its semester starts, and a year boundary does not reset it.

A change that does not fit the timetable (its slot is unknown, or that slot has no lesson on the change's
date) is ignored rather than raised: changes live in the database longer than the timetable they were
made against, and a view must never crash because the headman re-uploaded the timetable since.

No words here: a moved lesson carries the facts of its move (`Lesson.move`), and the renderer says them in
the reader's language (`render.lesson_note`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from fsm_bot.timetable.model import Change, ChangeKind, Lesson, LessonStatus, Move, Parity, Semester, Slot


def week_number(semester: Semester, day: date) -> int:
    """1 for the Monday-based week containing the semester's start, 2 for the next one; 0, -1 ... before it."""
    return (_monday(day) - _monday(semester.start)).days // 7 + 1


def parity_of(semester: Semester | None, day: date) -> Parity:
    """ODD or EVEN. Without a semester, ISO odd weeks are taken as odd: a guess, but a stable one."""
    if semester is None:
        return Parity.ODD if day.isocalendar().week % 2 else Parity.EVEN
    if week_number(semester, day) % 2:
        return semester.first_week
    return Parity.EVEN if semester.first_week is Parity.ODD else Parity.ODD


def is_study_day(semester: Semester | None, day: date) -> bool:
    """Inside the semester and not a holiday; without a semester every day is a study day."""
    if semester is None:
        return True
    return semester.start <= day <= semester.end and day not in semester.holidays


def lessons_on(
    semester: Semester | None,
    slots: Sequence[Slot],
    changes: Sequence[Change],
    day: date,
    subgroup: int | None = None,
) -> list[Lesson]:
    """The lessons of one day, sorted by start time.

    `subgroup` None is the headman's view (every lesson); a number is a student's view: lessons of the whole
    group and of that subgroup.
    """
    return _Plan(semester, slots, changes).on(day, subgroup)


def lessons_between(
    semester: Semester | None,
    slots: Sequence[Slot],
    changes: Sequence[Change],
    first: date,
    last: date,
    subgroup: int | None = None,
) -> list[Lesson]:
    """The lessons of every day in [first, last], sorted by (date, start)."""
    plan = _Plan(semester, slots, changes)
    lessons: list[Lesson] = []
    day = first
    while day <= last:
        lessons.extend(plan.on(day, subgroup))
        day += timedelta(days=1)
    return lessons


class _Plan:
    """Slots and changes indexed once, so a range of days costs one pass over the changes, not one per day."""

    def __init__(self, semester: Semester | None, slots: Sequence[Slot], changes: Sequence[Change]) -> None:
        self.semester = semester
        self.slots = list(slots)
        self.slots_by_id = {slot.id: slot for slot in slots if slot.id is not None}
        # The latest change of a lesson wins: the headman cancelling a lesson he moved earlier means it.
        self.changed: dict[tuple[int, date], Change] = {}
        self.extras: dict[date, list[Change]] = defaultdict(list)
        for change in changes:
            if change.kind is ChangeKind.EXTRA:
                if change.new_start is not None and change.new_end is not None:
                    self.extras[change.date].append(change)
            elif change.slot_id in self.slots_by_id:
                self.changed[(change.slot_id, change.date)] = change
        self.moved_in: dict[date, list[tuple[Slot, Change]]] = defaultdict(list)
        for (slot_id, old_date), change in self.changed.items():
            slot = self.slots_by_id[slot_id]
            if (
                change.kind is ChangeKind.MOVE
                and change.new_date is not None
                and change.new_date != old_date
                and self._occurs(slot, old_date)
            ):
                self.moved_in[change.new_date].append((slot, change))

    def _occurs(self, slot: Slot, day: date) -> bool:
        return (
            slot.day == day.weekday()
            and is_study_day(self.semester, day)
            and slot.weeks in (Parity.ALL, parity_of(self.semester, day))
        )

    def on(self, day: date, subgroup: int | None) -> list[Lesson]:
        lessons = [
            self._regular(slot, day)
            for slot in self.slots
            if _visible(slot.subgroup, subgroup) and self._occurs(slot, day)
        ]
        lessons.extend(
            _moved(slot, change, change.date, day, LessonStatus.MOVED)
            for slot, change in self.moved_in.get(day, ())
            if _visible(slot.subgroup, subgroup)
        )
        lessons.extend(_extra(change) for change in self.extras.get(day, ()) if _visible(change.subgroup, subgroup))
        lessons.sort(key=lambda lesson: lesson.start)  # stable: equal starts keep the file order
        return lessons

    def _regular(self, slot: Slot, day: date) -> Lesson:
        change = self.changed.get((slot.id, day)) if slot.id is not None else None
        if change is None:
            return _lesson(slot, day, LessonStatus.REGULAR)
        if change.kind is ChangeKind.CANCEL:
            return _lesson(slot, day, LessonStatus.CANCELLED, change_id=change.id, note=change.note)
        if change.new_date in (None, day):
            return _moved(slot, change, day, day, LessonStatus.MOVED)
        return _moved(slot, change, day, day, LessonStatus.MOVED_AWAY)


def _visible(lesson_subgroup: int | None, viewer_subgroup: int | None) -> bool:
    return viewer_subgroup is None or lesson_subgroup is None or lesson_subgroup == viewer_subgroup


def _lesson(
    slot: Slot,
    day: date,
    status: LessonStatus,
    change_id: int | None = None,
    note: str = "",
    move: Move | None = None,
) -> Lesson:
    return Lesson(
        date=day,
        start=slot.start,
        end=slot.end,
        subject=slot.subject,
        kind=slot.kind,
        teacher=slot.teacher,
        room=slot.room,
        subgroup=slot.subgroup,
        status=status,
        slot_id=slot.id,
        change_id=change_id,
        note=note,
        move=move,
    )


def _moved(slot: Slot, change: Change, old_date: date, day: date, status: LessonStatus) -> Lesson:
    """The lesson of a MOVE shown on `day`: moved here (new time and room) or moved away (old time and room)."""
    new_date = change.new_date or old_date
    new_start, new_end = _new_times(slot, change)
    new_room = slot.room if change.new_room is None else change.new_room
    if status is LessonStatus.MOVED_AWAY:
        room = new_room if change.new_room is not None else ""
        where = Move(away=True, date=new_date, start=new_start, room=room)
        return _lesson(slot, day, status, change_id=change.id, note=change.note, move=where)
    if new_date != old_date:
        origin = Move(away=False, date=old_date, start=slot.start)
    elif new_start == slot.start and new_room != slot.room:
        origin = Move(away=False, date=None, start=None, room=slot.room)
    else:
        origin = Move(away=False, date=None, start=slot.start, room=slot.room if new_room != slot.room else "")
    moved = _lesson(slot, day, status, change_id=change.id, note=change.note, move=origin)
    return replace(moved, start=new_start, end=new_end, room=new_room)


def _new_times(slot: Slot, change: Change) -> tuple[time, time]:
    # A move that names only a new start keeps the lesson's length, clamped to the same day.
    start = change.new_start or slot.start
    if change.new_end is not None:
        return start, change.new_end
    if change.new_start is None:
        return start, slot.end
    length = datetime.combine(date.min, slot.end) - datetime.combine(date.min, slot.start)
    end = datetime.combine(date.min, start) + length
    return start, end.time() if end.date() == date.min else time.max.replace(microsecond=0)


def _extra(change: Change) -> Lesson:
    assert change.new_start is not None and change.new_end is not None  # filtered when indexing
    return Lesson(
        date=change.date,
        start=change.new_start,
        end=change.new_end,
        subject=change.subject,
        kind=change.kind_label,
        teacher=change.teacher,
        room=change.new_room or "",
        subgroup=change.subgroup,
        status=LessonStatus.EXTRA,
        change_id=change.id,
        note=change.note,
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
