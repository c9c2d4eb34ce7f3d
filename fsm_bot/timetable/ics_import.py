"""iCalendar import: the timetables universities publish.

It accepts both styles universities use: weekly RRULEs (INTERVAL=2 being an odd/even lesson) and one
event per occurrence, from which the weekly slots are recovered:

- occurrences of the same lesson (weekday, time, subject, kind, teacher, room, subgroup) form one slot;
- a slot is odd or even when it occurs in weeks of one parity only (or the other parity's appearances are a
  stray few: a lesson moved into that week); otherwise it runs every week;
- the semester runs from the first lesson to the last, its first week is odd, and a day on which some slot
  should have had a lesson but the file has none at all was a holiday.

Changes (cancellations, moves) are not reconstructed: a moved lesson comes back as a slot of its own.

Files come from people, so everything is bounded (limits.py) before it can grow: the file's size and nesting
are checked before icalendar parses it, texts must fit the database's columns, and a weekly rule (ics_rules)
is expanded at most a year past its DTSTART, never to the end of a calendar that has an event in 9999.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from fsm_bot.timetable.calendar import is_study_day, parity_of
from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.ics_format import (
    DEFAULT_SEMESTER_LENGTH,
    LONGEST_RULE,
    PARITIES,
    STRAY_SHARE,
    SUBGROUP_LABELS,
    TEACHER_LABELS,
    X_FIRST_WEEK,
    X_HOLIDAYS,
    X_KIND,
    X_SEMESTER,
)
from fsm_bot.timetable.ics_rules import WeeklyRule, days_after, weekly_rule
from fsm_bot.timetable.limits import (
    MAX_ICS_DEPTH,
    MAX_KIND,
    MAX_OCCURRENCES,
    MAX_ROOM,
    MAX_SLOTS_PER_GROUP,
    MAX_SUBJECT,
    MAX_TEACHER,
    check_size,
    decode_utf8,
    shorten,
)
from fsm_bot.timetable.model import Parity, Semester, Slot, TimetableFile

# Properties whose TZID names the zone of their time; an unknown one would silently become the group's zone.
_ZONED_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE")


@dataclass(frozen=True)
class _What:
    """Everything an occurrence shares with its slot except the time."""

    subject: str
    kind: str
    teacher: str
    room: str
    subgroup: int | None


@dataclass(frozen=True)
class _Occurrence:
    start: datetime  # aware, in the importing time zone
    end: datetime
    what: _What
    interval: int | None  # 1 or 2 from a weekly rule, which decides the weeks; None: to be inferred


@dataclass
class _Rule:
    name: str  # for errors
    uid: str
    recurrence: WeeklyRule
    length: timedelta
    what: _What
    excluded: set[date]
    line: str = ""  # " (line 12)" for errors, when known


def import_ics(data: bytes, tz: ZoneInfo, source: str = "the calendar") -> TimetableFile:
    """The weekly slots (group "", named by the caller) and the semester behind an iCalendar file.

    `source` names the file in errors about its bytes (size, encoding, nesting).
    """
    check_size(len(data), source)
    text = decode_utf8(data, source)  # RFC 5545, 3.1.4: the default charset is UTF-8
    event_lines = _event_lines(text, source)
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise TimetableFileError([f"not an iCalendar file: {shorten(str(exc), 200)}"]) from None
    if calendar.name != "VCALENDAR":
        raise TimetableFileError([f"not an iCalendar file: it holds a {calendar.name}, not a VCALENDAR"])
    errors: list[str] = []
    known = _semester_from_metadata(calendar, errors)
    occurrences, rules = _read_events(calendar, tz, errors, event_lines)
    if errors:
        raise TimetableFileError(errors)
    try:
        occurrences.extend(_expand_rules(rules, occurrences, known, tz))
    except OverflowError:
        raise TimetableFileError(["a recurring event runs past the year 9999"]) from None
    if not occurrences:
        raise TimetableFileError(["the calendar has no lessons (no events with a start and an end time)"])
    dates = sorted({occurrence.start.date() for occurrence in occurrences})
    if known is None and dates[-1] - dates[0] > LONGEST_RULE:
        raise TimetableFileError(
            [f"the lessons run from {dates[0]} to {dates[-1]}, more than a year: a timetable is one semester"]
        )
    if known is not None:
        return TimetableFile(semester=known, groups={"": _slots(occurrences, known)})
    semester = _derived_semester(occurrences)
    slots = _slots(occurrences, semester)
    return TimetableFile(semester=_with_lessonless_days_as_holidays(semester, slots, occurrences), groups={"": slots})


def _event_lines(text: str, source: str) -> list[int]:
    """The line of each BEGIN:VEVENT, in the order icalendar's walk() returns the events, for errors to name.

    Also refuses nesting deeper than a calendar has (MAX_ICS_DEPTH) before icalendar recurses through it.
    """
    lines: list[int] = []
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        word = line[:6].upper()
        if word == "BEGIN:":
            depth += 1
            if depth > MAX_ICS_DEPTH:
                raise TimetableFileError([f"{source}, line {number}: components nested deeper than {MAX_ICS_DEPTH}"])
            if line[6:].strip().upper() == "VEVENT":
                lines.append(number)
        elif word[:4] == "END:":
            depth -= 1
    return lines


def _semester_from_metadata(calendar: Calendar, errors: list[str]) -> Semester | None:
    """The semester our own export wrote down; None for other calendars."""
    if X_SEMESTER not in calendar:
        return None
    text = str(calendar[X_SEMESTER])
    first, _, last = text.partition("..")
    first_week = str(calendar.get(X_FIRST_WEEK, "odd")).strip().lower()
    try:
        holidays = frozenset(date.fromisoformat(day) for day in str(calendar.get(X_HOLIDAYS, "")).split())
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
        if end - start > LONGEST_RULE:  # every later walk over its days must stay short
            raise ValueError(f"longer than {LONGEST_RULE.days} days")
        return Semester(start, end, Parity(first_week), holidays)
    except ValueError as exc:
        errors.append(f"{X_SEMESTER}/{X_FIRST_WEEK}/{X_HOLIDAYS}: cannot read the semester from {text!r}: {exc}")
        return None


def _read_events(
    calendar: Calendar, tz: ZoneInfo, errors: list[str], event_lines: list[int]
) -> tuple[list[_Occurrence], list[_Rule]]:
    """Single events become occurrences; recurring ones become rules, expanded once the semester's end is known."""
    occurrences: list[_Occurrence] = []
    rules: list[_Rule] = []
    replaced: dict[str, set[date]] = defaultdict(set)  # UID -> dates whose occurrence a RECURRENCE-ID overrides
    events = [event for event in calendar.walk("VEVENT") if isinstance(event, Event)]
    if len(event_lines) != len(events):  # a BEGIN written in a way our line scan missed: name events without lines
        event_lines = []
    for index, event in enumerate(events):
        name = _name(event)
        line = f" (line {event_lines[index]})" if event_lines else ""
        try:
            _check_zones(event)
            uid = str(event.get("UID", ""))
            if "RECURRENCE-ID" in event:
                replaced[uid].add(_local_date(_moment(event, "RECURRENCE-ID"), tz))
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            start, end = event.start, event.end
            if not isinstance(start, datetime):
                continue  # an all-day event (a holiday, a deadline) is not a lesson
            if "DTEND" not in event and "DURATION" not in event:
                raise TimetableFileError(["has no DTEND or DURATION: when does the lesson end?"])
            start = _aware(start, tz)
            end = _aware(end, tz) if isinstance(end, datetime) else start
            what = _what(event)
            _check_times(start.astimezone(tz), end.astimezone(tz))
            rule = event.get("RRULE")
            if rule is None or "RECURRENCE-ID" in event:
                occurrences.append(_Occurrence(start.astimezone(tz), end.astimezone(tz), what, None))
            elif isinstance(rule, vRecur):
                recurrence = weekly_rule(rule, start)
                rules.append(_Rule(name, uid, recurrence, end - start, what, _excluded(event, tz), line))
            elif isinstance(rule, list):
                raise TimetableFileError(["has several RRULEs; only one weekly rule per event is supported"])
            else:
                reasons = "; ".join(reason for prop, reason in event.errors if prop == "RRULE")
                raise TimetableFileError([f"RRULE {rule} cannot be read: {reasons or 'malformed'}"])
        except TimetableFileError as exc:
            errors.extend(f"event {name}: {error}{line}" for error in exc.errors)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            errors.append(f"event {name}: {shorten(str(exc), 200)}{line}")
    if len(occurrences) > MAX_OCCURRENCES:
        errors.append(f"more than {MAX_OCCURRENCES} lessons: not the timetable of one group for one semester")
    for rule in rules:
        rule.excluded |= replaced.get(rule.uid, set())
    return occurrences, rules


