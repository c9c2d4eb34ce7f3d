"""The stream of the queue stories: ИВТ-101 with its headman and five students, ИВТ-102 with one student,
and what they do with a queue's buttons."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.queue_models import QueueEntry
from tests.support.talk import ANSWER_TIMEOUT, press, say

NAMES = [("Пётр", "Алексеев"), ("Вера", "Борисова"), ("Илья", "Васильев"), ("Олег", "Громов"), ("Нина", "Дёмина")]
WHEN = "Сегодня 00:00–23:59"


@dataclass
class Group:
    bot: Bot
    headman: int
    students: list[int]
    outsider: int  # a student of ИВТ-102


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in (message.get("keyboard") or {}).get("buttons", []) for button in row]


def payload(message: dict, label: str) -> dict:
    [found] = [
        button["action"]["payload"]
        for row in message["keyboard"]["buttons"]
        for button in row
        if button["action"]["label"] == label
    ]
    return json.loads(found) if isinstance(found, str) else dict(found)


def message(sandbox: SandboxClient, user: int, message_id: int) -> dict:
    """The message as it is now (a press may have edited it)."""
    [now] = [m for m in sandbox.messages(user) if m["id"] == message_id]
    return now


def tap(sandbox: SandboxClient, user: int, pressed: dict, label: str) -> str:
    """Press a callback button; the snackbar it was answered with."""
    before = len(sandbox.snackbars(user))
    sandbox.press(user, pressed["id"], label)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while len(sandbox.snackbars(user)) == before:
        assert time.monotonic() < deadline, f"no snackbar for «{label}»"
        time.sleep(0.05)
    return str(sandbox.snackbars(user)[-1]["event_data"]["text"])


def open_queue(sandbox: SandboxClient, headman: int, window: str = "00:00-23:59", helper: str = "") -> list[dict]:
    """«открыть очередь» for «Общая пара» up to «Открыть очередь»: the headman's queue message and the count."""
    [subject] = say(sandbox, headman, "открыть очередь")
    press(sandbox, headman, subject, "Общая пара")
    [who] = say(sandbox, headman, window)
    if helper:
        [confirm] = say(sandbox, headman, helper)
    else:
        [confirm] = press(sandbox, headman, who, "Без помощника")
    return press(sandbox, headman, confirm, "Открыть очередь", expect=2)


def announcement(sandbox: SandboxClient, user: int) -> dict:
    """The latest message with «Встать в очередь» this person got."""
    found = sandbox.wait_for_messages(user, 1, lambda m: "Встать в очередь" in labels(m), timeout=ANSWER_TIMEOUT)
    return found[-1]


def waiting_names(bot: Bot, queue_id: int) -> list[str]:
    """Who waits in the queue, in order, as the database has it."""

    def read(session) -> list[str]:  # type: ignore[no-untyped-def]
        from fsm_bot.storage.models import Member

        rows = session.query(QueueEntry, Member).join(Member, Member.id == QueueEntry.member_id)
        rows = rows.filter(QueueEntry.queue_id == queue_id, QueueEntry.status == "waiting").order_by(QueueEntry.place)
        return [member.last_name for _, member in rows]

    return bot.database.transaction(read)
