"""«Следующий» survives kill -9: whoever is called is called exactly once, and nobody is skipped.

The call (who was called, the queue's count of calls) and its messages commit in the press's transaction; the
press itself waits in VK's long poll (or in the bot's inbox) until a restarted bot handles it. A press of a
button sent before a call is told apart by the count it carries, so pressing again after the restart, not
knowing whether the first press counted, calls the next one and no one twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from tests.queues.story import NAMES, announcement, message, open_queue, tap
from tests.support.bots import BotProcess, group_process
from tests.support.talk import ANSWER_TIMEOUT, bot_texts
from tests.support.week import seed

STALE = "Следующего уже вызвали, вот очередь сейчас."


@pytest.fixture
def queue_bot(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[tuple[BotProcess, int, list[int]]]:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]
    names = NAMES[:3]
    sexes = [2, 1, 2]  # VK's: Пётр and Илья male, Вера female («Вы следующая»)
    students = [sandbox.add_user(first, last, sex=sex)["id"] for (first, last), sex in zip(names, sexes, strict=True)]
    database = Database(database_url)

    def enrol(session) -> None:  # type: ignore[no-untyped-def]
        members = MemberRepository(session, sandbox.group_id)
        members.upsert_profiles(
            [MemberProfile(vk, first, last, sex) for vk, (first, last), sex in zip(students, names, sexes, strict=True)]
        )
        group = CommunityRepository(session).study_group(sandbox.group_id, "ИВТ-101")
        for vk in students:
            members.assign_group(vk, group.id, 1)
            member = members.get(vk)
            assert member is not None
            member.status, member.can_receive = MemberStatus.ACTIVE.value, True

    database.transaction(enrol)
    database.dispose()
    with group_process(sandbox, database_url, tmp_path, headman) as process:
        yield process, headman, students


def turns(sandbox: SandboxClient, user: int) -> list[str]:
    return [text for text in bot_texts(sandbox, user) if text.startswith(("Ваша очередь", "Вы следующ"))]


def wait_for_turns(sandbox: SandboxClient, user: int, expected: list[str]) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT * 2
    while turns(sandbox, user) != expected:
        assert time.monotonic() < deadline, f"{user} got {turns(sandbox, user)}, not {expected}"
        time.sleep(0.05)


def call_next(sandbox: SandboxClient, headman: int, managing: dict, name: str) -> None:
    """Press «Следующий» until it calls `name`: a button the crash left unedited first shows the queue as it is."""
    answers = [tap(sandbox, headman, message(sandbox, headman, managing["id"]), "Следующий")]
    if answers[-1] == STALE:
        answers.append(tap(sandbox, headman, message(sandbox, headman, managing["id"]), "Следующий"))
    assert answers[-1] == f"Вызываем: {name}", answers


def test_next_is_called_exactly_once_across_kill_9(
    sandbox: SandboxClient, queue_bot: tuple[BotProcess, int, list[int]]
) -> None:
    bot, headman, (first, second, third) = queue_bot
    bot.start()
    [managing, _] = open_queue(sandbox, headman)
    for student in (first, second, third):
        tap(sandbox, student, announcement(sandbox, student), "Встать в очередь")
    yours = "Ваша очередь: Общая пара. Подходите!"
    ready = "Вы следующий в очереди «Общая пара». Приготовьтесь."
    ready_f = "Вы следующая в очереди «Общая пара». Приготовьтесь."

    # Killed right as «Следующий» is pressed: handled before the kill or after the restart, never both.
    sandbox.press(headman, managing["id"], "Следующий")
    bot.kill()
    bot.start()
    wait_for_turns(sandbox, first, [yours])
    wait_for_turns(sandbox, second, [ready_f])

    # Killed right after a call was answered; pressed again after the restart, not knowing.
    call_next(sandbox, headman, managing, "Борисова В.")
    bot.kill()
    bot.start()
    call_next(sandbox, headman, managing, "Васильев И.")
    assert tap(sandbox, headman, message(sandbox, headman, managing["id"]), "Следующий") == "В очереди никого нет."

    wait_for_turns(sandbox, third, [ready, yours])
    assert turns(sandbox, first) == [yours]
    assert turns(sandbox, second) == [ready_f, yours]