def _name(event: Event) -> str:
    """How an error names an event: its summary and start as written in the file."""
    summary = shorten(str(event.get("SUMMARY", ""))) or "(no SUMMARY)"
    try:
        ical = event["DTSTART"].to_ical()
    except (KeyError, ValueError, AttributeError):
        return f'"{summary}" (no readable DTSTART)'
    return f'"{summary}" ({ical.decode() if isinstance(ical, bytes) else ical})'


def _moment(event: Event, name: str) -> date:
    """A property that must be a date or a date-time (RECURRENCE-ID), as icalendar read it."""
    value = getattr(event[name], "dt", None)
    if not isinstance(value, date):  # datetime is a date too
        raise TimetableFileError([f"{name} is not a date or a date-time"])
    return value


def _check_zones(event: Event) -> None:
    """An unknown TZID (no IANA name, no VTIMEZONE in the file) is an error, not the group's zone in disguise.

    icalendar resolves a TZID it knows (an IANA name, a Windows name, a VTIMEZONE of the file) to an aware
    time and leaves an unknown one naive, which would read as floating local time: 09:00 Mars time at 09:00.
    """
    for prop in _ZONED_PROPERTIES:
        values = event.get(prop)
        for value in values if isinstance(values, list) else [values]:
            tzid = getattr(value, "params", {}).get("TZID")
            if tzid is None:
                continue
            moments = [item.dt for item in value.dts] if hasattr(value, "dts") else [getattr(value, "dt", None)]
            if any(isinstance(moment, datetime) and moment.tzinfo is None for moment in moments):
                raise TimetableFileError(
                    [f"{prop};TZID={shorten(str(tzid))}: an unknown time zone and no VTIMEZONE for it in the file"]
                )


