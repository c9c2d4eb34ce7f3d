"""The timetable's vocabulary: a semester, the weekly slots of a study group, the headman's one-off changes,
and the lessons they expand into.

Everything is a frozen value: the same slots and changes always expand into the same lessons, so views,
reminders and exports can never disagree about what happens on a given day. Ids are kept out of equality
because two copies of a slot (one read from a file, one from the database) are the same lesson.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class Parity(StrEnum):
    """Which weeks a slot runs in; universities call them числитель/знаменатель or нечётная/чётная."""

    ALL = "all"
    ODD = "odd"
    EVEN = "even"


class ChangeKind(StrEnum):
    CANCEL = "cancel"
    MOVE = "move"
    EXTRA = "extra"


class LessonStatus(StrEnum):
    REGULAR = "regular"
    CANCELLED = "cancelled"
    MOVED = "moved"  # takes place here, at a new time, room or day
    MOVED_AWAY = "moved_away"  # shown on its old date with a note, so nobody comes in vain
    EXTRA = "extra"


@dataclass(frozen=True)
class Semester:
    """The study period; week parity is counted from `first_week`, the parity of the week containing `start`."""

    start: date
    end: date
    first_week: Parity = Parity.ODD
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # callers may pass a set or a list; freezing keeps the value hashable and equal to its copies
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if self.first_week is Parity.ALL:
            raise ValueError("the first week of a semester is odd or even, not all")
        if self.end < self.start:
            raise ValueError(f"the semester ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class Slot:
    """A weekly lesson of one study group: `day` is 0 for Monday ... 6 for Sunday."""

    day: int
    start: time
    end: time
    subject: str
    kind: str = ""
    teacher: str = ""
    room: str = ""
    weeks: Parity = Parity.ALL
    subgroup: int | None = None
    id: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ValueError(f"a slot's day is 0 (Monday) ... 6 (Sunday), not {self.day}")
        if self.end <= self.start:
            raise ValueError(f"a slot must end after it starts ({self.start:%H:%M}-{self.end:%H:%M})")
        if self.subgroup is not None and self.subgroup < 1:
            raise ValueError(f"a subgroup is a positive number, not {self.subgroup}")


@dataclass(frozen=True)
class Change:
    """A one-off change made by the headman.

    cancel/move: `date` is the date of the original lesson of slot `slot_id`; a move's None fields keep the
    original value. extra: `date`, `new_start` and `new_end` say when the extra lesson happens.
    """

    kind: ChangeKind
    date: date
    slot_id: int | None = None
    new_date: dt.date | None = None  # dt.: in this class `date` is the field above
    new_start: time | None = None
    new_end: time | None = None
    new_room: str | None = None
    subject: str = ""
    kind_label: str = ""
    teacher: str = ""
    subgroup: int | None = None
    note: str = ""
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Move:
    """The other end of a moved lesson, as facts: the renderer puts them in the reader's words.

    `away`: the lesson is shown where it was and went to `date`/`start`; otherwise it came here from them.
    `date` is None when the day stayed, `start` None when only the room changed; `room` is the other room
    worth naming ("" when there is none to name).
    """

    away: bool
    date: date | None
    start: time | None
    room: str = ""


@dataclass(frozen=True)
class Lesson:
    """One occurrence on one date: what views, reminders and exports show. `note` is the headman's own
    words about a change; `move` where a moved lesson went or came from."""

    date: date
    start: time
    end: time
    subject: str
    kind: str
    teacher: str
    room: str
    subgroup: int | None
    status: LessonStatus
    slot_id: int | None = None
    change_id: int | None = None
    note: str = ""
    move: Move | None = None

    def starts_at(self, tz: ZoneInfo) -> datetime:
        """The start as an aware datetime; the offset is the one in force on that date, so DST is respected."""
        return _aware(self.date, self.start, tz)

    def ends_at(self, tz: ZoneInfo) -> datetime:
        return _aware(self.date, self.end, tz)

    @property
    def takes_place(self) -> bool:
        """Whether students should come: a cancelled or moved-away lesson is only shown, not attended."""
        return self.status not in (LessonStatus.CANCELLED, LessonStatus.MOVED_AWAY)


def _aware(day: date, moment: time, tz: ZoneInfo) -> datetime:
    # A wall-clock time skipped by a spring-forward change does not exist; the round trip through UTC turns
    # it into the real instant an hour later instead of a datetime that compares and subtracts wrongly.
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC).astimezone(tz)


@dataclass
class TimetableFile:
    """What a timetable file holds: an optional semester and the slots of each study group, in file order."""

    semester: Semester | None
    groups: dict[str, list[Slot]]
