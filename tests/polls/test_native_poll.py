"""A native VK poll attached to a broadcast reaches every recipient as the same poll."""

from __future__ import annotations

from collections.abc import Callable

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.support.broadcasts import group_of, report_of
from tests.support.people import enrolled
from tests.support.talk import press, say
from tests.support.waiting import wait_until

StartBot = Callable[..., Bot]
VK_POLL = {"type": "poll", "poll": {"id": 456, "owner_id": -123, "question": "Когда зачёт?", "anonymous": False}}


def test_a_broadcast_carries_a_native_vk_poll(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 2)
    say(sandbox, headman, "рассылка")
    sent = sandbox.send(headman, "Проголосуйте в опросе", attachments=[VK_POLL])
    [added] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"], timeout=15)
    assert added["text"].startswith("Добавлено сообщений: 1.")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    preview, confirm = press(sandbox, headman, options, "Далее", expect=3)[-2:]
    assert [a["type"] for a in preview["attachments"]] == ["poll"]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    for student in students:
        [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
        assert copy["text"] == "Проголосуйте в опросе"
        [poll] = copy["attachments"]
        assert poll["type"] == "poll"
        assert (poll["poll"]["owner_id"], poll["poll"]["id"]) == (-123, 456)
    wait_until(lambda: "Доставлено: 2" in report_of(sandbox, headman)["text"], what="the report")


def test_a_native_vk_poll_alone_is_named_in_the_report(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    say(sandbox, headman, "рассылка")
    sent = sandbox.send(headman, "", attachments=[VK_POLL])
    [added] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"], timeout=15)
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
    assert [a["type"] for a in copy["attachments"]] == ["poll"]
    assert report_of(sandbox, headman)["text"].startswith("📣 Рассылка №1 (ИВТ-101): «опрос VK»")
