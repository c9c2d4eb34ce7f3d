"""Each person reads their own language: their VK app's (client_info.lang_id) until they choose one with
«язык», which is remembered; the settings' `locale` for everyone else."""

from __future__ import annotations

from fsm_bot.sandbox.client import SandboxClient
from tests.support.bots import StartBot
from tests.support.people import enrolled, member
from tests.support.talk import press, say

ENGLISH_APP, RUSSIAN_APP = 3, 0


def _menu_labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def test_an_english_app_is_answered_in_english_and_a_choice_is_kept(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot()
    kate = enrolled(sandbox, bot, "Kate", "Smith")
    sandbox.update_user(kate, lang_id=ENGLISH_APP)

    [help_text] = say(sandbox, kate, "help")
    lines = help_text["text"].split("\n")
    assert lines[0] == "Here's what I can do:"
    assert "• “timetable”, “schedule”, “classes” — timetable for today, tomorrow, the week; a calendar file" in lines
    assert help_text["text"].endswith(
        "At any moment you can type or press:\n• “cancel” — stop what you started\n• “back” — go one step back\n"
        "• “menu” — the main menu"
    )
    assert [message["text"] for message in say(sandbox, kate, "schedule")] == [
        "The timetable for group ИВТ-101 hasn't been uploaded yet. The group leader can send it to the bot as a "
        ".yaml or .ics file (“upload timetable”)."
    ]
    assert "🌐 Language" in _menu_labels(help_text)
    assert member(bot, kate).app_locale == "en"  # type: ignore[union-attr]

    [question] = say(sandbox, kate, "language")
    assert question["text"] == "Which language should I write to you in? Now: English."
    assert [b["action"]["label"] for row in question["keyboard"]["buttons"] for b in row] == [
        "Русский",
        "English",
        "As in my VK app",
        "Back",
        "Cancel",
    ]
    [done] = press(sandbox, kate, question, "Русский")
    assert done["text"] == "Готово: теперь я пишу вам по-русски."
    assert "🌐 Язык" in _menu_labels(done)

    # Her app still says English; her choice wins, and is kept in the database.
    assert say(sandbox, kate, "помощь")[-1]["text"].startswith("Что я умею:\n")
    assert member(bot, kate).locale == "ru"  # type: ignore[union-attr]

    [question] = say(sandbox, kate, "язык")
    assert question["text"] == "На каком языке вам писать? Сейчас — русский."
    [done] = press(sandbox, kate, question, "Как в приложении VK")
    assert done["text"] == "Done: I write to you in your VK app's language."
    assert say(sandbox, kate, "help")[-1]["text"].startswith("Here's what I can do:\n")


def test_a_russian_app_or_none_reads_the_default_and_typing_instead_of_choosing_is_answered(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot()
    ivan = enrolled(sandbox, bot, "Иван", "Петров")
    sandbox.update_user(ivan, lang_id=RUSSIAN_APP)
    assert say(sandbox, ivan, "help")[-1]["text"].startswith("Что я умею:\n")
    say(sandbox, ivan, "язык")
    assert [message["text"] for message in say(sandbox, ivan, "немецкий", expect=2)] == [
        "Выберите язык кнопкой под сообщением.",
        "На каком языке вам писать? Сейчас — русский.",
    ]
    assert say(sandbox, ivan, "отмена")[-1]["text"] == "Действие отменено."
    assert member(bot, ivan).locale is None  # type: ignore[union-attr]


def test_a_newcomer_and_the_headman_each_read_the_request_in_their_own_language(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]
    start_bot(stream={"auto_approve": False, "groups": {"ИВТ-101": {"headman": headman}, "ИВТ-102": {}}})
    newcomer = sandbox.add_user("Oliver", "Brown", lang_id=ENGLISH_APP)["id"]
    [question] = say(sandbox, newcomer, "registration")
    assert question["text"] == "Hello! I'm your cohort's bot. Which group are you in?"
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    assert confirm["text"] == "Group ИВТ-101. You'll be listed in the register as “Brown Oliver”. Is that right?"
    [sent] = press(sandbox, newcomer, confirm, "Yes")
    assert sent["text"] == "Request sent to the group leader of ИВТ-101. I'll let you know when they approve it."
    request = sandbox.wait_for_messages(headman, 1, predicate=lambda m: "Заявка в группу ИВТ-101" in m["text"])[-1]
    assert request["text"] == f"Заявка в группу ИВТ-101: Brown Oliver (vk.com/id{newcomer}). Подтвердить?"
    press(sandbox, headman, request, "Подтвердить")
    welcome = sandbox.wait_for_messages(newcomer, 1, predicate=lambda m: m["text"].startswith("Your group"))[-1]
    assert welcome["text"] == (
        "Your group leader approved you: you're in group ИВТ-101. Type “help” to see the commands."
    )


def test_the_settings_locale_is_for_those_whose_app_language_the_bot_does_not_speak(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot(locale="en")
    taras = enrolled(sandbox, bot, "Тарас", "Шевченко")
    sandbox.update_user(taras, lang_id=1)  # VK's Ukrainian: not one of the bot's languages
    assert say(sandbox, taras, "help")[-1]["text"].startswith("Here's what I can do:\n")
    ivan = enrolled(sandbox, bot, "Иван", "Петров")  # the sandbox's app language is Russian by default
    assert say(sandbox, ivan, "помощь")[-1]["text"].startswith("Что я умею:\n")
