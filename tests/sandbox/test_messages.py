"""The rest of messages.*: edit, delete, pin, activity, callback answers, history, conversations, chats."""

from __future__ import annotations

import pytest
import vk_api
from vk_api.keyboard import VkKeyboard

GROUP_ID = 227000001
CHAT_BASE = 2_000_000_000


def test_edit_changes_the_bots_message(sandbox, api):
    student = sandbox.add_user()
    message_id = api.messages.send(peer_id=student["id"], message="Пара в 301", random_id=1)
    assert api.messages.edit(peer_id=student["id"], message_id=message_id, message="Пара в 305") == 1
    [message] = sandbox.messages(student["id"])
    assert message["text"] == "Пара в 305"
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.edit(peer_id=student["id"], message_id=message_id, message="x" * 4097)
    assert error.value.code == 914
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.edit(peer_id=student["id"], message_id=message_id, keyboard='{"buttons": 5}')
    assert error.value.code == 911


def test_a_refused_edit_changes_nothing(sandbox, api):
    """VK checks the whole call first: a bad keyboard or attachment leaves the new text unapplied too."""
    student = sandbox.add_user()
    message_id = api.messages.send(peer_id=student["id"], message="Доставлено: 0", random_id=1)
    for refused in ({"keyboard": "{}"}, {"attachment": "not-an-attachment"}, {"message": "x" * 4097}):
        with pytest.raises(vk_api.ApiError):
            api.messages.edit(peer_id=student["id"], message_id=message_id, **{"message": "Доставлено: 2", **refused})
        [message] = sandbox.messages(student["id"])
        assert (message["text"], message["keyboard"], message["attachments"]) == ("Доставлено: 0", None, []), refused


def test_the_bot_cannot_edit_a_users_message(sandbox, api):
    student = sandbox.add_user()
    sent = sandbox.send(student["id"], "привет")
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.edit(peer_id=student["id"], message_id=sent["message_id"], message="взлом")
    assert error.value.code == 920


def test_delete_for_all_removes_the_message_from_the_users_view(sandbox, api):
    student = sandbox.add_user()
    keep = api.messages.send(peer_id=student["id"], message="keep", random_id=1)
    gone = api.messages.send(peer_id=student["id"], message="gone", random_id=2)
    assert api.messages.delete(message_ids=gone, delete_for_all=1) == {str(gone): 1}
    assert [m["id"] for m in sandbox.messages(student["id"])] == [keep]
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.delete(message_ids=gone, delete_for_all=1)
    assert error.value.code == 100
    users_message = sandbox.send(student["id"], "мое")["message_id"]
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.delete(message_ids=users_message, delete_for_all=1)
    assert error.value.code == 924


def test_history_pages_and_limits(sandbox, api):
    student = sandbox.add_user()
    for i in range(5):
        api.messages.send(peer_id=student["id"], message=f"m{i}", random_id=i + 1)
    history = api.messages.getHistory(peer_id=student["id"], count=2)
    assert history["count"] == 5
    assert [m["text"] for m in history["items"]] == ["m4", "m3"]
    oldest_first = api.messages.getHistory(user_id=student["id"], count=2, offset=1, rev=1)
    assert [m["text"] for m in oldest_first["items"]] == ["m1", "m2"]
    assert len(api.messages.getHistory(peer_id=student["id"], count=200)["items"]) == 5
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.getHistory(peer_id=student["id"], count=201)
    assert error.value.code == 100


def test_conversations_by_id_and_is_messages_from_group_allowed(sandbox, api):
    anna = sandbox.add_user("Анна", "Смирнова")
    silent = sandbox.add_user(allow_messages=False)
    answer = api.messages.getConversationsById(peer_ids=[anna["id"], silent["id"], 424242])
    assert answer["count"] == 2
    assert answer["items"][0]["peer"] == {"id": anna["id"], "type": "user", "local_id": anna["id"]}
    assert answer["items"][0]["can_write"] == {"allowed": True}
    assert answer["items"][1]["can_write"] == {"allowed": False, "reason": 901}
    allowed = api.messages.isMessagesFromGroupAllowed(group_id=GROUP_ID, user_id=anna["id"])
    assert allowed == {"is_allowed": 1}
    assert api.messages.isMessagesFromGroupAllowed(group_id=GROUP_ID, user_id=silent["id"]) == {"is_allowed": 0}


def test_set_activity(sandbox, api):
    student = sandbox.add_user()
    assert api.messages.setActivity(peer_id=student["id"], type="typing") == 1
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.setActivity(peer_id=student["id"], type="dancing")
    assert error.value.code == 100