def _aware(moment: datetime, tz: ZoneInfo) -> datetime:
    # a floating time (no TZID, no Z) means "local wherever you are": the group's time zone
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _local_date(moment: date | datetime, tz: ZoneInfo) -> date:
    return _aware(moment, tz).astimezone(tz).date() if isinstance(moment, datetime) else moment


def _check_times(start: datetime, end: datetime) -> None:
    if end.date() != start.date() or end.time() <= start.time():
        raise TimetableFileError(
            [f"a lesson must end after it starts on the same day ({start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M})"]
        )


def _what(event: Event) -> _What:
    summary = str(event.get("SUMMARY", "")).strip()
    if not summary:
        raise TimetableFileError(["has no SUMMARY (the subject)"])
    if X_KIND in event:  # our own export says exactly which bracket is the kind
        kind = str(event[X_KIND]).strip()
        suffix = f" ({kind})"
        subject = summary.removesuffix(suffix).strip() if kind and summary.endswith(suffix) else summary
    else:
        subject, kind = _split_summary(summary)
    teacher, subgroup = "", None
    for line in str(event.get("DESCRIPTION", "")).splitlines():
        label, _, value = line.partition(":")
        label, value = label.strip().lower(), value.strip()
        if label in TEACHER_LABELS:
            teacher = value
        elif label in SUBGROUP_LABELS and value.isdecimal() and int(value) > 0:
            subgroup = int(value)
    room = str(event.get("LOCATION", "")).strip()
    for label, value, limit in (
        ("SUMMARY (the subject)", subject, MAX_SUBJECT),
        ("the kind in SUMMARY's brackets", kind, MAX_KIND),
        ("the teacher in DESCRIPTION", teacher, MAX_TEACHER),
        ("LOCATION (the room)", room, MAX_ROOM),
    ):
        if len(value) > limit:
            raise TimetableFileError([f"{label} is {len(value)} characters; at most {limit} fit"])
    return _What(subject=subject, kind=kind, teacher=teacher, room=room, subgroup=subgroup)


def _split_summary(summary: str) -> tuple[str, str]:
    """ "Физика (лекция)" -> ("Физика", "лекция"): the last bracketed part, brackets inside it included, is the kind."""
    depth = 0
    for index in range(len(summary) - 1, -1, -1):
        if summary[index] == ")":
            depth += 1
        elif summary[index] == "(" and depth:
            depth -= 1
            if depth == 0:
                subject, kind = summary[:index].rstrip(), summary[index + 1 : -1].strip()
                return (subject, kind) if subject and kind else (summary, "")
        if depth == 0:
            break
    return summary, ""


def _excluded(event: Event, tz: ZoneInfo) -> set[date]:
    exdates = event.get("EXDATE")
    if exdates is None:
        return set()
    lists = exdates if isinstance(exdates, list) else [exdates]
    return {_local_date(item.dt, tz) for exdate in lists for item in exdate.dts}


