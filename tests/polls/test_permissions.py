"""Who may answer and who may read: a student of another group sees nothing of the poll, and forged buttons
(another poll, an answer that does not exist, the author's buttons) are refused politely, counting nothing."""

from __future__ import annotations

import json
from collections.abc import Callable

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.support.broadcasts import group_of, report_of
from tests.support.people import enrolled
from tests.support.polls import report_reading, send_poll, vote
from tests.support.talk import bot_messages

StartBot = Callable[..., Bot]
QUESTION = "Переносим консультацию на среду?"


def forged(sandbox: SandboxClient, user: int, payload: dict) -> str:
    """A message carrying a payload no button of the bot gave this person; the bot's one answer."""
    sent = sandbox.send(user, "Да", payload=json.dumps(payload))
    [answer] = sandbox.wait_for_messages(user, 1, since=sent["message_id"], timeout=15)
    return str(answer["text"])


def test_another_group_sees_nothing_and_forged_answers_are_refused(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    stranger = enrolled(sandbox, bot, "Пётр", "Чужой", group="ИВТ-102")
    other_headman = enrolled(sandbox, bot, "Олег", "Другой", role=Role.HEADMAN, group="ИВТ-102")
    send_poll(sandbox, headman, QUESTION, ["Да", "Нет"])
    [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
    vote(sandbox, student, copy, "Нет")

    assert forged(sandbox, stranger, {"c": "poll_vote", "b": [1, 0]}) == "Этот опрос был не для вас."
    assert forged(sandbox, student, {"c": "poll_vote", "b": [1, 7]}) == "Такого варианта в этом опросе нет."
    assert forged(sandbox, student, {"c": "poll_vote", "b": [999, 0]}) == "Этот опрос удалён."
    assert forged(sandbox, student, {"c": "poll_vote", "b": ["1", "x"]}) == "Этот опрос удалён."
    # The author's buttons: a student is no leader, another group's headman is not the author.
    assert forged(sandbox, student, {"c": "poll_remind", "b": "1"}).startswith("Эта команда доступна только")
    for command in ("poll_remind", "poll_export", "poll_close"):
        answer = forged(sandbox, other_headman, {"c": command, "b": "1"})
        assert answer == "Это не ваша рассылка, или её больше нет.", command

    report_reading(
        sandbox,
        headman,
        f"📣 Рассылка №1 (ИВТ-101): «{QUESTION}»\nЗапланировано: 1\nДоставлено: 1\n"
        "📊 Опрос: один вариант, именной\n"
        "1. Да — 0\n"
        "2. Нет — 1: Студентов00 Имя00\n"
        "Ответили: 1 из 1\n"
        "Доставка завершена.",
    )
    assert "Опрос закрыт." not in report_of(sandbox, headman)["text"]
    # The stranger and the other headman were told only that it is not theirs: no copy, no question, no tally.
    assert [m["text"] for m in bot_messages(sandbox, stranger)] == ["Этот опрос был не для вас."]
    assert not any(QUESTION in m["text"] for m in bot_messages(sandbox, other_headman))
