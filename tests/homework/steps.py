"""What a leader does to give an assignment, and what people read, in the bot's own words."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from fsm_bot.sandbox.client import SandboxClient
from tests.support.talk import press, say
from tests.support.week import MOSCOW

FIZIKA = time(10, 45)  # tests/support/week.py: Физика every day at 10:45, subgroup 1's
WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


def day_words(day: date) -> str:
    """How the bot names a day (services/dates.py day_label)."""
    today = datetime.now(MOSCOW).date()
    return {0: "Сегодня", 1: "Завтра", -1: "Вчера"}.get((day - today).days) or f"{WEEKDAYS[day.weekday()]} {day:%d.%m}"


def when(moment: datetime) -> str:
    return f"{day_words(moment.date())} {moment:%H:%M}"


def next_fizika() -> datetime:
    now = datetime.now(MOSCOW)
    today = datetime.combine(now.date(), FIZIKA, MOSCOW)
    return today if today > now else today + timedelta(days=1)


def in_days(days: int, clock: time = time(18, 0)) -> datetime:
    return datetime.combine(datetime.now(MOSCOW).date() + timedelta(days=days), clock, MOSCOW)


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in (message.get("keyboard") or {}).get("buttons", []) for button in row]


def payload(message: dict, label: str) -> dict[str, Any]:
    [found] = [
        json.loads(button["action"]["payload"])
        for row in message["keyboard"]["buttons"]
        for button in row
        if button["action"]["label"] == label
    ]
    return found


def give(
    sandbox: SandboxClient,
    leader: int,
    subject: str,
    text: str,
    due: str | None,
    files: list[dict] | None = None,
    typed_subject: bool = False,
) -> list[dict]:
    """Through «новое задание» up to «Отправить?»; `due` None presses «к следующей паре». Returns the summary and
    the question."""
    [subject_question] = say(sandbox, leader, "новое задание")
    if typed_subject:
        [text_question] = say(sandbox, leader, subject)
    else:
        [text_question] = press(sandbox, leader, subject_question, subject)
    assert text_question["text"].startswith(f"{subject}: что задано?")
    sent = sandbox.send(leader, text, attachments=files or [])
    [due_question] = sandbox.wait_for_messages(leader, 1, since=sent["message_id"], timeout=15)
    assert due_question["text"].startswith("К какому сроку?")
    if due is None:
        [label] = [label for label in labels(due_question) if label.startswith("⏭ К следующей паре")]
        return press(sandbox, leader, due_question, label, expect=2)
    return say(sandbox, leader, due, expect=2)


def send(sandbox: SandboxClient, leader: int, confirm: dict) -> str:
    [done] = press(sandbox, leader, confirm, "Отправить")
    return done["text"]


def told(sandbox: SandboxClient, user: int, start: str, count: int = 1) -> list[dict]:
    """The messages starting with `start` that `user` got (waiting for `count` of them)."""
    return sandbox.wait_for_messages(user, count, lambda m: m["text"].startswith(start), timeout=15)