def _expand_rules(
    rules: list[_Rule], singles: list[_Occurrence], known: Semester | None, tz: ZoneInfo
) -> list[_Occurrence]:
    """Occurrences of every rule; rules that never end stop where the rest of the calendar says the semester does.

    Each rule is expanded at most LONGEST_RULE past its own DTSTART, whatever else the calendar holds: an event
    in the year 9999 then makes the lessons span more than a year (refused by the caller), instead of making
    twenty endless rules walk 8,000 years (issue 15). The total is bounded by MAX_OCCURRENCES as it grows.
    """
    expanded: list[tuple[_Rule, list[datetime], bool]] = []
    total = len(singles)
    for rule in rules:
        starts, ended = rule.recurrence.starts(days_after(rule.recurrence.start.date(), LONGEST_RULE))
        total += len(starts)
        if total > MAX_OCCURRENCES:
            raise TimetableFileError(
                [f"the recurring events make more than {MAX_OCCURRENCES} lessons: not one group's semester"]
            )
        expanded.append((rule, starts, ended))
    if not all(ended for _, _, ended in expanded):
        ends = [occurrence.start.date() for occurrence in singles]
        ends.extend(starts[-1].astimezone(tz).date() for _, starts, ended in expanded if ended and starts)
        if known is not None:
            end = known.end
        elif ends:
            end = max(ends)
        else:
            first = min(rule.recurrence.start.date() for rule, _, ended in expanded if not ended)
            end = first + DEFAULT_SEMESTER_LENGTH
        expanded = [
            (rule, starts if ended else [start for start in starts if start.date() <= end], ended)
            for rule, starts, ended in expanded
        ]
    occurrences = []
    for rule, starts, _ in expanded:
        for start in starts:
            local = start.astimezone(tz)
            if local.date() in rule.excluded:
                continue
            end_time = (start + rule.length).astimezone(tz)
            try:
                _check_times(local, end_time)  # a rule in another zone can cross midnight here after a DST change
            except TimetableFileError as exc:
                raise TimetableFileError([f"event {rule.name}: {error}{rule.line}" for error in exc.errors]) from None
            occurrences.append(_Occurrence(local, end_time, rule.what, rule.recurrence.interval))
    return occurrences


def _derived_semester(occurrences: list[_Occurrence]) -> Semester:
    """From the first lesson to the last; which days were holidays is only known once the slots are."""
    days = {occurrence.start.date() for occurrence in occurrences}
    return Semester(start=min(days), end=max(days), first_week=Parity.ODD)


def _with_lessonless_days_as_holidays(
    semester: Semester, slots: list[Slot], occurrences: list[_Occurrence]
) -> Semester:
    """Once the slots are known: every day on which some of them should have been, but nothing was, is a holiday.

    This also catches what the first guess cannot: a weekly lesson excluded on a day of a week parity that has
    no other lessons.
    """
    busy = {occurrence.start.date() for occurrence in occurrences}
    holidays = frozenset(
        day
        for day in _days(semester.start, semester.end)
        if day not in busy
        and any(slot.day == day.weekday() and slot.weeks in (Parity.ALL, parity_of(semester, day)) for slot in slots)
    )
    return replace(semester, holidays=holidays)


def _slots(occurrences: list[_Occurrence], semester: Semester) -> list[Slot]:
    """One slot per distinct lesson; an odd and an even rule of the same lesson fall into one group: every week."""
    lessons: dict[tuple[int, time, time, _What], list[_Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        key = (occurrence.start.weekday(), occurrence.start.time(), occurrence.end.time(), occurrence.what)
        lessons[key].append(occurrence)
    if len(lessons) > MAX_SLOTS_PER_GROUP:  # before _weeks walks the semester once per lesson
        raise TimetableFileError(
            [f"{len(lessons)} different weekly lessons; a group has at most {MAX_SLOTS_PER_GROUP}"]
        )
    slots = [
        Slot(
            day=day,
            start=start,
            end=end,
            subject=what.subject,
            kind=what.kind,
            teacher=what.teacher,
            room=what.room,
            weeks=_weeks(day, found, semester),
            subgroup=what.subgroup,
        )
        for (day, start, end, what), found in lessons.items()
    ]
    return sorted(slots, key=lambda slot: (slot.day, slot.start, slot.end, slot.subgroup or 0, slot.subject))


def _weeks(weekday: int, found: list[_Occurrence], semester: Semester) -> Parity:
    """Which weeks a lesson runs in: a weekly rule says so; for single events it is inferred (module docstring)."""
    intervals = {occurrence.interval for occurrence in found}
    if 1 in intervals:
        return Parity.ALL
    if intervals == {2}:
        parities = {parity_of(semester, occurrence.start.date()) for occurrence in found}
        return parities.pop() if len(parities) == 1 else Parity.ALL
    held: dict[Parity, set[date]] = defaultdict(set)
    for occurrence in found:
        day = occurrence.start.date()
        held[parity_of(semester, day)].add(day)
    possible: dict[Parity, set[date]] = defaultdict(set)
    for day in _days(semester.start, semester.end):
        if day.weekday() == weekday and is_study_day(semester, day):
            possible[parity_of(semester, day)].add(day)
    share = {parity: len(held[parity]) / max(len(possible[parity] | held[parity]), 1) for parity in PARITIES}
    for parity, other in (PARITIES, PARITIES[::-1]):
        if not held[other]:
            return parity if possible[other] else Parity.ALL
        if share[other] < share[parity] * STRAY_SHARE:
            return parity
    return Parity.ALL


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
