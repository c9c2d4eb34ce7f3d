"""The window a leader types when opening a queue: forgiving about the form, strict about the order."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from fsm_bot.services.queues import parse_window
from tests.support.week import MOSCOW

TODAY = date(2026, 12, 4)


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, MOSCOW)


@pytest.mark.parametrize(
    ("typed", "day", "start", "end"),
    [
        ("13:00-15:00", TODAY, time(13), time(15)),
        ("13-15", TODAY, time(13), time(15)),
        ("с 13 до 15:30", TODAY, time(13), time(15, 30)),
        ("13.00 – 15.00", TODAY, time(13), time(15)),
        ("завтра 9:00-10:30", date(2026, 12, 5), time(9), time(10, 30)),
        ("Сегодня 00:00—23:59", TODAY, time(0), time(23, 59)),
        ("07.12 13:00 15:00", date(2026, 12, 7), time(13), time(15)),
        ("2026-12-08 8-9", date(2026, 12, 8), time(8), time(9)),
    ],
)
def test_a_window_is_read_in_many_forms(typed: str, day: date, start: time, end: time) -> None:
    assert parse_window(typed, TODAY, MOSCOW) == (at(day, start), at(day, end))


@pytest.mark.parametrize("typed", ["после обеда", "13:00", "15:00-13:00", "13:00-13:00", "25:00-26:00", "13-15-17"])
def test_what_is_not_a_window_is_refused(typed: str) -> None:
    assert parse_window(typed, TODAY, MOSCOW) is None
