"""A stream to walk the dialogs in: a group with a timetable, its headman and deputy, students, a stream
admin, and newcomers, all talking to one real bot (on each database in turn) through the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import pytest

from fsm_bot.config import DEFAULT_FLOWS
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.timetable import Slot
from tests.engine.conftest import start_bot  # noqa: F401  (fixture)
from tests.reminders.test_dialogs import SLOTS, enrol, seed
from tests.walk.people import Person

EXTRA_GROUPS = ["ИВТ-103", "ИВТ-104", "ПМИ-101", "ПМИ-102", "ФИЗ-101"]  # with ИВТ-101 and ИВТ-102 from seed()
EVENING_SLOTS = [
    Slot(day, start, end, subject, "лекция", "", "101")
    for day in range(7)
    for start, end, subject in (
        (time(15, 0), time(16, 30), "Вечерняя пара"),
        (time(16, 45), time(18, 15), "Поздняя пара"),
        (time(18, 30), time(20, 0), "Ночная пара"),
        (time(20, 15), time(21, 45), "Самая поздняя"),
    )
]
STUDENTS = [("Пётр", "Алексеев"), ("Вера", "Борисова"), ("Илья", "Васильев")]


@dataclass
class Stream:
    bot: Bot
    headman: Person
    deputy: Person
    students: list[Person]
    admin: Person  # a manager of the community: the stream admin, in no study group
    stranger: Person  # wrote to the community for the first time: not onboarded
    sandbox: SandboxClient

    def person(self, role: str) -> Person:
        return {"headman": self.headman, "deputy": self.deputy, "student": self.students[0], "admin": self.admin,
                "stranger": self.stranger}[role]  # fmt: skip

    def newcomer(self, first: str = "Новый", last: str = "Человек") -> Person:
        user = self.sandbox.add_user(first, last)
        return Person(self.sandbox, self.bot, user["id"], f"{first} {last}")


def busier(database_url: str, community: int) -> None:
    """Seven study groups and eight lessons a day: more than an inline keyboard has rows for, one to a row."""
    database = Database(database_url)

    def write(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        for name in EXTRA_GROUPS:
            communities.study_group(community, name)
        group = communities.study_group(community, "ИВТ-101")
        TimetableRepository(session, community).replace_slots(group.id, [*SLOTS, *EVENING_SLOTS])

    database.transaction(write)
    database.dispose()


@pytest.fixture
def stream(sandbox: SandboxClient, database_url: str, start_bot: Callable[..., Bot]) -> Stream:  # noqa: F811
    sandbox.reset(rps_limit=None)  # the walk sends hundreds of messages; VK's pace is not under test here
    seed(database_url, sandbox.group_id)
    busier(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Старостина")["id"]
    deputy = sandbox.add_user("Мария", "Заместитель")["id"]
    admin = sandbox.add_user("Админ", "Потоков", role="administrator")["id"]
    students = [sandbox.add_user(first, last)["id"] for first, last in STUDENTS]
    stranger = sandbox.add_user("Незнакомый", "Человек")["id"]
    bot = start_bot(flows=DEFAULT_FLOWS, stream={"groups": {"ИВТ-101": {"headman": headman, "deputies": [deputy]}}})
    for number, (student, name) in enumerate(zip(students, STUDENTS, strict=True)):
        enrol(bot, student, 1 + number % 2, name=name)

    def person(vk_id: int, name: str) -> Person:
        return Person(sandbox, bot, vk_id, name)

    return Stream(
        bot,
        person(headman, "староста"),
        person(deputy, "заместитель"),
        [person(vk, f"студент {last}") for vk, (_, last) in zip(students, STUDENTS, strict=True)],
        person(admin, "админ потока"),
        person(stranger, "незнакомец"),
        sandbox,
    )
