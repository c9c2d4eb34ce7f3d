"""A headman broadcasts to the group; students get it personally and acknowledge it."""

from __future__ import annotations

from collections.abc import Callable

import vk_api

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from tests.support.broadcasts import compose_and_send, group_of, report_of
from tests.support.people import enrolled
from tests.support.talk import bot_messages, press, say
from tests.support.waiting import settled, wait_until

StartBot = Callable[..., Bot]


def test_a_headman_broadcasts_and_students_acknowledge(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    sandbox.update_user(headman, allow_messages=True)
    students = group_of(sandbox, bot, 12, closed=1)
    closed = students[0]
    confirm = compose_and_send(sandbox, headman, "Экзамен перенесли в 301")
    assert confirm["text"].startswith("Сообщение получат 12 человек (ИВТ-101).")
    assert "Студентов00 Имя00" in confirm["text"]  # named: has not allowed messages
    preview = bot_messages(sandbox, headman)[-2]
    assert preview["text"] == "Экзамен перенесли в 301"
    assert preview["keyboard"]["buttons"][0][0]["action"]["label"] == "✅ Ознакомлен"

    press(sandbox, headman, confirm, "Отправить", expect=2)
    for student in students[1:]:
        [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
        assert copy["text"] == "Экзамен перенесли в 301"
        assert copy["keyboard"]["inline"] and copy["keyboard"]["buttons"][0][0]["action"]["type"] == "callback"
    assert bot_messages(sandbox, closed) == []

    report = report_of(sandbox, headman)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], what="the report completes")
    current = report_of(sandbox, headman)
    assert "Запланировано: 12" in current["text"] and "Доставлено: 11" in current["text"]
    assert "Не могут получить (1): Студентов00 Имя00" in current["text"]
    assert "Ознакомились: 0 из 11" in current["text"]

    reader = students[3]
    copy = bot_messages(sandbox, reader)[-1]
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(reader)) == 1, what="snackbar")
    assert sandbox.snackbars(reader)[0]["event_data"]["text"] == "Спасибо, отмечено!"
    sandbox.press(reader, copy["id"], "✅ Ознакомлен")
    wait_until(lambda: len(sandbox.snackbars(reader)) == 2, what="second snackbar")
    assert sandbox.snackbars(reader)[1]["event_data"]["text"] == "Вы уже отметили это сообщение."
    wait_until(lambda: "Ознакомились: 1 из 11" in report_of(sandbox, headman)["text"], what="the live counter")
    current = report_of(sandbox, headman)
    assert current["id"] == report["id"]  # the same message, edited
    [unread] = press(sandbox, headman, current, "Кто не прочитал")
    assert unread["text"].startswith("Не нажали «Ознакомлен» в рассылке №")
    assert "(10)" in unread["text"] and "Студентов03" not in unread["text"]


