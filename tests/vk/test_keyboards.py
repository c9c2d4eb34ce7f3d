"""Button labels within VK's 40 characters: shortened at a word, never inside one (issue 20)."""

from __future__ import annotations

import json

import pytest

from fsm_bot.vk.keyboards import MAX_LABEL, KeyboardButton, build_keyboard, shorten


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("09:00 Общая пара", "09:00 Общая пара"),
        ("10:45 Теория вероятностей и математическая статистика", "10:45 Теория вероятностей и…"),
        ("За 10 минут до каждой пары, если она сегодня есть", "За 10 минут до каждой пары, если она…"),
        ("Иванов — очень-очень-длинное-составное-слово-без-пробелов", "Иванов…"),  # no dash before «…»
        ("  лишние   пробелы  ", "лишние пробелы"),
        ("Сорок" * 9, "Сорок" * 7 + "Соро…"),  # one word longer than the button: cut, there is no other way
        ("а" * 40, "а" * 40),
    ],
)
def test_a_long_label_keeps_whole_words(label: str, shown: str) -> None:
    assert shorten(label) == shown
    assert len(shown) <= MAX_LABEL


def test_the_keyboard_carries_the_shortened_label() -> None:
    button = KeyboardButton("13:00 Основы проектирования информационных систем", {"b": 1})
    [[sent]] = json.loads(build_keyboard([[button]], inline=True))["buttons"]
    assert sent["action"]["label"] == "13:00 Основы проектирования…"
