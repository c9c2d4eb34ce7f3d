"""Reading a group list and matching it to members, without a database (services/roster*.py)."""

from __future__ import annotations

import pytest

from fsm_bot.services.roster import Person, match_roster
from fsm_bot.services.roster_files import RosterLine, RosterUnreadable, parse_line, read_roster


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Иванов Иван", RosterLine("Иванов", "Иван")),
        ("1. иванов иван иванович", RosterLine("Иванов", "Иван")),
        ("12) Петрова Анна https://vk.com/id777", RosterLine("Петрова", "Анна", 777)),
        ("Белова Ольга https://vk.com/Olga_B", RosterLine("Белова", "Ольга", None, "olga_b")),
        ("3. Орлов Пётр m.vk.ru/orlov.petr/", RosterLine("Орлов", "Пётр", None, "orlov.petr")),
        ("Петрова;Анна;m.vk.ru/id42", RosterLine("Петрова", "Анна", 42)),
        ("Сидоров Олег 100200", RosterLine("Сидоров", "Олег", 100200)),
        ("3 Ёлкина Дарья", RosterLine("Ёлкина", "Дарья")),
    ],
)
def test_a_line_is_a_surname_a_name_and_maybe_a_vk_id(line: str, expected: RosterLine) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["12345", "Иванов", "Иванов 123abc", "https://vk.com/id1"])
def test_what_is_not_a_name_is_not_read_as_one(line: str) -> None:
    assert parse_line(line) is None


def test_a_cp1251_csv_with_a_header_and_a_bad_line_keeps_the_rest() -> None:
    roster = read_roster("Фамилия;Имя\nИванов;Иван\n???\nПетров;Пётр\n".encode("cp1251"), "group.csv")
    assert [p.full_name for p in roster.people] == ["Иванов Иван", "Петров Пётр"]
    assert [(p.line, p.text) for p in roster.problems] == [(3, "???")]


def test_a_file_that_is_no_workbook_is_refused_with_a_reason() -> None:
    with pytest.raises(RosterUnreadable) as refused:
        read_roster(b"not a zip", "group.xlsx")
    assert refused.value.key == "not_xlsx"


def test_matching_by_id_then_by_folded_name_and_shared_names_left_open() -> None:
    people = [
        Person(1, "Ёлкина", "Дарья"),
        Person(2, "Иванов", "Иван"),
        Person(3, "Иванов", "Иван"),
        Person(4, "X", "Y"),
    ]
    lines = [
        RosterLine("ЕЛКИНА", "дарья"),  # ё and case folded
        RosterLine("Иванов", "Иван"),  # two members share it
        RosterLine("Кто-то", "Другой", 4),  # the id wins over the name
        RosterLine("Нет", "Никого"),
        RosterLine("Есть", "Ссылка", 999),  # a link to someone not in the community
        RosterLine("Дарья", "Ёлкина"),  # the same person again, name first: nobody is left for it
    ]
    match = match_roster(lines, people)
    assert match.matched == {0: 1, 2: 4}
    assert {line: [p.vk_id for p in found] for line, found in match.ambiguous.items()} == {1: [2, 3]}
    assert match.missing == (3, 4, 5)


def test_a_surname_alone_matching_is_asked_about_not_guessed() -> None:
    match = match_roster([RosterLine("Кузнецов", "Александр")], [Person(7, "Кузнецов", "Саша")])
    assert (match.matched, list(match.ambiguous), match.missing) == ({}, [0], ())
