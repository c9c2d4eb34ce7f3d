"""Issue 20, point 3a: every first step shows a way back and a way out, «помощь» names the words that work
anywhere and explains a registration step, and leaving unsaved work asks first."""

from __future__ import annotations

import pytest

from fsm_bot.config import DEFAULT_FLOWS
from fsm_bot.storage.repositories.dialogs import IDLE
from tests.support.bots import StartBot
from tests.support.person import Outcome, Person, buttons_of
from tests.support.walk import LEAVE_NO, LEAVE_YES, Stream, to_attendance_confirm

MENU = "Главное меню. Выберите действие:"  # menu.title in fsm_bot/locales/ru.yaml
CANCELLED = "Действие отменено."  # dialog.cancelled
BROADCAST_QUESTION = (
    "Пришлите сообщение для рассылки: текст, фото, документы или пересланные сообщения. Можно несколько "
    "сообщений подряд. Когда всё готово, нажмите «Готово»."
)
DRAFT_WARNING = "Черновик рассылки будет удалён. Выйти?"
GLOBAL_WORDS = (
    "\nВ любой момент можно написать или нажать:\n• «отмена» — прервать начатое действие\n"
    "• «назад» — вернуться на шаг назад\n• «меню» — главное меню"
)


def rows(outcome: Outcome) -> list[list[str]]:
    """The button labels under the last message, row by row."""
    keyboard = outcome.messages[-1].get("keyboard") or {}
    return [[button["action"]["label"] for button in row] for row in keyboard.get("buttons", [])]


FIRST_STEPS = [
    ("broadcast", "headman", "рассылка", BROADCAST_QUESTION, [["Готово"], ["Назад", "Отмена"]]),
    (
        "absence_notice",
        "student",
        "пропущу",
        "Когда вас не будет? Выберите или напишите дату или период, например 03.12 или 03.12-05.12.",
        [["Сегодня", "Завтра"], ["Назад", "Отмена"]],
    ),
    (
        "timetable_change",
        "headman",
        "изменить расписание",
        "Какой день? Выберите или напишите дату (например, 03.12).",
        None,  # the days with lessons, then the last row
    ),
    (
        "attendance",
        "headman",
        "учёт прогулов",
        "Какой день отмечаем? Выберите или напишите дату (например, 30.11).",
        None,
    ),
]


@pytest.mark.parametrize(
    ("flow", "who", "trigger", "question", "buttons"), FIRST_STEPS, ids=[step[0] for step in FIRST_STEPS]
)
def test_a_first_step_has_buttons_back_to_the_menu_and_out(
    stream: Stream, flow: str, who: str, trigger: str, question: str, buttons: list[list[str]] | None
) -> None:
    person = stream.person(who)
    asked = person.say(trigger)
    assert asked.texts[-1] == question
    if buttons is not None:
        assert rows(asked) == buttons
    assert rows(asked)[-1] == ["Назад", "Отмена"]
    assert len(buttons_of(asked.messages[-1])) <= 10  # VK's most under one message

    cancelled = person.press("Отмена")
    assert cancelled.texts == [CANCELLED]
    assert person.dialog() == (IDLE, IDLE)

    person.say(trigger)
    back = person.press("Назад")
    assert back.texts == [MENU]  # the screen before the first step
    assert person.dialog() == (IDLE, IDLE)


def test_help_names_the_words_that_work_anywhere(stream: Stream) -> None:
    student = stream.person("student")
    text = student.say("помощь").texts[-1]
    assert text.startswith("Что я умею:\n")
    assert text.endswith(GLOBAL_WORDS)


def test_help_in_the_middle_of_registration_explains_the_step_and_asks_again(stream: Stream) -> None:
    newcomer = stream.newcomer("Новая", "Студентка")
    asked = newcomer.say("регистрация")
    question = asked.texts[-1]
    helped = newcomer.say("помощь")
    assert helped.texts == [
        "Это регистрация: я спрашиваю, из какой вы учебной группы, чтобы присылать вам её расписание и сообщения "
        "старосты. Нажмите кнопку своей группы или напишите её название. Передумали — напишите «отмена».",
        question,
    ]
    assert rows(helped) == rows(asked)
    assert newcomer.dialog() == ("onboarding", "group")

    newcomer.press("ИВТ-101")
    helped = newcomer.say("Помощь")
    assert helped.texts[0] == (
        "Это регистрация: проверьте, как вас запишут в журнал группы. Всё верно — нажмите «Да, верно», иначе — "
        "«Исправить» и напишите фамилию и имя сами. «назад» — выбрать другую группу, «отмена» — прервать регистрацию."
    )
    assert helped.texts[1] == "Группа ИВТ-101. В журнале вы будете записаны как «Студентка Новая». Верно?"
    assert newcomer.dialog() == ("onboarding", "name")


