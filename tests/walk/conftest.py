"""The stream to walk the dialogs in (tests/support/walk.py), with one real bot on each database in turn."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fsm_bot.config import DEFAULT_FLOWS
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from tests.support.people import enrol
from tests.support.person import Person
from tests.support.walk import STUDENTS, Stream, busier
from tests.support.week import seed


@pytest.fixture
def stream(sandbox: SandboxClient, database_url: str, start_bot: Callable[..., Bot]) -> Stream:
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