def test_two_fast_presses_of_send_make_one_broadcast(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = group_of(sandbox, bot, 3)
    confirm = compose_and_send(sandbox, headman, "Завтра пары не будет")
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.press(headman, confirm["id"], "Отправить")
    sandbox.press(headman, confirm["id"], "Отправить")
    answers = sandbox.wait_for_messages(headman, 3, since=since, timeout=20)
    texts = [m["text"] for m in answers]
    assert sum(text.startswith("📣 Рассылка №") for text in texts) == 1
    assert "Эта кнопка устарела." in texts
    settled(bot, sandbox)  # one broadcast delivered, nothing pending: a second copy would be here
    for student in students:
        assert [m["text"] for m in bot_messages(sandbox, student)] == ["Завтра пары не будет"]


def test_a_student_cannot_broadcast(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    student = enrolled(sandbox, bot)
    for command in (".mb", "рассылка участникам", "рассылка админам"):
        assert say(sandbox, student, command)[-1]["text"] == "Эта команда доступна только заместителям старост и выше."


def test_a_10000_character_text_goes_out_in_parts_with_the_ack_on_the_last(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    """VK's own client sends a 10,000-character text as three messages; the bot keeps them as parts."""
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    chunks = [f"Часть {n}. " + "Подробности этого пункта регламента. " * 90 for n in range(1, 4)]
    assert sum(len(chunk) for chunk in chunks) > 10000
    say(sandbox, headman, "рассылка")
    for chunk in chunks:
        added = say(sandbox, headman, chunk)[-1]
    assert added["text"].startswith("Добавлено сообщений: 3.")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=5)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    copies = sandbox.wait_for_messages(student, 3, timeout=20)
    assert [copy["text"] for copy in copies] == [chunk.strip() for chunk in chunks]
    assert [copy["keyboard"] is not None for copy in copies] == [False, False, True]


def test_a_text_longer_than_vk_allows_is_split_into_parts() -> None:
    from fsm_bot.services.broadcasts import message_parts
    from fsm_bot.vk.events import IncomingEvent

    text = "\n\n".join(f"Пункт {n}. " + "Подробности пункта. " * 60 for n in range(1, 10))
    event = IncomingEvent("message_new", "e", 1, 5, 5, text=text, message_id=7)
    parts, problem = message_parts(event, room=10)
    assert problem is None and len(text) > 10000
    assert len(parts) == 3 and all(len(part["text"]) <= 4096 for part in parts)
    assert message_parts(event, room=2) == ([], ("too_many_parts", {"limit": 2}))


def test_what_cannot_be_broadcast_is_refused_with_a_reason(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    say(sandbox, headman, "рассылка")
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.send(headman, "", attachments=[{"type": "sticker", "sticker": {"sticker_id": 9, "product_id": 1}}])
    [refusal] = sandbox.wait_for_messages(headman, 1, since=since)
    assert refusal["text"].startswith("Стикеры, подарки и звонки разослать нельзя")
    assert say(sandbox, headman, "   ")[-1]["text"] == "Пустое сообщение: пришлите текст, фото или документ."
    assert say(sandbox, headman, "   .   ")[-1]["text"].startswith("Добавлено сообщений: 1")  # a dot is a message
    since = sandbox.messages(headman)[-1]["id"]
    forwards = [{"from_id": headman, "text": f"сообщение {n}", "date": 1700000000} for n in range(101)]
    sandbox.send(headman, "смотрите", fwd_messages=forwards)
    [refusal] = sandbox.wait_for_messages(headman, 1, since=since)
    assert refusal["text"] == "VK пересылает не больше 100 сообщений за раз; перешлите их частями."
    [added] = [m for m in bot_messages(sandbox, headman) if m["text"].startswith("Добавлено")][-1:]
    [who] = press(sandbox, headman, added, "Готово")
    assert who["text"] == "Кому отправить?"


def test_photos_documents_and_forwards_arrive_intact(
    sandbox: SandboxClient, start_bot: StartBot, sandbox_vk: vk_api.VkApi
) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    say(sandbox, headman, "рассылка")
    photo = {"type": "photo", "photo": {"id": 457239017, "owner_id": headman, "access_key": "ab12cd34ef"}}
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.send(
        headman,
        "Расписание сессии во вложении, ниже — письмо деканата",
        attachments=[photo],
        fwd_messages=[{"from_id": 100500, "text": "Письмо деканата: сессия с 10 января", "date": 1700000000}],
    )
    [added] = sandbox.wait_for_messages(headman, 1, since=since)
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    sandbox.wait_for_messages(student, 1, timeout=20)
    delivered = [entry for entry in sandbox.log() if entry["peer_id"] == student]
    assert len(delivered) == 1  # one message: the headman's own, forwarded whole
    history = sandbox_vk.method("messages.getHistory", {"peer_id": student, "count": 5})
    [copy] = history["items"]
    assert copy["keyboard"]["buttons"][0][0]["action"]["label"] == "✅ Ознакомлен"
    [forwarded] = copy["fwd_messages"]
    assert forwarded["from_id"] == headman
    assert forwarded["text"] == "Расписание сессии во вложении, ниже — письмо деканата"
    [photo_copy] = forwarded["attachments"]
    assert photo_copy["photo"]["access_key"] == "ab12cd34ef"
    assert forwarded["fwd_messages"][0]["text"] == "Письмо деканата: сессия с 10 января"


def test_a_forward_of_a_forward_arrives_forwarded_once(
    sandbox: SandboxClient, start_bot: StartBot, sandbox_vk: vk_api.VkApi
) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    letter = {"from_id": 100500, "text": "Письмо деканата: сессия с 10 января", "date": 1700000000}
    # The headman had forwarded the dean's letter to the bot before, and now forwards that message of hers on.
    earlier = sandbox.send(headman, "", fwd_messages=[letter])
    sandbox.wait_for_messages(headman, 1, since=earlier["message_id"])
    history = sandbox_vk.method("messages.getHistory", {"peer_id": headman, "count": 20})["items"]
    [seen] = [m for m in history if m["conversation_message_id"] == earlier["conversation_message_id"]]
    assert seen["fwd_messages"][0]["text"] == letter["text"]
    fields = ("id", "date", "from_id", "text", "attachments", "conversation_message_id", "peer_id", "fwd_messages")
    say(sandbox, headman, "рассылка")
    again = sandbox.send(headman, "", fwd_messages=[{key: seen[key] for key in fields}])
    [added] = sandbox.wait_for_messages(headman, 1, since=again["message_id"])
    assert added["text"].startswith("Добавлено сообщений: 1.")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    sandbox.wait_for_messages(student, 1, timeout=20)
    [copy] = sandbox_vk.method("messages.getHistory", {"peer_id": student, "count": 5})["items"]
    # The headman's earlier message, carrying the letter: not wrapped in her empty new one as well.
    [forwarded] = copy["fwd_messages"]
    assert forwarded["conversation_message_id"] == earlier["conversation_message_id"]
    [carried] = forwarded["fwd_messages"]
    assert carried["text"] == "Письмо деканата: сессия с 10 января" and "fwd_messages" not in carried


def test_a_photo_with_its_access_key_is_sent_on(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    say(sandbox, headman, "рассылка")
    document = {"type": "doc", "doc": {"id": 66, "owner_id": headman, "access_key": "k3y", "title": "приказ.pdf"}}
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.send(headman, "Приказ о сессии", attachments=[document])
    [added] = sandbox.wait_for_messages(headman, 1, since=since)
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    press(sandbox, headman, confirm, "Отправить", expect=2)
    [copy] = sandbox.wait_for_messages(student, 1, timeout=20)
    assert copy["text"] == "Приказ о сессии"
    [attachment] = copy["attachments"]
    assert attachment["type"] == "doc" and attachment["doc"]["access_key"] == "k3y"


def test_a_broadcast_of_media_only_is_named_by_what_it_holds(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    [student] = group_of(sandbox, bot, 1)
    say(sandbox, headman, "рассылка")
    photo = {"type": "photo", "photo": {"id": 457239017, "owner_id": headman, "access_key": "ab12cd34ef"}}
    documents = [
        {"type": "doc", "doc": {"id": 66 + i, "owner_id": headman, "access_key": "k3y", "title": f"{i}.pdf"}}
        for i in range(2)
    ]
    since = sandbox.messages(headman)[-1]["id"]
    sandbox.send(headman, "", attachments=[photo, *documents])
    [added] = sandbox.wait_for_messages(headman, 1, since=since)
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=3)[-1]
    assert confirm["text"].startswith("Сообщение получит 1 человек (ИВТ-101).")
    report, sent = press(sandbox, headman, confirm, "Отправить", expect=2)
    assert report["text"].splitlines()[0] == "📣 Рассылка №1 (ИВТ-101): «фото, 2 документа»"
    assert sent["text"] == "Рассылка №1 отправляется 1 получателю. Отчёт выше обновляется сам."
    sandbox.wait_for_messages(student, 1, timeout=20)
    [history] = say(sandbox, headman, "мои рассылки")
    assert " · ИВТ-101 · «фото, 2 документа» · " in history["text"]
