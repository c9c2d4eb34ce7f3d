"""A poll with a deadline closes when it passes: the author gets the result once, whatever restarts, and a
later press is told the poll is closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from fsm_bot.storage.poll_models import Poll
from fsm_bot.storage.repositories import DialogRepository
from fsm_bot.storage.types import utcnow
from tests.support.broadcasts import group_of
from tests.support.people import enrolled
from tests.support.polls import labels, make_poll, vote
from tests.support.talk import bot_texts, press
from tests.support.waiting import settled

StartBot = Callable[..., Bot]
QUESTION = "Кто придёт на субботник?"


def test_the_deadline_closes_the_poll_and_the_author_gets_the_result_once(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 3)
    tomorrow = datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(days=1)
    confirm = make_poll(sandbox, headman, QUESTION, ["Приду", "Не смогу"], deadline="завтра 18:00")
    press(sandbox, headman, confirm, "Отправить", expect=2)
    kind = f"📊 Опрос: один вариант, именной, до {tomorrow:%d.%m} 18:00"
    copies = [sandbox.wait_for_messages(student, 1, timeout=20)[-1] for student in students]
    assert copies[0]["text"] == f"{QUESTION}\n\n{kind}"
    vote(sandbox, students[0], copies[0], "Приду")
    vote(sandbox, students[1], copies[1], "Не смогу")

    # Time passes: the deadline is now behind us (the bot's sweep looks every second in these tests).
    bot.database.transaction(lambda session: session.execute(update(Poll).values(closes_at=utcnow())))
    result = (
        f"📊 Итоги опроса №1: «{QUESTION}»\n{kind}\n"
        "1. Приду — 1: Студентов00 Имя00\n"
        "2. Не смогу — 1: Студентов01 Имя01\n"
        "Ответили: 2 из 3\n"
        "Не ответили (1): Студентов02 Имя02\n"
        "Опрос закрыт."
    )
    [told] = sandbox.wait_for_messages(headman, 1, predicate=lambda m: m["text"].startswith("📊 Итоги опроса"))
    assert told["text"] == result
    assert labels(told) == ["Итоги в .xlsx"]
    assert vote(sandbox, students[2], copies[2], "Приду") == "Опрос закрыт: ответы больше не принимаются."
    assert vote(sandbox, students[0], copies[0], "Не смогу") == "Опрос закрыт: ответы больше не принимаются."
    settled(bot, sandbox)

    # A restart (and its sweeps) sends nothing again.
    bot.stop()
    again = start_bot()
    settled(again, sandbox)
    assert [text for text in bot_texts(sandbox, headman) if text.startswith("📊 Итоги опроса")] == [result]


def test_a_deadline_that_passed_while_the_preview_waited_is_refused(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    group_of(sandbox, bot, 1)
    confirm = make_poll(sandbox, headman, QUESTION, ["Приду", "Не смогу"], deadline="завтра 18:00")

    def deadline_passes(session) -> None:  # type: ignore[no-untyped-def]
        dialog = DialogRepository(session, bot.community_id).load(headman, headman)
        assert dialog is not None
        dialog.data = {**dialog.data, "poll_until": (utcnow() - timedelta(minutes=1)).isoformat()}

    bot.database.transaction(deadline_passes)
    answers = press(sandbox, headman, confirm, "Отправить", expect=2)
    assert answers[0]["text"] == "Это время уже прошло: укажите срок в будущем."
    assert bot.database.transaction(lambda session: session.scalar(select(func.count()).select_from(Poll))) == 0
