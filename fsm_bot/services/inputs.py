"""What people type or a button carries, bounded before it reaches a query or a column.

Anything a person sends can be forged: a payload edited to `99999999999` or `²`, a name of 199
characters or of zero-width spaces only. A value outside a column's range makes PostgreSQL refuse
the whole event (DataError), and `str.isdigit()` is true for '²', which int() then refuses; so flows
read numbers and names through these functions, which answer None for anything unusable.
"""

from __future__ import annotations

import re
import unicodedata

from fsm_bot.storage.models import GROUP_NAME_LENGTH, NAME_LENGTH

MAX_ID = 2**31 - 1  # the largest row id (INTEGER columns) and VK user id a payload may name

_ASCII_INT = re.compile(r"-?[0-9]{1,18}")
# What a study group's name may hold besides letters, digits and marks: «ИВТ-101», «ПМ 2.1», «Группа №3 (вечер)».
_GROUP_NAME_JOINERS = " -_.,/()№#+"
# Besides letters of any script and combining marks, what joins parts of a real name:
# «Белова-Петрова», «О'Нил», «д’Артаньян», «Jr.».
_NAME_JOINERS = "-'’."


def parse_int(value: object, low: int, high: int) -> int | None:
    """An integer written in ASCII digits within [low, high]; None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


def parse_id(value: object) -> int | None:
    """A positive id (a row's, a VK user's) as a payload or a person wrote it, or None."""
    return parse_int(value, 1, MAX_ID)


def unpacked(choice: tuple[str | int, ...] | None) -> tuple[str | int, ...] | None:
    """A button value as a tuple, also from buttons sent before 2026-12, which carried one string of parts
    joined by ":" ("a:123", "123:yes"): those come back split, each part that is an id (parse_id) an int,
    so a flow matches one shape for old and new buttons alike."""
    if choice is None or len(choice) != 1 or not isinstance(choice[0], str) or ":" not in choice[0]:
        return choice
    parts = choice[0].split(":")
    return tuple(number if (number := parse_id(part)) is not None else part for part in parts)


def clean_text(text: str) -> str:
    """Text without the characters a person cannot see: control and format characters (zero-width
    spaces, bidi overrides that reverse what follows), with any run of spacing as one space."""
    kept = []
    for character in unicodedata.normalize("NFC", text):
        category = unicodedata.category(character)
        if category.startswith("Z") or character in "\t\n\r":
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(character)
    return " ".join("".join(kept).split())


def clean_name(text: str) -> tuple[str, str] | None:
    """(last name, first name) as the register should show them, from «Фамилия Имя [Отчество]»:
    invisible characters dropped, words in lower or upper case title-cased part by part
    («белова-петрова ксения» -> «Белова-Петрова», «Ксения»); None unless there are two words made
    of letters, each part short enough for its column."""
    words = clean_text(text).split(" ")
    if len(words) < 2 or any(not _is_name_word(word) for word in words):
        return None
    last, first = _capitalised(words[0]), " ".join(_capitalised(word) for word in words[1:])
    if len(last) > NAME_LENGTH or len(first) > NAME_LENGTH:
        return None
    return last, first


def _is_name_word(word: str) -> bool:
    return any(character.isalpha() for character in word) and all(
        character.isalpha() or character in _NAME_JOINERS or unicodedata.category(character).startswith("M")
        for character in word
    )


def _capitalised(word: str) -> str:
    """A word typed all in one case gets capitals at the start of each part; «МакДональд» stays."""
    if word != word.lower() and word != word.upper():
        return word
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def clean_group_name(text: str) -> str | None:
    """A study group's name as a manager typed it, with invisible characters dropped and spacing folded
    (as clean_name does); None unless it has a letter or a digit, only those, marks and the usual joiners,
    and fits its column (which also keeps it short enough for a button's payload). Digits are 0-9:
    «²» is a digit to `str.isalnum`, and a group called «²» would catch a stray «²» typed anywhere."""
    name = clean_text(text)
    if not name or len(name) > GROUP_NAME_LENGTH or not any(_name_letter(character) for character in name):
        return None
    usable = all(
        _name_letter(character) or character in _GROUP_NAME_JOINERS or unicodedata.category(character).startswith("M")
        for character in name
    )
    return name if usable else None


def _name_letter(character: str) -> bool:
    return character.isalpha() or character in "0123456789"
