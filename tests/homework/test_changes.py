"""A leader changes an assignment's text or due time, or cancels it: everyone who was told hears of it,
and nobody else (a student who joined later was never told)."""

from __future__ import annotations

from datetime import time

from fsm_bot.sandbox.client import SandboxClient
from tests.homework.conftest import Groups
from tests.homework.steps import give, in_days, labels, send, told, when
from tests.support.people import enrol
from tests.support.talk import bot_texts, press, say
from tests.support.waiting import settled


def open_change(sandbox: SandboxClient, leader: int) -> dict:
    """«задания» -> «✏️ Изменить» on the first assignment: the question of what to change."""
    _, item = say(sandbox, leader, "задания", expect=2)
    [question] = press(sandbox, leader, item, "✏️ Изменить")
    assert question["text"].endswith("Что изменить? Все, кому пришло задание, узнают об изменении.")
    assert labels(question) == ["Текст", "Срок", "Отменить задание", "Назад", "Отмена"]
    return question


def test_edits_and_the_cancellation_reach_those_who_were_told(sandbox: SandboxClient, groups: Groups) -> None:
    bot = groups.bot
    due = in_days(2)
    _, question = give(sandbox, groups.headman, "Физика", "Задачи 1–5", f"{due:%d.%m} 18:00")
    send(sandbox, groups.headman, question)
    told(sandbox, groups.first, "📚 Новое задание")
    latecomer = sandbox.add_user("Нина", "Дёмина")["id"]
    enrol(bot, latecomer, 1, name=("Нина", "Дёмина"))  # joined after: sees it in «задания», was not told

    [ask_text] = press(sandbox, groups.headman, open_change(sandbox, groups.headman), "Текст")
    assert ask_text["text"] == "Новый текст задания:"
    [saved] = say(sandbox, groups.headman, "Задачи 1–7")
    assert saved["text"] == "Сохранено, об изменении узнали 3 человека."
    for person in groups.told:
        [notice] = told(sandbox, person, "✏️")
        assert notice["text"] == f"✏️ Изменено задание по предмету Физика (срок: {when(due)}):\nЗадачи 1–7"

    later = in_days(3, time(12, 0))
    [ask_due] = press(sandbox, groups.headman, open_change(sandbox, groups.headman), "Срок")
    assert ask_due["text"].startswith("К какому сроку?")
    [saved] = say(sandbox, groups.headman, f"{later:%d.%m} 12:00")
    assert saved["text"] == "Сохранено, об изменении узнали 3 человека."
    for person in groups.told:
        [notice] = told(sandbox, person, "⏰")
        assert notice["text"] == f"⏰ Новый срок задания по предмету Физика: {when(later)} (был {when(due)})."
    _, item = say(sandbox, latecomer, "задания", expect=2)
    assert item["text"] == f"📌 Физика · срок: {when(later)}\nЗадачи 1–7"

    [ask_cancel] = press(sandbox, groups.headman, open_change(sandbox, groups.headman), "Отменить задание")
    assert ask_cancel["text"] == "Отменить задание по предмету Физика?"
    [cancelled] = press(sandbox, groups.headman, ask_cancel, "Да, отменить")
    assert cancelled["text"] == "Задание отменено, об этом узнали 3 человека."
    for person in groups.told:
        [notice] = told(sandbox, person, "❌")
        assert notice["text"] == f"❌ Задание по предмету Физика (срок: {when(later)}) отменено."
    [nothing] = say(sandbox, groups.first, "задания")
    assert nothing["text"] == "Заданий с будущим сроком нет."
    settled(bot, sandbox)
    assert [text[:1] for text in bot_texts(sandbox, latecomer) if text[:1] in "✏⏰❌"] == []
    assert not [text for text in bot_texts(sandbox, groups.other) if "Физика" in text]


def test_an_old_change_button_of_a_cancelled_assignment_is_refused(sandbox: SandboxClient, groups: Groups) -> None:
    _, question = give(sandbox, groups.headman, "Химия", "Лабораторная 2", f"{in_days(2):%d.%m} 18:00")
    send(sandbox, groups.headman, question)
    _, item = say(sandbox, groups.headman, "задания", expect=2)
    [ask_cancel] = press(sandbox, groups.headman, open_change(sandbox, groups.headman), "Отменить задание")
    press(sandbox, groups.headman, ask_cancel, "Да, отменить")
    [refused] = press(sandbox, groups.headman, item, "✏️ Изменить")  # the list shown before the cancellation
    assert refused["text"] == "Это задание не вашей группы или уже отменено."
    [refused] = press(sandbox, groups.headman, item, "✅ Сделано")
    assert refused["text"] == "Это задание не вашей группы или уже отменено."
