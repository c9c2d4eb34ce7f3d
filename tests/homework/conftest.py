"""Two groups through the sandbox: ИВТ-101 (a timetable, its headman, deputy and two students) and ИВТ-102
(one student), with the real bot on each database backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from tests.support.people import enrol
from tests.support.week import seed, wait_out_midnight

StartBot = Callable[..., Bot]


@dataclass
class Groups:
    bot: Bot
    headman: int
    deputy: int
    first: int  # Пётр, ИВТ-101 subgroup 1
    second: int  # Вера, ИВТ-101 subgroup 2
    other: int  # Олег, ИВТ-102
    settings: dict

    @property
    def told(self) -> list[int]:
        """Whom a headman's assignment reaches: the rest of ИВТ-101."""
        return [self.deputy, self.first, self.second]


@pytest.fixture
def groups(sandbox: SandboxClient, database_url: str, start_bot: StartBot) -> Groups:
    wait_out_midnight()  # «Сегодня»/«Завтра» in the answers are computed here before they are asked
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]
    deputy = sandbox.add_user("Мария", "Иванова", sex=1)["id"]
    first = sandbox.add_user("Пётр", "Алексеев")["id"]
    second = sandbox.add_user("Вера", "Борисова")["id"]
    other = sandbox.add_user("Олег", "Громов")["id"]
    settings = {"stream": {"groups": {"ИВТ-101": {"headman": headman, "deputies": [deputy]}}}}
    bot = start_bot(**settings)
    enrol(bot, first, 1, name=("Пётр", "Алексеев"))
    enrol(bot, second, 2, name=("Вера", "Борисова"))
    enrol(bot, other, None, group="ИВТ-102", name=("Олег", "Громов"))
    return Groups(bot, headman, deputy, first, second, other, settings)
