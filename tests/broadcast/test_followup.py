"""After the send: failures named, reminders, history, re-sending, picking people one by one."""

from __future__ import annotations

from collections.abc import Callable

import requests

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import BroadcastRepository, MemberRepository
from tests.support.broadcasts import broadcast_options, compose_and_send, group_of, report_of
from tests.support.people import enrolled
from tests.support.talk import bot_messages, bot_texts, press, say, toggle
from tests.support.waiting import settled, wait_until

StartBot = Callable[..., Bot]


def send_to_group(sandbox: SandboxClient, headman: int, text: str) -> None:
    confirm = compose_and_send(sandbox, headman, text)
    press(sandbox, headman, confirm, "Отправить", expect=2)


def test_a_deleted_recipient_is_named_with_the_reason(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 3)
    requests.delete(f"{sandbox.url}/sandbox/users/{students[1]}", timeout=5).raise_for_status()
    send_to_group(sandbox, headman, "Собрание в 18:00")
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], what="report done")
    report = report_of(sandbox, headman)["text"]
    assert "Доставлено: 2" in report
    assert "Не доставлено (1): Студентов01 Имя01" in report
    assert [m["text"] for m in bot_messages(sandbox, students[0])] == ["Собрание в 18:00"]


def test_ack_on_a_deleted_broadcast_says_so(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    send_to_group(sandbox, headman, "Отменяется")
    [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
    bot.database.transaction(lambda session: BroadcastRepository(session, bot.community_id).delete(1))
    sandbox.press(student, copy["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(student)) == 1, what="snackbar")
    assert sandbox.snackbars(student)[0]["event_data"]["text"] == "Эта рассылка удалена."


def test_non_readers_are_nudged_once_and_the_sender_gets_the_tally(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot(broadcast={"nudge_after_minutes": 0.05})  # three seconds
    admin = enrolled(sandbox, bot, "Ольга", "Админова", role=Role.ADMIN)
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    reader, sleeper = group_of(sandbox, bot, 2)
    send_to_group(sandbox, headman, "Сдайте зачётки до пятницы")
    [copy] = sandbox.wait_for_messages(reader, 1, timeout=20)
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    nudge = sandbox.wait_for_messages(sleeper, 2, timeout=20)[-1]
    assert nudge["text"].startswith("Напоминание: пожалуйста, прочитайте сообщение")
    assert nudge["keyboard"]["buttons"][0][0]["action"]["label"] == "✅ Ознакомлен"
    tally = sandbox.wait_for_messages(headman, 1, predicate=lambda m: m["text"].startswith("Итог рассылки"))[-1]
    assert "Ознакомились: 1 из 3" in tally["text"]  # the admin is in the group too
    # The stream admin gets that final report, with the real count, once: not a copy at delivery saying «0».
    report = (
        "📣 Рассылка №1 (ИВТ-101): «Сдайте зачётки до пятницы»\n"
        "Запланировано: 3\nДоставлено: 3\nОзнакомились: 1 из 3\nДоставка завершена."
    )
    assert tally["text"] == "Итог рассылки:\n" + report
    admin_report = sandbox.wait_for_messages(admin, 1, predicate=lambda m: m["text"].startswith("Отчёт о рассылке"))
    assert admin_report[-1]["text"] == "Отчёт о рассылке:\n" + report
    settled(bot, sandbox)  # the nudge is marked done and nothing is unsent: a second one would be here
    reports = [m["text"] for m in bot_messages(sandbox, admin) if m["text"].startswith("Отчёт о рассылке")]
    assert reports == ["Отчёт о рассылке:\n" + report]
    assert [m["text"].startswith("Напоминание") for m in bot_messages(sandbox, sleeper)].count(True) == 1
    assert [m["text"].startswith("Напоминание") for m in bot_messages(sandbox, reader)].count(True) == 0
    # The nudge's button still records the acknowledgement.
    sandbox.press(sleeper, nudge["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(sleeper)) == 1)
    assert sandbox.snackbars(sleeper)[0]["event_data"]["text"] == "Спасибо, отмечено!"


def test_history_and_resend_to_those_it_did_not_reach(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    shy, other = group_of(sandbox, bot, 2, closed=1)
    send_to_group(sandbox, headman, "Стипендия пришла")
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], what="report done")
    [history] = say(sandbox, headman, "мои рассылки")
    assert "№1" in history["text"] and "доставлено 1 из 2" in history["text"]
    sandbox.update_user(shy, allow_messages=True)  # asked by the headman, the student allows messages
    [queued] = press(sandbox, headman, history, "Повторить №1 недоставленным")
    assert queued["text"] == "Рассылка №1 отправляется повторно 1 получателю, до которого не дошла."
    [copy] = sandbox.wait_for_messages(shy, 1, timeout=20)
    assert copy["text"] == "Стипендия пришла"
    settled(bot, sandbox)  # the re-send is delivered and nothing is pending: a copy to `other` would be here
    assert [m["text"] for m in bot_messages(sandbox, other)] == ["Стипендия пришла"]  # not sent twice


def test_a_student_cannot_use_a_headmans_report_buttons(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    deputy = enrolled(sandbox, bot, "Мария", "Заместитель", role=Role.DEPUTY)
    [student] = group_of(sandbox, bot, 1)
    send_to_group(sandbox, headman, "Важное")
    sandbox.wait_for_messages(student, 1, timeout=20)
    since = sandbox.messages(student)[-1]["id"]
    sandbox.send(student, "Кто не прочитал", payload={"c": "unread", "b": "1"})
    [refusal] = sandbox.wait_for_messages(student, 1, since=since)
    assert refusal["text"] == "Эта команда доступна только заместителям старост и выше."
    # A deputy who did not send it may not read its list either.
    since = sandbox.messages(deputy)[-1]["id"] if sandbox.messages(deputy) else None
    sandbox.send(deputy, "Кто не прочитал", payload={"c": "unread", "b": "1"})
    [answer] = sandbox.wait_for_messages(deputy, 1, since=since)
    assert answer["text"] == "Это не ваша рассылка, или её больше нет."


def test_picking_students_by_toggles_pages_and_search(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 10)
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, "Зайдите в деканат")
    [who] = press(sandbox, headman, added, "Готово")
    [picker] = press(sandbox, headman, who, "Выбрать студентов")
    assert picker["text"].startswith("Выберите получателей (страница 1 из 2)")

    def current() -> dict:
        return next(m for m in sandbox.messages(headman) if m["id"] == picker["id"])

    sandbox.press(headman, picker["id"], "▫️ Студентов00 Имя00")
    wait_until(lambda: "✅ Студентов00 Имя00" in str(current()["keyboard"]), what="toggle shown")
    sandbox.press(headman, picker["id"], "▶")
    wait_until(lambda: "страница 2 из 2" in current()["text"], what="next page")
    sandbox.press(headman, picker["id"], "▫️ Студентов08 Имя08")
    wait_until(lambda: "Готово (выбрано 2)" in str(current()["keyboard"]), what="two picked")
    [found] = say(sandbox, headman, "студентов05")  # a typed surname searches
    assert "Поиск: «студентов05»" in found["text"]
    assert [b["action"]["label"] for row in found["keyboard"]["buttons"] for b in row][:1] == ["▫️ Студентов05 Имя05"]
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.press(headman, found["id"], "▫️ Студентов05 Имя05")
    wait_until(
        lambda: (
            "Готово (выбрано 3)"
            in str(next(m for m in sandbox.messages(headman) if m["id"] == found["id"])["keyboard"])
        )
    )
    sandbox.press(headman, found["id"], "Готово (выбрано 3)")
    [options] = sandbox.wait_for_messages(headman, 1, since=since)
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    assert confirm["text"].startswith("Сообщение получат 3 выбранных студента.")
    press(sandbox, headman, confirm, "Отправить", expect=2)
    for index, student in enumerate(students):
        expected = ["Зайдите в деканат"] if index in (0, 5, 8) else []
        if expected:
            sandbox.wait_for_messages(student, 1, timeout=20)
        assert [m["text"] for m in bot_messages(sandbox, student)] == expected


def test_broadcast_to_admins_skips_the_audience_question(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    admin = enrolled(sandbox, bot, "Ольга", "Админова", role=Role.ADMIN)
    sandbox.update_user(admin, allow_messages=True)
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    group_of(sandbox, bot, 2)
    say(sandbox, headman, "рассылка админам")
    [added] = say(sandbox, headman, "Нужна аудитория на субботу")
    [options] = press(sandbox, headman, added, "Готово")
    assert options["text"] == "Настройки рассылки:"
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    assert confirm["text"].startswith("Сообщение получит 1 человек (администраторы).")
    press(sandbox, headman, confirm, "Отправить", expect=2)
    copy = sandbox.wait_for_messages(admin, 1, predicate=lambda m: m["text"] == "Нужна аудитория на субботу")
    assert copy


def test_a_subgroup_gets_it_and_the_other_does_not(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 4)

    def split(session) -> None:  # type: ignore[no-untyped-def]
        members = MemberRepository(session, bot.community_id)
        for index, student in enumerate(students):
            member = members.get(student)
            member.subgroup = 1 + index % 2

    bot.database.transaction(split)
    confirm = compose_and_send(sandbox, headman, "Лабораторная переносится", audience="Подгруппе 2")
    assert confirm["text"].startswith("Сообщение получат 2 человека (ИВТ-101/2).")
    press(sandbox, headman, confirm, "Отправить", expect=2)
    for index, student in enumerate(students):
        if index % 2 == 1:
            sandbox.wait_for_messages(student, 1, timeout=20)
    settled(bot, sandbox)  # the broadcast is delivered and nothing is pending: a copy to subgroup 1 would be here
    assert [len(bot_messages(sandbox, s)) for s in students] == [0, 1, 0, 1]


def chat_of(sandbox: SandboxClient, peer_id: int) -> dict:
    return next(
        chat for chat in requests.get(f"{sandbox.url}/sandbox/chats", timeout=5).json() if chat["peer_id"] == peer_id
    )


def _send_with_pin(sandbox: SandboxClient, headman: int, text: str) -> None:
    options = broadcast_options(sandbox, headman, text)
    sandbox.press(headman, options["id"], "Закрепить в беседе группы: нет")
    wait_until(
        lambda: (
            "Закрепить в беседе группы: да"
            in str(next(m for m in sandbox.messages(headman) if m["id"] == options["id"]))
        ),
        what="pin toggled on",
    )
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    assert "Сообщение будет опубликовано и закреплено в беседе группы." in confirm["text"]
    press(sandbox, headman, confirm, "Отправить", expect=2)


def test_a_broadcast_is_also_posted_and_pinned_in_the_group_chat(
    sandbox: SandboxClient, database_url: str, start_bot: StartBot
) -> None:
    headman_user = sandbox.add_user("Анна", "Старостина")
    chat = sandbox.create_chat("ИВТ-101", [headman_user["id"]], bot_is_admin=True)
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman_user["id"], "chat_peer_id": chat}}})
    headman = headman_user["id"]
    [student] = group_of(sandbox, bot, 1)
    _send_with_pin(sandbox, headman, "Собрание старост в 15:00")
    sandbox.wait_for_messages(student, 1, timeout=20)
    wait_until(
        lambda: "Опубликовано и закреплено в беседе группы." in report_of(sandbox, headman)["text"], what="pinned"
    )
    [posted] = [m for m in sandbox.chat_messages(chat) if m["text"] == "Собрание старост в 15:00"]
    assert posted["keyboard"] is None  # no «Ознакомлен» in the chat: its readers are not the recipients
    assert chat_of(sandbox, chat)["pinned_conversation_message_id"] == posted["conversation_message_id"]


def test_a_chat_where_the_bot_is_not_admin_is_reported(
    sandbox: SandboxClient, database_url: str, start_bot: StartBot
) -> None:
    headman_user = sandbox.add_user("Анна", "Старостина")
    chat = sandbox.create_chat("ИВТ-101", [headman_user["id"]], bot_is_admin=False)
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman_user["id"], "chat_peer_id": chat}}})
    group_of(sandbox, bot, 1)
    _send_with_pin(sandbox, headman_user["id"], "Собрание старост в 15:00")
    wait_until(
        lambda: "Не удалось закрепить в беседе группы" in report_of(sandbox, headman_user["id"])["text"], what="report"
    )
    assert chat_of(sandbox, chat)["pinned_conversation_message_id"] is None


