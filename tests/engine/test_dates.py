"""Days as people type them in dialogs, placed in the year the question means."""

from __future__ import annotations

from datetime import date

import pytest

from fsm_bot.services.dates import day_label, parse_day
from fsm_bot.texts import Texts

DECEMBER = date(2026, 12, 20)
JANUARY = date(2027, 1, 10)


@pytest.mark.parametrize(
    ("text", "today", "leaning", "expected"),
    [
        ("сегодня", DECEMBER, "future", DECEMBER),
        ("Вчера", DECEMBER, "past", date(2026, 12, 19)),
        ("завтра", DECEMBER, "future", date(2026, 12, 21)),
        ("2026-12-03", DECEMBER, "future", date(2026, 12, 3)),
        ("03.12", DECEMBER, "future", date(2026, 12, 3)),
        ("10.01", DECEMBER, "future", date(2027, 1, 10)),  # a notice for next January
        ("10.01", DECEMBER, "past", date(2026, 1, 10)),
        ("28.12", JANUARY, "past", date(2026, 12, 28)),  # a mark for last December
        ("28.12", JANUARY, "future", date(2027, 12, 28)),
        ("3.12.26", DECEMBER, "future", date(2026, 12, 3)),
        ("03.12.2025", DECEMBER, "future", date(2025, 12, 3)),
    ],
)
def test_days_typed_in_dialogs(text: str, today: date, leaning: str, expected: date) -> None:
    assert parse_day(text, today, leaning) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "завтра утром", "31.02", "12/03", "13.13", "1.2.3"])
def test_what_is_not_a_day(text: str) -> None:
    assert parse_day(text, DECEMBER) is None


def test_day_labels() -> None:
    t = Texts.load("ru")
    assert [day_label(t, date(2026, 12, n), DECEMBER) for n in (19, 20, 21, 23)] == [
        "Вчера",
        "Сегодня",
        "Завтра",
        "Ср 23.12",
    ]
