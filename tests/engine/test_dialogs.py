"""Dialogs as people live them: steps, buttons, global words, mistakes, and a crowd at once."""

from __future__ import annotations

import threading
import time

import pytest

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.repositories import DialogRepository
from tests.support.bots import StartBot
from tests.support.people import enrolled
from tests.support.talk import dialog_of, press, say
from tests.support.waiting import settled


def test_a_three_step_dialog_with_buttons(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    assert say(sandbox, anna, "Опрос")[-1]["text"] == "Как вас зовут?"
    assert say(sandbox, anna, "Анна")[-1]["text"] == "Сколько вам лет?"
    assert say(sandbox, anna, "двадцать")[-1]["text"] == "Нужно число."
    [question] = say(sandbox, anna, "20")
    assert question["text"] == "Анна, 20. Верно?"
    assert [button["action"]["label"] for button in question["keyboard"]["buttons"][0]] == ["Да", "Изменить", "Ок"]
    [thanks] = press(sandbox, anna, question, "Да")
    assert thanks["text"] == "Спасибо, Анна!"
    assert thanks["keyboard"] is not None and not thanks["keyboard"]["inline"]  # the main menu is back
    dialog = dialog_of(bot, anna)
    assert dialog is not None and dialog.flow == ""


def test_a_condition_keeps_the_dialog_where_it_is(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    pupil = enrolled(sandbox, bot, "Петя", "Юный")
    say(sandbox, pupil, "опрос")
    say(sandbox, pupil, "Петя")
    assert say(sandbox, pupil, "12")[-1]["text"] == "Опрос для тех, кому 16 и больше."
    dialog = dialog_of(bot, pupil)
    assert dialog is not None and dialog.state == "age"


def test_an_outdated_button_is_refused_and_changes_nothing(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    say(sandbox, anna, "Анна")
    [question] = say(sandbox, anna, "20")
    [back_to_name] = press(sandbox, anna, question, "Изменить")
    assert back_to_name["text"] == "Как вас зовут?"
    version = dialog_of(bot, anna).version  # type: ignore[union-attr]
    # The old message's buttons belong to a step that is over.
    assert press(sandbox, anna, question, "Да")[-1]["text"] == "Эта кнопка устарела."
    dialog = dialog_of(bot, anna)
    assert dialog is not None and (dialog.state, dialog.version) == ("name", version)


def test_a_double_click_acts_once(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    say(sandbox, anna, "Анна")
    [question] = say(sandbox, anna, "20")
    since = sandbox.messages(anna)[-1]["id"]
    sandbox.press(anna, question["id"], "Да")
    sandbox.press(anna, question["id"], "Да")
    answers = sandbox.wait_for_messages(anna, 2, since=since, timeout=15)
    texts = sorted(message["text"] for message in answers if message["from"] == "bot")
    assert texts == ["Спасибо, Анна!", "Эта кнопка устарела."]


def test_a_callback_button_answers_with_a_snackbar(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    say(sandbox, anna, "Анна")
    [question] = say(sandbox, anna, "20")
    [thanks] = press(sandbox, anna, question, "Ок")
    assert thanks["text"] == "Спасибо, Анна!"
    deadline = time.monotonic() + 10
    while not sandbox.snackbars(anna) and time.monotonic() < deadline:
        time.sleep(0.05)
    [snackbar] = sandbox.snackbars(anna)
    assert snackbar["event_data"] == {"type": "show_snackbar", "text": "Принято"}
    # Pressed again: outdated, and said so in a snackbar, not a message.
    sandbox.press(anna, question["id"], "Ок")
    while len(sandbox.snackbars(anna)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.snackbars(anna)[1]["event_data"]["text"] == "Эта кнопка устарела."


@pytest.mark.parametrize("word", ["отмена", "Отмена", "  CANCEL "])
def test_cancel_works_in_any_state(sandbox: SandboxClient, start_bot: StartBot, word: str) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    say(sandbox, anna, "Анна")
    [answer] = say(sandbox, anna, word)
    assert answer["text"] == "Действие отменено."
    assert dialog_of(bot, anna).flow == ""  # type: ignore[union-attr]
    assert say(sandbox, anna, word)[-1]["text"] == "Сейчас нечего отменять."


def test_back_returns_to_the_previous_question(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    say(sandbox, anna, "Анна")
    assert say(sandbox, anna, "назад")[-1]["text"] == "Как вас зовут?"
    assert say(sandbox, anna, "Аня")[-1]["text"] == "Сколько вам лет?"
    assert say(sandbox, anna, "21")[-1]["text"] == "Аня, 21. Верно?"


def test_menu_leaves_the_dialog(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")
    [menu] = say(sandbox, anna, "меню")
    assert menu["text"] == "Главное меню. Выберите действие:"
    assert menu["keyboard"]["inline"] is False
    assert dialog_of(bot, anna).flow == ""  # type: ignore[union-attr]


def test_a_crashing_handler_gets_an_apology_with_an_error_id_and_the_bot_goes_on(
    sandbox: SandboxClient, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    [apology] = say(sandbox, anna, "сломайся")
    assert apology["text"].startswith("Что-то пошло не так, попробуйте ещё раз. Код ошибки: ")
    error_id = apology["text"].rsplit(" ", 1)[-1]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert say(sandbox, anna, "опрос")[-1]["text"] == "Как вас зовут?"


def test_a_state_removed_by_an_upgrade_resets_politely(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")

    def corrupt(session) -> None:  # type: ignore[no-untyped-def]
        dialog = DialogRepository(session, bot.community_id).load(anna, anna)
        dialog.state = "removed_in_v2"

    bot.database.transaction(corrupt)
    [answer] = say(sandbox, anna, "Анна")
    assert answer["text"] == "Бот обновился, и начатое действие пришлось прервать. Начните его заново, пожалуйста."
    assert say(sandbox, anna, "опрос")[-1]["text"] == "Как вас зовут?"


def test_200_people_in_dialogs_at_once_each_keep_their_own_state(sandbox: SandboxClient, start_bot: StartBot) -> None:
    sandbox.reset(rps_limit=None)
    bot = start_bot(engine={"workers": 16})
    people = [enrolled(sandbox, bot, f"Имя{i}", f"Фамилия{i}") for i in range(200)]
    steps = [lambda i: "опрос", lambda i: f"Имя{i}", lambda i: str(17 + i % 50)]
    for step in steps:
        threads = []
        for index, person in enumerate(people):
            thread = threading.Thread(target=sandbox.send, args=(person, step(index)))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.05)
    for person in people:
        sandbox.wait_for_messages(person, 3, timeout=60)
    for index, person in enumerate(people):
        dialog = dialog_of(bot, person)
        assert dialog is not None
        assert (dialog.state, dialog.data["name"], dialog.data["age"]) == ("confirm", f"Имя{index}", 17 + index % 50)
        last = [m for m in sandbox.messages(person) if m["from"] == "bot"][-1]
        assert last["text"] == f"Имя{index}, {17 + index % 50}. Верно?"


def test_a_slow_handler_for_one_person_does_not_hold_up_others(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    slowpoke = enrolled(sandbox, bot, "Медленный", "Человек")
    quick = enrolled(sandbox, bot, "Быстрый", "Человек")
    sandbox.send(slowpoke, "медленно")
    time.sleep(0.2)  # the slow handler has begun; the quick person's answer must not wait for it
    [answer] = say(sandbox, quick, "опрос")
    assert answer["text"] == "Как вас зовут?"
    assert sandbox.messages(slowpoke)[-1]["from"] == "user", sandbox.messages(slowpoke)
    assert sandbox.wait_for_messages(slowpoke, 1, timeout=15)[-1]["text"] == "Готово, медленно"
    assert sandbox.stats()["calls"].get("messages.setActivity", 0) >= 1  # "typing..." while it was slow


def test_a_scheduled_message_arrives_when_due_and_once(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    [ack] = say(sandbox, anna, "напомни")
    assert ack["text"] == "Хорошо, напомню через 3 секунды"
    assert [m["text"] for m in sandbox.messages(anna) if m["from"] == "bot"] == [ack["text"]]
    [reminder] = sandbox.wait_for_messages(anna, 2, timeout=15)[1:]
    assert reminder["text"] == "Напоминание: пара через 15 минут"
    settled(bot, sandbox)  # sent and marked sent, nothing due or unsent: a second copy would be here
    assert [m["text"] for m in sandbox.messages(anna) if m["from"] == "bot"].count(reminder["text"]) == 1


def test_handled_events_older_than_a_day_are_pruned_and_recent_ones_kept(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select, update

    from fsm_bot.storage.models import ProcessedEvent

    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "помощь")
    say(sandbox, anna, "помощь")

    def age_first(session) -> None:  # type: ignore[no-untyped-def]
        first = session.scalar(select(func.min(ProcessedEvent.id)))
        session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.id == first)
            .values(received_at=datetime.now(UTC) - timedelta(days=2))
        )

    bot.database.transaction(age_first)
    assert bot.prune_inbox() == 1
    remaining = bot.database.transaction(lambda session: session.scalar(select(func.count(ProcessedEvent.id))))
    assert remaining == 1


def test_a_list_grown_inside_dialog_data_is_saved(sandbox: SandboxClient, start_bot: StartBot) -> None:
    """The survey keeps answers in ctx.data; a flow that appends to a list there must see it next step."""
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    say(sandbox, anna, "опрос")

    def seed_list(session) -> None:  # type: ignore[no-untyped-def]
        dialog = DialogRepository(session, bot.community_id).load(anna, anna)
        dialog.data = {**dialog.data, "notes": ["first"]}

    bot.database.transaction(seed_list)
    from tests.engine import sample_flows

    original = sample_flows.got_name

    def append_note(ctx) -> None:  # type: ignore[no-untyped-def]
        ctx.data["notes"].append("second")  # the only change: inside a list, in place
        ctx.reply("записал")

    sample_flows.survey._input["name"] = append_note
    try:
        say(sandbox, anna, "Анна")
    finally:
        sample_flows.survey._input["name"] = original
    assert dialog_of(bot, anna).data["notes"] == ["first", "second"]  # type: ignore[union-attr]
