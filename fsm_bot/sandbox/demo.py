"""A demo stream of VK users for ``demo=True`` (``fsm-bot sandbox`` without ``--empty``).

Study groups and the headman/deputy roles are the bot's concepts, not VK's: the sandbox only creates the
VK users (ids, names, membership, permission to message, community role). :data:`DEMO_STREAM` says who
is meant to be what, so the bot's demo can assign them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .directory import Directory

FEMALE, MALE = 1, 2  # VK's ``sex`` values


@dataclass(frozen=True)
class DemoPerson:
    """One demo VK user and the part they are meant to play in the bot's demo."""

    id: int
    first_name: str
    last_name: str
    sex: int
    stream_role: str  # "admin" (the community's creator), "headman", "deputy" or "student"
    study_group: str | None  # None for the stream admin
    community_role: str | None = None  # VK community role
    allow_messages: bool = True


def _students(first_id: int, group: str, names: list[tuple[str, str, int]], silent: set[int]) -> list[DemoPerson]:
    return [
        DemoPerson(first_id + i, first, last, sex, "student", group, allow_messages=i not in silent)
        for i, (first, last, sex) in enumerate(names)
    ]


_HEADS = [
    DemoPerson(100001, "Ольга", "Викторова", FEMALE, "admin", None, community_role="creator"),
    DemoPerson(100002, "Анна", "Смирнова", FEMALE, "headman", "ИВТ-101"),
    DemoPerson(100003, "Дмитрий", "Кузнецов", MALE, "headman", "ИВТ-102"),
    DemoPerson(100004, "Мария", "Иванова", FEMALE, "deputy", "ИВТ-101"),
]
_GROUP_101 = [
    ("Алексей", "Попов", MALE),
    ("Екатерина", "Васильева", FEMALE),
    ("Иван", "Петров", MALE),
    ("Дарья", "Соколова", FEMALE),
    ("Максим", "Михайлов", MALE),
    ("Полина", "Новикова", FEMALE),
    ("Артём", "Фёдоров", MALE),
    ("Софья", "Морозова", FEMALE),
    ("Никита", "Волков", MALE),
    ("Алина", "Алексеева", FEMALE),
    ("Егор", "Лебедев", MALE),
    ("Виктория", "Семёнова", FEMALE),
    ("Кирилл", "Егоров", MALE),
]
_GROUP_102 = [
    ("Анастасия", "Павлова", FEMALE),
    ("Михаил", "Козлов", MALE),
    ("Ксения", "Степанова", FEMALE),
    ("Андрей", "Николаев", MALE),
    ("Елизавета", "Орлова", FEMALE),
    ("Павел", "Андреев", MALE),
    ("Валерия", "Макарова", FEMALE),
    ("Илья", "Захаров", MALE),
    ("Юлия", "Зайцева", FEMALE),
    ("Роман", "Соловьёв", MALE),
    ("Татьяна", "Борисова", FEMALE),
    ("Георгий", "Яковлев", MALE),
]

#: The whole demo stream: the admin, two headmen, a deputy and 25 students; two have not allowed messages.
DEMO_STREAM: tuple[DemoPerson, ...] = (
    *_HEADS,
    *_students(100005, "ИВТ-101", _GROUP_101, silent={8}),
    *_students(100018, "ИВТ-102", _GROUP_102, silent={5}),
)


def seed_demo(directory: Directory) -> None:
    """Create the demo users: all members of the community, as they are in :data:`DEMO_STREAM`."""
    for person in DEMO_STREAM:
        directory.add_user(
            person.first_name,
            person.last_name,
            user_id=person.id,
            sex=person.sex,
            role=person.community_role,
            allow_messages=person.allow_messages,
            member=True,
        )
