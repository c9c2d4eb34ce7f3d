"""iCalendar import: the timetables universities publish.

It accepts both styles universities use: weekly RRULEs (INTERVAL=2 being an odd/even lesson) and one
event per occurrence, from which the weekly slots are recovered:

- occurrences of the same lesson (weekday, time, subject, kind, teacher, room, subgroup) form one slot;
- a slot is odd or even when it occurs in weeks of one parity only (or the other parity's appearances are a
  stray few: a lesson moved into that week); otherwise it runs every week;
- the semester runs from the first lesson to the last, its first week is odd, and a day on which some slot
  should have had a lesson but the file has none at all was a holiday.

Changes (cancellations, moves) are not reconstructed: a moved lesson comes back as a slot of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from fsm_bot.timetable.calendar import is_study_day, parity_of
from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.ics_format import (
    DEFAULT_SEMESTER_LENGTH,
    LONGEST_RULE,
    PARITIES,
    STRAY_SHARE,
    SUBGROUP_LABEL,
    SUPPORTED_RULE_PARTS,
    TEACHER_LABEL,
    WEEKDAYS,
    X_FIRST_WEEK,
    X_HOLIDAYS,
    X_KIND,
    X_SEMESTER,
)
from fsm_bot.timetable.model import Parity, Semester, Slot, TimetableFile


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
    start: datetime  # aware: DTSTART of the series
    length: timedelta
    what: _What
    interval: int
    weekdays: list[int]
    week_start: int
    count: int | None
    until: datetime | date | None
    excluded: set[date]


def import_ics(data: bytes, tz: ZoneInfo) -> TimetableFile:
    """The weekly slots (group "", named by the caller) and the semester behind an iCalendar file."""
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise TimetableFileError([f"not an iCalendar file: {exc}"]) from None
    if calendar.name != "VCALENDAR":
        raise TimetableFileError([f"not an iCalendar file: it holds a {calendar.name}, not a VCALENDAR"])
    errors: list[str] = []
    known = _semester_from_metadata(calendar, errors)
    occurrences, rules = _read_events(calendar, tz, errors)
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
        return Semester(start, end, Parity(first_week), holidays)
    except ValueError as exc:
        errors.append(f"{X_SEMESTER}/{X_FIRST_WEEK}/{X_HOLIDAYS}: cannot read the semester from {text!r}: {exc}")
        return None


def _read_events(calendar: Calendar, tz: ZoneInfo, errors: list[str]) -> tuple[list[_Occurrence], list[_Rule]]:
    """Single events become occurrences; recurring ones become rules, expanded once the semester's end is known."""
    occurrences: list[_Occurrence] = []
    rules: list[_Rule] = []
    replaced: dict[str, set[date]] = defaultdict(set)  # UID -> dates whose occurrence a RECURRENCE-ID overrides
    for event in calendar.walk("VEVENT"):
        name = _name(event)
        try:
            uid = str(event.get("UID", ""))
            if "RECURRENCE-ID" in event:
                replaced[uid].add(_local_date(event["RECURRENCE-ID"].dt, tz))
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
                rules.append(_rule(name, uid, start, end - start, what, rule, _excluded(event, tz)))
            elif isinstance(rule, list):
                raise TimetableFileError(["has several RRULEs; only one weekly rule per event is supported"])
            else:
                reasons = "; ".join(reason for prop, reason in event.errors if prop == "RRULE")
                raise TimetableFileError([f"RRULE {rule} cannot be read: {reasons or 'malformed'}"])
        except TimetableFileError as exc:
            errors.extend(f"event {name}: {error}" for error in exc.errors)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            errors.append(f"event {name}: {exc}")
    for rule in rules:
        rule.excluded |= replaced.get(rule.uid, set())
    return occurrences, rules


def _name(event: Event) -> str:
    """How an error names an event: its summary and start as written in the file."""
    summary = str(event.get("SUMMARY", "")).strip() or "(no SUMMARY)"
    try:
        written = event["DTSTART"].to_ical().decode()
    except (KeyError, ValueError, AttributeError):
        written = "no readable DTSTART"
    return f'"{summary}" ({written})'


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
        if label == TEACHER_LABEL.lower():
            teacher = value
        elif label == SUBGROUP_LABEL.lower() and value.isdecimal() and int(value) > 0:
            subgroup = int(value)
    room = str(event.get("LOCATION", "")).strip()
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


