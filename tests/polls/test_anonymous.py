"""An anonymous multiple-choice poll: answers toggle, the author reads only counts, in the report and the file,
and the bot's log names nobody's choice either."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.support.broadcasts import group_of
from tests.support.people import enrolled
from tests.support.polls import labels, report_reading, rows_of, send_poll, vote, workbook_of
from tests.support.talk import press

StartBot = Callable[..., Bot]
QUESTION = "Какие темы повторить перед экзаменом?"
ANSWERS = ["Интегралы", "Ряды", "Дифуры", "Пределы"]


def test_an_anonymous_poll_never_says_who_chose_what(
    sandbox: SandboxClient, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fsm_bot")
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 3)
    send_poll(sandbox, headman, QUESTION, ANSWERS, multiple=True, anonymous=True)

    copies = [sandbox.wait_for_messages(student, 1, timeout=20)[-1] for student in students]
    assert copies[0]["text"] == f"{QUESTION}\n\n📊 Опрос: можно несколько вариантов, анонимный"
    assert labels(copies[0]) == ANSWERS
    assert vote(sandbox, students[0], copies[0], "Интегралы") == "Ваш ответ: «Интегралы». Передумаете — нажмите другой."
    assert vote(sandbox, students[0], copies[0], "Ряды") == "Ваши ответы: «Интегралы», «Ряды»."
    vote(sandbox, students[1], copies[1], "Ряды")
    vote(sandbox, students[1], copies[1], "Пределы")
    # A second press of a chosen answer takes it back.
    assert vote(sandbox, students[1], copies[1], "Пределы") == "Ваш ответ: «Ряды». Передумаете — нажмите другой."
    vote(sandbox, students[2], copies[2], "Дифуры")
    assert vote(sandbox, students[2], copies[2], "Дифуры") == "Ответ снят."

    report = report_reading(
        sandbox,
        headman,
        f"📣 Рассылка №1 (ИВТ-101): «{QUESTION}»\nЗапланировано: 3\nДоставлено: 3\n"
        "📊 Опрос: можно несколько вариантов, анонимный\n"
        "1. Интегралы — 1\n"
        "2. Ряды — 2\n"
        "3. Дифуры — 0\n"
        "4. Пределы — 0\n"
        "Ответили: 2 из 3\n"
        "Не ответили (1): Студентов02 Имя02\n"
        "Доставка завершена.",
    )
    [document] = press(sandbox, headman, report, "Итоги в .xlsx")
    workbook = workbook_of(document)
    assert workbook.sheetnames == ["Итоги"]  # no sheet of who answered what
    assert rows_of(workbook["Итоги"]) == [
        (f"📊 Итоги опроса №1: «{QUESTION}»", None),
        ("📊 Опрос: можно несколько вариантов, анонимный", None),
        (None, None),
        ("Вариант", "Голосов"),
        ("Интегралы", 1),
        ("Ряды", 2),
        ("Дифуры", 0),
        ("Пределы", 0),
        (None, None),
        ("Ответили", 2),
        ("Получили", 3),
    ]
    [closed] = press(sandbox, headman, report, "Закрыть опрос")
    voters = ["Студентов00", "Студентов01"]
    assert not any(name in closed["text"] for name in voters)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("fsm_bot")]
    about_polls = [line for line in logged if re.search(r"\bpoll\b", line)]
    assert about_polls  # the log does speak of the poll...
    for line in about_polls:  # ...but never of who answered it
        assert not any(str(student) in line for student in students[:2]), line
        assert not any(name in line for name in voters), line