def draft(headman: Person) -> None:
    headman.say("меню")  # the main menu's keyboard, to press its buttons later
    headman.say("рассылка")
    added = headman.say("Завтра пар нет")
    assert added.texts == ["Добавлено сообщений: 1. Пришлите ещё или нажмите «Готово»."]
    assert rows(added) == [["Готово"], ["Назад", "Отмена"]]


def test_another_menu_item_in_the_middle_of_a_broadcast_asks_before_dropping_the_draft(stream: Stream) -> None:
    headman = stream.headman
    draft(headman)
    asked = headman.press("Помощь")  # the main menu's button
    assert asked.texts == [DRAFT_WARNING]
    assert rows(asked) == [[LEAVE_YES, LEAVE_NO]]
    assert headman.dialog() == ("broadcast", "compose")

    stayed = headman.press(LEAVE_NO)
    assert stayed.texts == [BROADCAST_QUESTION]  # the step asked again, the draft kept
    audience = headman.press("Готово")
    assert audience.texts[-1] == "Кому отправить?"
    assert headman.dialog() == ("broadcast", "audience")

    headman.press("Помощь")
    left = headman.press(LEAVE_YES)
    assert left.texts[-1].startswith("Что я умею:\n")  # what they had pressed
    assert headman.dialog() == (IDLE, IDLE)


def test_cancel_in_the_middle_of_a_broadcast_asks_first(stream: Stream) -> None:
    headman = stream.headman
    draft(headman)
    asked = headman.say("отмена")
    assert asked.texts == [DRAFT_WARNING]
    back = headman.say("назад")  # the way back: stay
    assert back.texts == [BROADCAST_QUESTION]
    assert headman.dialog() == ("broadcast", "compose")

    headman.say("отмена")
    left = headman.press(LEAVE_YES)
    assert left.texts == [CANCELLED]
    assert headman.dialog() == (IDLE, IDLE)
    assert headman.say("отмена").texts == ["Сейчас нечего отменять."]

    # Nothing written yet: nothing to lose, nothing asked.
    headman.say("рассылка")
    assert headman.say("отмена").texts == [CANCELLED]


def test_the_question_is_a_step_of_its_own(stream: Stream) -> None:
    """Its buttons are the dialog's now: the step's old ones are stale, and «отмена» again leaves."""
    headman = stream.headman
    draft(headman)
    headman.say("меню")
    assert headman.press("Готово").texts == ["Эта кнопка устарела."]
    assert headman.say("Что-то ещё").texts == [DRAFT_WARNING]  # asked again
    assert headman.say("отмена").texts == [CANCELLED]
    assert headman.dialog() == (IDLE, IDLE)


def test_the_question_outlives_a_restart(stream: Stream, start_bot: StartBot) -> None:
    headman = stream.headman
    draft(headman)
    assert headman.say("отмена").texts == [DRAFT_WARNING]
    stream.bot.stop()
    groups = {"ИВТ-101": {"headman": headman.vk_id, "deputies": [stream.deputy.vk_id]}}
    bot = start_bot(flows=DEFAULT_FLOWS, stream={"groups": groups})
    headman = Person(stream.sandbox, bot, headman.vk_id, "староста")

    stayed = headman.press(LEAVE_NO)
    assert stayed.texts == [BROADCAST_QUESTION]
    assert headman.press("Готово").texts[-1] == "Кому отправить?"  # the draft is still there


def test_the_menu_in_the_middle_of_marking_asks_before_dropping_the_marks(stream: Stream) -> None:
    headman = stream.headman
    to_attendance_confirm(headman)

    asked = headman.say("меню")
    assert asked.texts == ["Отметки ещё не сохранены и будут потеряны. Выйти?"]
    assert rows(asked) == [[LEAVE_YES, LEAVE_NO]]
    assert headman.press(LEAVE_NO).texts[-1].endswith("Сохранить?")  # the confirmation again, marks kept
    assert headman.dialog() == ("attendance", "confirm")

    headman.say("меню")
    assert headman.press(LEAVE_YES).texts == [MENU]
    assert headman.dialog() == (IDLE, IDLE)
