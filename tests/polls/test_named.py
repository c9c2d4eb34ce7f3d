"""A named single-choice poll: students answer and change their minds, the author reads who chose what,
reminds only those who have not answered, and keeps the result as a spreadsheet."""

from __future__ import annotations

from collections.abc import Callable

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.support.broadcasts import group_of, report_of
from tests.support.people import enrolled
from tests.support.polls import labels, make_poll, report_reading, rows_of, vote, workbook_of
from tests.support.talk import bot_messages, bot_texts, press
from tests.support.waiting import settled

StartBot = Callable[..., Bot]
QUESTION = "Где проведём собрание группы?"
ANSWERS = ["Аудитория 301", "Актовый зал", "Онлайн"]


def test_a_named_poll_counts_each_answer_and_names_who_chose_it(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 4)
    stranger = enrolled(sandbox, bot, "Чужой", "Студент", group="ИВТ-102")

    confirm = make_poll(sandbox, headman, QUESTION, ANSWERS)
    preview = bot_messages(sandbox, headman)[-2]
    assert preview["text"] == f"{QUESTION}\n\n📊 Опрос: один вариант, именной"
    assert labels(preview) == ANSWERS
    assert confirm["text"].startswith("Сообщение получат 4 человека (ИВТ-101).")
    press(sandbox, headman, confirm, "Отправить", expect=2)

    copies = [sandbox.wait_for_messages(student, 1, timeout=20)[-1] for student in students]
    assert {copy["text"] for copy in copies} == {f"{QUESTION}\n\n📊 Опрос: один вариант, именной"}
    assert all(labels(copy) == ANSWERS for copy in copies)
    assert vote(sandbox, students[0], copies[0], "Аудитория 301") == (
        "Ваш ответ: «Аудитория 301». Передумаете — нажмите другой."
    )
    vote(sandbox, students[1], copies[1], "Актовый зал")
    vote(sandbox, students[2], copies[2], "Аудитория 301")
    # A change of mind replaces the answer: single choice.
    assert vote(sandbox, students[2], copies[2], "Онлайн") == "Ваш ответ: «Онлайн». Передумаете — нажмите другой."

    title = f"📣 Рассылка №1 (ИВТ-101): «{QUESTION}»\nЗапланировано: 4\nДоставлено: 4\n"
    report = report_reading(
        sandbox,
        headman,
        title + "📊 Опрос: один вариант, именной\n"
        "1. Аудитория 301 — 1: Студентов00 Имя00\n"
        "2. Актовый зал — 1: Студентов01 Имя01\n"
        "3. Онлайн — 1: Студентов02 Имя02\n"
        "Ответили: 3 из 4\n"
        "Не ответили (1): Студентов03 Имя03\n"
        "Доставка завершена.",
    )
    assert labels(report) == ["Напомнить", "Итоги в .xlsx", "Закрыть опрос"]

    # «Напомнить» reaches only the one who has not answered, with the answer buttons again.
    [told] = press(sandbox, headman, report, "Напомнить")
    assert told["text"] == "Опрос №1: напоминание отправлено 1 студенту."
    reminder = sandbox.wait_for_messages(students[3], 2, timeout=20)[-1]
    assert reminder["text"] == f"Напоминание: пожалуйста, ответьте на опрос «{QUESTION}»."
    assert labels(reminder) == ANSWERS
    settled(bot, sandbox)
    for answered in students[:3]:
        assert [text.startswith("Напоминание") for text in bot_texts(sandbox, answered)] == [False]
    assert vote(sandbox, students[3], reminder, "Актовый зал").startswith("Ваш ответ: «Актовый зал»")

    report = report_reading(
        sandbox,
        headman,
        title + "📊 Опрос: один вариант, именной\n"
        "1. Аудитория 301 — 1: Студентов00 Имя00\n"
        "2. Актовый зал — 2: Студентов01 Имя01, Студентов03 Имя03\n"
        "3. Онлайн — 1: Студентов02 Имя02\n"
        "Ответили: 4 из 4\n"
        "Доставка завершена.",
    )
    assert labels(report) == ["Итоги в .xlsx", "Закрыть опрос"]

    [document] = press(sandbox, headman, report, "Итоги в .xlsx")
    assert document["text"] == "Итоги опроса №1."
    workbook = workbook_of(document)
    assert workbook.sheetnames == ["Итоги", "Ответы"]
    assert rows_of(workbook["Итоги"]) == [
        (f"📊 Итоги опроса №1: «{QUESTION}»", None, None),
        ("📊 Опрос: один вариант, именной", None, None),
        (None, None, None),
        ("Вариант", "Голосов", "Кто выбрал"),
        ("Аудитория 301", 1, "Студентов00 Имя00"),
        ("Актовый зал", 2, "Студентов01 Имя01, Студентов03 Имя03"),
        ("Онлайн", 1, "Студентов02 Имя02"),
        (None, None, None),
        ("Ответили", 4, None),
        ("Получили", 4, None),
    ]
    assert rows_of(workbook["Ответы"]) == [
        ("Студент", "Ответ"),
        ("Студентов00 Имя00", "Аудитория 301"),
        ("Студентов01 Имя01", "Актовый зал"),
        ("Студентов02 Имя02", "Онлайн"),
        ("Студентов03 Имя03", "Актовый зал"),
    ]

    # Closed by hand: the author reads the result; a later press is told it is closed and changes nothing.
    [closed] = press(sandbox, headman, report_of(sandbox, headman), "Закрыть опрос")
    assert closed["text"].startswith(f"📊 Итоги опроса №1: «{QUESTION}»\n📊 Опрос: один вариант, именной\n")
    assert closed["text"].endswith("Ответили: 4 из 4\nОпрос закрыт.")
    assert vote(sandbox, students[0], copies[0], "Онлайн") == "Опрос закрыт: ответы больше не принимаются."
    report = report_reading(
        sandbox,
        headman,
        title + "📊 Опрос: один вариант, именной\n"
        "1. Аудитория 301 — 1: Студентов00 Имя00\n"
        "2. Актовый зал — 2: Студентов01 Имя01, Студентов03 Имя03\n"
        "3. Онлайн — 1: Студентов02 Имя02\n"
        "Ответили: 4 из 4\n"
        "Опрос закрыт.\n"
        "Доставка завершена.",
    )
    assert labels(report) == ["Итоги в .xlsx"]
    assert bot_messages(sandbox, stranger) == []  # ИВТ-102 was never asked