def _reads_english(bot: Bot, *vk_ids: int) -> None:
    """As if they had chosen English with «язык» (tests/flows/test_language.py drives that)."""

    def choose(session) -> None:  # type: ignore[no-untyped-def]
        for vk_id in vk_ids:
            member = MemberRepository(session, bot.community_id).get(vk_id)
            assert member is not None
            member.locale = "en"

    bot.database.transaction(choose)


def test_the_nudge_and_the_admins_report_are_in_each_readers_language(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot(broadcast={"nudge_after_minutes": 0.05})  # three seconds
    admin = enrolled(sandbox, bot, "Olga", "Adams", role=Role.ADMIN)
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    reader, sleeper = group_of(sandbox, bot, 2)
    _reads_english(bot, admin, sleeper)
    send_to_group(sandbox, headman, "Сдайте зачётки до пятницы")
    [copy] = sandbox.wait_for_messages(reader, 1, timeout=20)
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    nudge = sandbox.wait_for_messages(sleeper, 2, timeout=20)[-1]
    assert nudge["text"] == (
        "Reminder: please read the message and press “Got it”.\n"
        "📣 Announcement #1 (ИВТ-101): “Сдайте зачётки до пятницы”"
    )
    tally = sandbox.wait_for_messages(headman, 1, predicate=lambda m: m["text"].startswith("Итог рассылки"))[-1]
    assert "Ознакомились: 1 из 3" in tally["text"]  # the headman reads Russian still
    [report] = sandbox.wait_for_messages(admin, 1, predicate=lambda m: m["text"].startswith("Announcement report"))
    assert report["text"] == (
        "Announcement report:\n📣 Announcement #1 (ИВТ-101): “Сдайте зачётки до пятницы”\n"
        "Planned: 3\nDelivered: 3\nRead: 1 of 3\nDelivery complete."
    )
    # The reminder's button is the one the English copy had, and it still records the acknowledgement.
    assert nudge["keyboard"]["buttons"][0][0]["action"]["label"] == "✅ Got it"
    sandbox.press(sleeper, nudge["id"], "✅ Got it")
    wait_until(lambda: len(sandbox.snackbars(sleeper)) == 1)
    assert sandbox.snackbars(sleeper)[0]["event_data"]["text"] == "Thanks, noted!"


def test_each_copy_has_the_ack_button_in_its_readers_language(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    russian, english, other_english = group_of(sandbox, bot, 3)
    _reads_english(bot, english, other_english)
    send_to_group(sandbox, headman, "Сдайте зачётки до пятницы")
    copies = {student: sandbox.wait_for_messages(student, 1, timeout=20)[-1] for student in (russian, english)}
    labels = {student: copy["keyboard"]["buttons"][0][0]["action"]["label"] for student, copy in copies.items()}
    assert labels == {russian: "✅ Ознакомлен", english: "✅ Got it"}
    assert copies[english]["text"] == "Сдайте зачётки до пятницы"  # the headman's words stay as written
    sandbox.press(english, copies[english]["id"], "✅ Got it")
    wait_until(lambda: len(sandbox.snackbars(english)) == 1, what="snackbar")
    assert sandbox.snackbars(english)[0]["event_data"]["text"] == "Thanks, noted!"
    wait_until(lambda: "Ознакомились: 1 из 3" in report_of(sandbox, headman)["text"], what="the ack counted")
    # The two English copies went out as one batch (one random_id), the Russian in another: a batch per language.
    [other_copy] = sandbox.wait_for_messages(other_english, 1, timeout=20)
    assert other_copy["keyboard"] == copies[english]["keyboard"]
    assert other_copy["random_id"] == copies[english]["random_id"] != copies[russian]["random_id"]


def test_a_broadcast_without_acknowledgements_ends_with_a_final_report(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    """A report without buttons (nobody is asked to acknowledge, nobody failed) is still edited to its end:
    VK refuses an edit whose keyboard is not a keyboard, so the report once froze at its first tally."""
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 2)
    options = broadcast_options(sandbox, headman, "Пары завтра не будет")
    options = toggle(sandbox, headman, options, "Просить нажать «Ознакомлен»: да")
    assert "Просить нажать «Ознакомлен»: нет" in str(options["keyboard"])
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], what="the final report")
    report = report_of(sandbox, headman)
    assert "Доставлено: 2" in report["text"]
    assert not (report["keyboard"] or {}).get("buttons"), report["keyboard"]  # nothing to press
    assert [bot_texts(sandbox, student) for student in students] == [["Пары завтра не будет"]] * 2