def _rule(
    name: str, uid: str, start: datetime, length: timedelta, what: _What, rule: vRecur, excluded: set[date]
) -> _Rule:
    unsupported = sorted(set(rule) - SUPPORTED_RULE_PARTS)
    if unsupported:
        raise TimetableFileError([f"RRULE parts {', '.join(unsupported)} are not supported"])
    frequency = _one(rule, "FREQ", "")
    if str(frequency).upper() != "WEEKLY":
        raise TimetableFileError([f"repeats FREQ={frequency}; only weekly lessons (FREQ=WEEKLY) are supported"])
    interval = int(_one(rule, "INTERVAL", 1))
    if not 1 <= interval <= 52:
        raise TimetableFileError([f"RRULE INTERVAL={interval}: a lesson repeats every 1 to 52 weeks"])
    weekdays = [_weekday(code) for code in rule.get("BYDAY", [])] or [start.weekday()]
    count = _one(rule, "COUNT", None)
    return _Rule(
        name=name,
        uid=uid,
        start=start,
        length=length,
        what=what,
        interval=interval,
        weekdays=sorted(set(weekdays)),
        week_start=_weekday(_one(rule, "WKST", "MO")),
        count=None if count is None else int(count),
        until=_one(rule, "UNTIL", None),
        excluded=excluded,
    )


def _one(rule: Any, part: str, default: Any) -> Any:
    values = rule.get(part)
    return values[0] if values else default


def _weekday(code: Any) -> int:
    text = str(code).strip().upper()
    if text not in WEEKDAYS:
        raise TimetableFileError([f"RRULE day {text!r} is not one of {', '.join(WEEKDAYS)} (weekly rules)"])
    return WEEKDAYS.index(text)


def _expand_rules(
    rules: list[_Rule], singles: list[_Occurrence], known: Semester | None, tz: ZoneInfo
) -> list[_Occurrence]:
    """Occurrences of every rule; rules that never end stop where the rest of the calendar says the semester does."""
    bounded: list[tuple[_Rule, list[datetime]]] = []
    endless: list[_Rule] = []
    for rule in rules:
        starts, ended = _rule_starts(rule, rule.start.date() + LONGEST_RULE)
        if ended:
            bounded.append((rule, starts))
        else:
            endless.append(rule)
    if endless:
        ends = [occurrence.start.date() for occurrence in singles]
        ends.extend(rule_starts[-1].astimezone(tz).date() for _, rule_starts in bounded if rule_starts)
        if known is not None:
            end = known.end
        elif ends:
            end = max(ends)
        else:
            end = min(rule.start.date() for rule in endless) + DEFAULT_SEMESTER_LENGTH
        for rule in endless:
            starts, _ = _rule_starts(rule, max(end, rule.start.date()))
            bounded.append((rule, starts))
    occurrences = []
    for rule, starts in bounded:
        for start in starts:
            local = start.astimezone(tz)
            if local.date() in rule.excluded:
                continue
            end = (start + rule.length).astimezone(tz)
            try:
                _check_times(local, end)  # a rule in another zone can cross midnight here after a DST change
            except TimetableFileError as exc:
                raise TimetableFileError([f"event {rule.name}: {error}" for error in exc.errors]) from None
            occurrences.append(_Occurrence(local, end, rule.what, rule.interval))
    return occurrences


def _rule_starts(rule: _Rule, limit: date) -> tuple[list[datetime], bool]:
    """The starts a weekly rule generates up to `limit`, and whether UNTIL or COUNT ended it before that."""
    starts: list[datetime] = []
    first = rule.start.date()
    period = first - timedelta(days=(first.weekday() - rule.week_start) % 7)
    offsets = sorted((weekday - rule.week_start) % 7 for weekday in rule.weekdays)
    while True:
        for offset in offsets:
            day = period + timedelta(days=offset)
            if day < first:
                continue
            start = datetime.combine(day, rule.start.timetz())
            if _past_until(start, rule.until):
                return starts, True
            if day > limit:
                return starts, False
            starts.append(start)
            if rule.count is not None and len(starts) >= rule.count:
                return starts, True
        period += timedelta(weeks=rule.interval)


def _past_until(start: datetime, until: datetime | date | None) -> bool:
    if until is None:
        return False
    if not isinstance(until, datetime):
        return start.date() > until
    return start > (until if until.tzinfo is not None else until.replace(tzinfo=start.tzinfo))


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