def test_a_callback_press_is_answered_with_a_snackbar(sandbox, api):
    student = sandbox.add_user()
    keyboard = VkKeyboard(inline=True)
    keyboard.add_callback_button("Ознакомлен", payload={"ack": 7})
    message_id = api.messages.send(
        peer_id=student["id"], message="Важно", random_id=1, keyboard=keyboard.get_keyboard()
    )
    pressed = sandbox.press(student["id"], message_id, "Ознакомлен")
    assert len(pressed["event_id"]) == 12
    data = '{"type": "show_snackbar", "text": "Отмечено"}'
    answer = api.messages.sendMessageEventAnswer(
        event_id=pressed["event_id"], user_id=student["id"], peer_id=student["id"], event_data=data
    )
    assert answer == 1
    assert sandbox.snackbars(student["id"]) == [
        {"event_id": pressed["event_id"], "event_data": {"type": "show_snackbar", "text": "Отмечено"}}
    ]
    for bad in (
        {"event_id": "000000000000"},
        {"event_data": '{"type": "show_snackbar", "text": ""}'},
        {"event_data": '{"type": "explode"}'},
        {"user_id": student["id"] + 1},
    ):
        values = {"event_id": pressed["event_id"], "user_id": student["id"], "peer_id": student["id"], **bad}
        with pytest.raises(vk_api.ApiError) as error:
            api.messages.sendMessageEventAnswer(**values)
        assert error.value.code == 100, bad


def test_group_chat_bot_sees_id_0_and_uses_conversation_message_id(sandbox, api, longpoll):
    anna, ivan = sandbox.add_user("Анна", "Смирнова"), sandbox.add_user("Иван", "Петров")
    peer_id = sandbox.create_chat("ИВТ-101", [anna["id"], ivan["id"]])
    assert peer_id == CHAT_BASE + 1
    invite = longpoll.poll()["updates"][0]["object"]["message"]
    assert invite["action"] == {"type": "chat_invite_user", "member_id": -GROUP_ID}
    sent = sandbox.chat_send(peer_id, ivan["id"], "Когда экзамен?")
    assert sent["message_id"] == 0
    message = longpoll.poll()["updates"][0]["object"]["message"]
    assert message["id"] == 0
    assert message["peer_id"] == peer_id
    assert message["from_id"] == ivan["id"]
    assert message["conversation_message_id"] == sent["conversation_message_id"] == 2
    assert api.messages.send(peer_id=peer_id, message="В пятницу", random_id=1) == 0
    [item] = api.messages.send(peer_ids=peer_id, message="Ещё раз", random_id=2)
    assert item["message_id"] == 0 and item["conversation_message_id"] == 4
    reply = api.messages.getHistory(peer_id=peer_id, count=1)["items"][0]
    assert reply["id"] == 0 and reply["conversation_message_id"] == 4 and reply["from_id"] == -GROUP_ID
    assert api.messages.edit(peer_id=peer_id, conversation_message_id=3, message="В субботу") == 1
    texts = [(m["from_id"], m["text"]) for m in sandbox.chat_messages(peer_id, since=1)]
    assert texts == [(ivan["id"], "Когда экзамен?"), (-GROUP_ID, "В субботу"), (-GROUP_ID, "Ещё раз")]
    assert sandbox.log()[0]["id"] == 0


def test_pin_needs_a_chat_where_the_bot_is_admin(sandbox, api):
    anna = sandbox.add_user()
    plain = sandbox.create_chat("Без прав", [anna["id"]])
    admin = sandbox.create_chat("С правами", [anna["id"]], bot_is_admin=True)
    for peer_id in (plain, admin):
        api.messages.send(peer_id=peer_id, message="Расписание", random_id=peer_id)
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.pin(peer_id=plain, conversation_message_id=2)
    assert error.value.code == 925
    pinned = api.messages.pin(peer_id=admin, conversation_message_id=2)
    assert pinned["text"] == "Расписание" and pinned["id"] == 0
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.pin(peer_id=admin, conversation_message_id=99)
    assert error.value.code == 100
    conversation = api.messages.getConversationsById(peer_ids=admin)["items"][0]
    assert conversation["chat_settings"]["pinned_message"] == {"conversation_message_id": 2}
    assert conversation["peer"] == {"id": admin, "type": "chat", "local_id": 2}


def test_pressing_a_button_in_a_chat(sandbox, api, longpoll):
    anna = sandbox.add_user()
    peer_id = sandbox.create_chat("ИВТ-101", [anna["id"]])
    keyboard = VkKeyboard(inline=True)
    keyboard.add_button("Я", payload={"here": 1})
    api.messages.send(peer_id=peer_id, message="Кто на паре?", random_id=1, keyboard=keyboard.get_keyboard())
    longpoll.poll()
    sandbox.chat_press(peer_id, anna["id"], 2, "Я")
    message = longpoll.poll()["updates"][0]["object"]["message"]
    assert (message["peer_id"], message["from_id"], message["text"]) == (peer_id, anna["id"], "Я")
    assert message["payload"] == '{"here":1}'
