"""iCalendar export: a group's lessons for phones' calendars.

One event per lesson that takes place, each with its own date, rather than weekly RRULEs: parity,
holidays, cancellations and moves are then exact in every calendar application, none of which knows
what an odd week is. X-FSM-BOT-* properties carry what an event cannot (the semester, its first
week's parity, the kind of a lesson whose subject itself ends in brackets).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from fsm_bot.timetable.calendar import lessons_between
from fsm_bot.timetable.ics_format import (
    PRODID,
    SUBGROUP_LABEL_KEY,
    TEACHER_LABEL_KEY,
    UID_DOMAIN,
    X_FIRST_WEEK,
    X_HOLIDAYS,
    X_KIND,
    X_SEMESTER,
)
from fsm_bot.timetable.model import Change, Lesson, Semester, Slot
from fsm_bot.timetable.render import Translate, lesson_note


def export_ics(
    calendar_name: str,
    semester: Semester | None,
    slots: Sequence[Slot],
    changes: Sequence[Change],
    tz: ZoneInfo,
    first: date,
    last: date,
    subgroup: int | None = None,
    *,
    t: Translate,
) -> bytes:
    """An iCalendar file with one event per lesson that takes place in [first, last], in local time of `tz`;
    its description (teacher, subgroup, where a moved lesson came from) is in the words of the catalog `t`."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", calendar_name)
    if tz.key:
        calendar.add("x-wr-timezone", tz.key)
    if semester is not None:
        calendar.add(X_SEMESTER, f"{semester.start.isoformat()}..{semester.end.isoformat()}")
        calendar.add(X_FIRST_WEEK, str(semester.first_week))
        if semester.holidays:
            calendar.add(X_HOLIDAYS, " ".join(day.isoformat() for day in sorted(semester.holidays)))
    stamp = datetime.now(UTC).replace(microsecond=0)
    used_uids: set[str] = set()
    for lesson in lessons_between(semester, slots, changes, first, last, subgroup):
        if lesson.takes_place:
            calendar.add_component(_event(calendar_name, lesson, tz, stamp, used_uids, t))
    # VTIMEZONE rules for the years the events fall in: clients must not guess what TZID=Europe/Berlin means.
    calendar.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1))
    return calendar.to_ical()


def _event(
    calendar_name: str, lesson: Lesson, tz: ZoneInfo, stamp: datetime, used_uids: set[str], t: Translate
) -> Event:
    event = Event()
    event.add("uid", _uid(calendar_name, lesson, used_uids))
    event.add("dtstamp", stamp)
    event.add("dtstart", lesson.starts_at(tz))
    event.add("dtend", lesson.ends_at(tz))
    event.add("summary", f"{lesson.subject} ({lesson.kind})" if lesson.kind else lesson.subject)
    if lesson.room:
        event.add("location", lesson.room)
    lines = []
    if lesson.teacher:
        lines.append(f"{t(TEACHER_LABEL_KEY)}: {lesson.teacher}")
    if lesson.subgroup is not None:
        lines.append(f"{t(SUBGROUP_LABEL_KEY)}: {lesson.subgroup}")
    note = lesson_note(t, lesson)
    if note:
        lines.append(note)
    if lines:
        event.add("description", "\n".join(lines))
    event.add(X_KIND, lesson.kind, parameters={"VALUE": "TEXT"})
    return event


def _uid(calendar_name: str, lesson: Lesson, used: set[str]) -> str:
    """The same lesson gets the same UID in every export, so a subscribed calendar updates instead of duplicating."""
    identity = "\x1f".join(
        [calendar_name, lesson.subject, lesson.kind, lesson.teacher, lesson.room, str(lesson.subgroup or "")]
    )
    digest = hashlib.sha1(identity.encode(), usedforsecurity=False).hexdigest()[:12]
    base = f"{lesson.date:%Y%m%d}-{lesson.start:%H%M}-{digest}"
    uid, copy = f"{base}@{UID_DOMAIN}", 1
    while uid in used:  # two identical lessons at one time: unlikely, but a UID must stay unique
        copy += 1
        uid = f"{base}-{copy}@{UID_DOMAIN}"
    used.add(uid)
    return uid
