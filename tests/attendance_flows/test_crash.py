"""A half-done marking survives kill -9: the draft lives in the dialog's data, committed with each press."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from tests.support import week as this_week
from tests.support.bots import BotProcess, group_process
from tests.support.talk import press, say, toggle
from tests.support.week import seed


@pytest.fixture
def marking(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[tuple[BotProcess, int]]:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    names = [("Пётр", "Алексеев"), ("Вера", "Борисова"), ("Илья", "Васильев")]
    students = [sandbox.add_user(first, last)["id"] for first, last in names]
    database = Database(database_url)

    def enrol(session) -> None:  # type: ignore[no-untyped-def]
        members = MemberRepository(session, sandbox.group_id)
        members.upsert_profiles(
            [MemberProfile(vk, first, last) for vk, (first, last) in zip(students, names, strict=True)]
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
        yield process, headman


def test_a_half_done_marking_continues_after_kill_9(sandbox: SandboxClient, marking: tuple[BotProcess, int]) -> None:
    bot, headman = marking
    bot.start()
    [day_question] = say(sandbox, headman, "учёт прогулов", timeout=30)
    [lesson_question] = press(sandbox, headman, day_question, "Сегодня")
    [marks] = press(sandbox, headman, lesson_question, "09:00 Общая пара")
    marks = toggle(sandbox, headman, marks, "✅ Алексеев П.")
    marks = toggle(sandbox, headman, marks, "✅ Васильев И.")
    assert "Отсутствуют: 2 из 4" in marks["text"]
    bot.kill()

    bot.start()
    [reason] = press(sandbox, headman, marks, "Готово (2)")  # the same message, after the restart
    assert reason["text"].startswith("Алексеев Пётр — причина пропуска?")
    [confirm] = press(sandbox, headman, reason, "Остальным (2) — «н»")
    assert "• Алексеев Пётр — н\n• Васильев Илья — н" in confirm["text"]
    [saved] = press(sandbox, headman, confirm, "Сохранить")
    assert saved["text"].startswith(f"Сохранено: {this_week.TODAY:%d.%m} 09:00 Общая пара, отсутствовали 2.")
