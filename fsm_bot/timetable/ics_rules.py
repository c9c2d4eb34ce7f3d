"""The weekly RRULEs a timetable .ics may hold, and their starts within a bounded window.

Only what a timetable needs is read (FREQ=WEEKLY with INTERVAL, BYDAY, WKST, COUNT, UNTIL); anything else is
an error rather than a guess. The starts come from dateutil's rrule (RFC 5545 semantics, WKST included), and
never from walking the rule itself: a rule without COUNT or UNTIL has no end, so every expansion is given one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import WEEKLY, rrule
from icalendar import vRecur

from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.ics_format import SUPPORTED_RULE_PARTS, WEEKDAYS


@dataclass(frozen=True)
class WeeklyRule:
    start: datetime  # aware: DTSTART of the series
    interval: int  # 1 every week, 2 every other week (odd/even)
    weekdays: tuple[int, ...]  # 0 = Monday
    week_start: int
    count: int | None
    until: datetime | date | None

    def starts(self, limit: date) -> tuple[list[datetime], bool]:
        """The starts up to `limit` (inclusive), and whether UNTIL or COUNT ended the rule by then.

        dateutil walks from DTSTART and between() stops at `limit`, so the work is bounded by the window,
        never by the rule. COUNT is applied here rather than given to dateutil, which deprecates COUNT
        together with UNTIL (RFC 5545 forbids both; some exports still write them).
        """
        recurrence = rrule(
            WEEKLY,
            dtstart=self.start,
            interval=self.interval,
            wkst=self.week_start,
            byweekday=self.weekdays,
            until=self._aware_until(),
        )
        last = datetime.combine(limit, time.max, tzinfo=self.start.tzinfo)
        starts = recurrence.between(self.start, last, inc=True)
        if self.count is not None and len(starts) >= self.count:
            return starts[: self.count], True
        return starts, recurrence.after(last) is None

    def _aware_until(self) -> datetime | None:
        """UNTIL as dateutil needs it, aware like DTSTART: a date includes its whole day, a floating time is local."""
        if self.until is None:
            return None
        if not isinstance(self.until, datetime):
            return datetime.combine(self.until, time.max, tzinfo=self.start.tzinfo)
        return self.until if self.until.tzinfo is not None else self.until.replace(tzinfo=self.start.tzinfo)


def weekly_rule(rule: vRecur, start: datetime) -> WeeklyRule:
    """The rule of an event starting at `start`; TimetableFileError for anything but a weekly lesson."""
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
    return WeeklyRule(
        start=start,
        interval=interval,
        weekdays=tuple(sorted(set(weekdays))),
        week_start=_weekday(_one(rule, "WKST", "MO")),
        count=None if count is None else int(count),
        until=_one(rule, "UNTIL", None),
    )


def days_after(day: date, span: timedelta) -> date:
    """`day + span`, or the last representable day for a rule that starts in the year 9999."""
    return day + span if date.max - day > span else date.max


def _one(rule: Any, part: str, default: Any) -> Any:
    values = rule.get(part)
    return values[0] if values else default


def _weekday(code: Any) -> int:
    text = str(code).strip().upper()
    if text not in WEEKDAYS:
        raise TimetableFileError([f"RRULE day {text!r} is not one of {', '.join(WEEKDAYS)} (weekly rules)"])
    return WEEKDAYS.index(text)
