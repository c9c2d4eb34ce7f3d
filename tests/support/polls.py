"""Polls as a headman makes them through the broadcast dialog, and what students and the author then see."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import openpyxl
import requests

from fsm_bot.sandbox.client import SandboxClient
from tests.support.broadcasts import report_of
from tests.support.talk import press, say
from tests.support.waiting import wait_for, wait_until


def make_poll(
    sandbox: SandboxClient,
    headman: int,
    question: str,
    answers: list[str],
    *,
    multiple: bool = False,
    anonymous: bool = False,
    deadline: str | None = None,
    audience: str = "Моей группе (ИВТ-101)",
) -> dict:
    """Through the dialog by buttons, up to the confirmation question, which is returned; `audience` is how the
    recipients' button begins (a long group name is shortened on it)."""
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, question)
    [who] = press(sandbox, headman, added, "Готово")
    [label] = [
        b["action"]["label"]
        for row in who["keyboard"]["buttons"]
        for b in row
        if b["action"]["label"].startswith(audience)
    ]
    [options] = press(sandbox, headman, who, label)
    [ask] = press(sandbox, headman, options, "📊 Сделать опросом")
    assert ask["text"].startswith("Пришлите варианты ответа одним сообщением")
    [settings] = say(sandbox, headman, "\n".join(answers))
    if multiple:
        settings = toggle_setting(sandbox, headman, settings, "Выбор: один вариант")
    if anonymous:
        settings = toggle_setting(sandbox, headman, settings, "Ответы: именные")
    if deadline is not None:
        [asked] = press(sandbox, headman, settings, "Срок: нет")
        assert asked["text"].startswith("До какого времени принимать ответы?")
        [settings] = say(sandbox, headman, deadline)
    [options] = press(sandbox, headman, settings, "Готово")
    assert options["text"] == "Настройки рассылки:"
    return press(sandbox, headman, options, "Далее", expect=3)[-1]


def toggle_setting(sandbox: SandboxClient, headman: int, message: Mapping[str, Any], label: str) -> dict:
    before = len(sandbox.snackbars(headman))
    sandbox.press(headman, message["id"], label)
    wait_until(lambda: len(sandbox.snackbars(headman)) > before, what="the toggle's answer")
    [now] = [m for m in sandbox.messages(headman) if m["id"] == message["id"]]
    return now


def send_poll(sandbox: SandboxClient, headman: int, question: str, answers: list[str], **how: Any) -> None:
    confirm = make_poll(sandbox, headman, question, answers, **how)
    press(sandbox, headman, confirm, "Отправить", expect=2)


def vote(sandbox: SandboxClient, student: int, message: Mapping[str, Any], label: str) -> str:
    """The student presses an answer; returns the snackbar's text."""
    before = len(sandbox.snackbars(student))
    sandbox.press(student, message["id"], label)
    wait_until(lambda: len(sandbox.snackbars(student)) > before, what=f"the answer to {student}'s press")
    return str(sandbox.snackbars(student)[-1]["event_data"]["text"])


def labels(message: Mapping[str, Any]) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def report_reading(sandbox: SandboxClient, headman: int, expected: str) -> dict:
    """The author's report once it reads `expected` (it is edited a few seconds after each answer)."""
    return wait_for(
        lambda: report_of(sandbox, headman), lambda report: report["text"] == expected, "the report", timeout=20
    )


def workbook_of(document: Mapping[str, Any]) -> openpyxl.Workbook:
    [attachment] = document["attachments"]
    assert attachment["type"] == "doc" and attachment["doc"]["title"].endswith(".xlsx")
    return openpyxl.load_workbook(io.BytesIO(requests.get(attachment["doc"]["url"], timeout=10).content))


def rows_of(sheet: Any) -> list[tuple]:
    return [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
