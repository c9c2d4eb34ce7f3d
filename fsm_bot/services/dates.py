"""Dates as people type and read them in dialogs: «30.11», «сегодня», «Пн 30.11».

Several dialogs ask for a day (a lesson to change, a lesson to mark, days one will miss); they
read and show it the same way. A day typed without a year is placed in the year that makes sense
for the question: marks are about the past, changes and notices about the future.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Literal

from fsm_bot.timetable.render import WEEKDAY_KEYS

HALF_YEAR = timedelta(days=180)
_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?")


def parse_day(text: str, today: date, leaning: Literal["past", "future"] = "future") -> date | None:
    """«2026-12-03», «03.12», «3.12.26», «сегодня», «вчера», «завтра»; None if it is not a day."""
    text = text.strip().lower()
    relative = {"сегодня": 0, "today": 0, "вчера": -1, "yesterday": -1, "завтра": 1, "tomorrow": 1}
    if text in relative:
        return today + timedelta(days=relative[text])
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _DAY.fullmatch(text)
    if match is None:
        return None
    day, month, year = int(match[1]), int(match[2]), match[3]
    try:
        if year is not None:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        found = date(today.year, month, day)
    except ValueError:
        return None
    if leaning == "future" and found < today - HALF_YEAR:
        return found.replace(year=found.year + 1)  # «10.01» typed in December is next January
    if leaning == "past" and found > today + HALF_YEAR:
        return found.replace(year=found.year - 1)  # «28.12» typed in January is last December
    return found


def day_label(t: Callable[..., str], day: date, today: date) -> str:
    """What a day's button says: «Сегодня», «Завтра», «Вчера» or «Пн 30.11»."""
    named = {0: "dates.today", 1: "dates.tomorrow", -1: "dates.yesterday"}.get((day - today).days)
    if named is not None:
        return t(named)
    return f"{t(f'timetable.weekdays.{WEEKDAY_KEYS[day.weekday()]}')} {day:%d.%m}"
