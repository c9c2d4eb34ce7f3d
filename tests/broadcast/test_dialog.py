"""A headman broadcasts to the group; students get it personally and acknowledge it."""

from __future__ import annotations

import time
from collections.abc import Callable

from fsm_bot.app import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.engine.test_dialogs import enrolled, press, say

StartBot = Callable[..., Bot]


def bot_messages(sandbox: SandboxClient, user: int) -> list[dict]:
    return [m for m in sandbox.messages(user) if m["from"] == "bot"]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def report_of(sandbox: SandboxClient, sender: int) -> dict:
    """The sender's (latest) report message, as it reads now."""
    return [m for m in bot_messages(sandbox, sender) if m["text"].startswith("📣 Рассылка №")][-1]


def group_of(sandbox: SandboxClient, bot: Bot, size: int, closed: int = 0) -> list[int]:
    students = [enrolled(sandbox, bot, f"Имя{i:02d}", f"Студентов{i:02d}") for i in range(size)]
    for student in students[:closed]:
        sandbox.update_user(student, allow_messages=False)
    for student in students[closed:]:
        sandbox.update_user(student, allow_messages=True)
    return students


def compose_and_send(sandbox: SandboxClient, headman: int, text: str, audience: str = "Моей группе (ИВТ-101)") -> dict:
    """Through the dialog by buttons; returns the confirmation question."""
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, text)
    assert added["text"].startswith("Добавлено сообщений: 1.")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, audience)
    answers = press(sandbox, headman, options, "Далее", expect=3)
    return answers[-1]


def test_a_headman_broadcasts_and_students_acknowledge(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    sandbox.update_user(headman, allow_messages=True)
    students = group_of(sandbox, bot, 12, closed=1)
    closed = students[0]
    confirm = compose_and_send(sandbox, headman, "Экзамен перенесли в 301")
    assert confirm["text"].startswith("Получателей: 12 (ИВТ-101).")
    assert "Студентов00 Имя00" in confirm["text"]  # named: has not allowed messages
    preview = bot_messages(sandbox, headman)[-2]
    assert preview["text"] == "Экзамен перенесли в 301"
    assert preview["keyboard"]["buttons"][0][0]["action"]["label"] == "✅ Ознакомлен"

    press(sandbox, headman, confirm, "Отправить", expect=2)
    for student in students[1:]:
        [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
        assert copy["text"] == "Экзамен перенесли в 301"
        assert copy["keyboard"]["inline"] and copy["keyboard"]["buttons"][0][0]["action"]["type"] == "callback"
    assert bot_messages(sandbox, closed) == []

    report = report_of(sandbox, headman)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], what="the report completes")
    current = report_of(sandbox, headman)
    assert "Запланировано: 12" in current["text"] and "Доставлено: 11" in current["text"]
    assert "Не могут получить (1): Студентов00 Имя00" in current["text"]
    assert "Ознакомились: 0 из 11" in current["text"]

    reader = students[3]
    copy = bot_messages(sandbox, reader)[-1]
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(reader)) == 1, what="snackbar")
    assert sandbox.snackbars(reader)[0]["event_data"]["text"] == "Спасибо, отмечено!"
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(reader)) == 2, what="second snackbar")
    assert sandbox.snackbars(reader)[1]["event_data"]["text"] == "Вы уже отметили это сообщение."
    wait_until(lambda: "Ознакомились: 1 из 11" in report_of(sandbox, headman)["text"], what="the live counter")
    current = report_of(sandbox, headman)
    assert current["id"] == report["id"]  # the same message, edited
    [unread] = press(sandbox, headman, current, "Кто не прочитал")
    assert unread["text"].startswith("Не нажали «Ознакомлен» в рассылке №")
    assert "(10)" in unread["text"] and "Студентов03" not in unread["text"]
