"""messages.getConversations, markAsRead and getHistory paging: how a bot catches up on what it missed."""

from __future__ import annotations

import pytest
import vk_api

GROUP_ID = 227000001
CONVERSATION_KEYS = {
    "peer",
    "last_message_id",
    "last_conversation_message_id",
    "in_read",
    "in_read_cmid",
    "out_read",
    "out_read_cmid",
    "is_marked_unread",
    "important",
    "unanswered",
    "can_write",
}


def _peers(answer: dict) -> list[int]:
    return [item["conversation"]["peer"]["id"] for item in answer["items"]]


def test_a_bot_back_from_a_crash_finds_the_dialogs_waiting_for_an_answer(sandbox, api):
    anna = sandbox.add_user("Анна", "Смирнова")["id"]
    ivan = sandbox.add_user("Иван", "Петров")["id"]
    olga = sandbox.add_user("Ольга", "Викторова")["id"]
    sandbox.add_user("Молчун", "Тихонов")  # never wrote: no conversation
    sandbox.send(anna, "Когда экзамен?")
    api.messages.send(peer_id=anna, message="В пятницу", random_id=1)  # answered
    sandbox.send(ivan, "Я заболел")
    chat = sandbox.create_chat("ИВТ-101", [olga, ivan])
    sandbox.chat_send(chat, olga, "Бот, пришли расписание")
    sandbox.send(ivan, "Справку принесу завтра")  # ivan's dialog is now the newest

    everything = api.messages.getConversations()
    assert _peers(everything) == [ivan, chat, anna]
    assert everything["count"] == 3
    waiting = api.messages.getConversations(filter="unanswered")
    assert _peers(waiting) == [ivan, chat]
    assert waiting["count"] == 2

    [ivan_item, chat_item, anna_item] = everything["items"]
    conversation = ivan_item["conversation"]
    assert set(conversation) >= CONVERSATION_KEYS
    assert conversation["peer"] == {"id": ivan, "type": "user", "local_id": ivan}
    assert conversation["unanswered"] is True and conversation["important"] is False
    assert conversation["can_write"] == {"allowed": True}
    assert conversation["unread_count"] == 2
    newest = api.messages.getHistory(peer_id=ivan, count=1)["items"][0]
    assert ivan_item["last_message"] == newest
    assert conversation["last_message_id"] == newest["id"]
    assert newest["text"] == "Справку принесу завтра"

    chat_conversation = chat_item["conversation"]
    assert chat_conversation["peer"] == {"id": chat, "type": "chat", "local_id": chat - 2_000_000_000}
    assert chat_conversation["chat_settings"]["title"] == "ИВТ-101"
    assert chat_item["last_message"]["id"] == 0  # a community sees chat messages as id 0
    assert chat_item["last_message"]["text"] == "Бот, пришли расписание"
    assert chat_conversation["last_conversation_message_id"] == chat_item["last_message"]["conversation_message_id"]

    assert anna_item["conversation"]["unanswered"] is False
    assert anna_item["last_message"]["from_id"] == -GROUP_ID

    api.messages.send(peer_id=ivan, message="Выздоравливай", random_id=2)  # answering clears it
    assert _peers(api.messages.getConversations(filter="unanswered")) == [chat]


def test_unread_follows_what_the_community_marked_read(sandbox, api):
    ivan = sandbox.add_user()["id"]
    first = sandbox.send(ivan, "раз")["message_id"]
    sandbox.send(ivan, "два")
    sandbox.send(ivan, "три")

    unread = api.messages.getConversations(filter="unread")
    assert _peers(unread) == [ivan] and unread["unread_count"] == 1
    assert unread["items"][0]["conversation"]["unread_count"] == 3
    assert unread["items"][0]["conversation"]["in_read"] == 0

    assert api.messages.markAsRead(peer_id=ivan, start_message_id=first) == 1
    conversation = api.messages.getConversationsById(peer_ids=ivan)["items"][0]
    assert conversation["unread_count"] == 2
    assert conversation["in_read"] == first and conversation["in_read_cmid"] == 1

    api.messages.send(peer_id=ivan, message="ответ", random_id=1)  # answering is not reading
    assert api.messages.getConversationsById(peer_ids=ivan)["items"][0]["unread_count"] == 2

    assert api.messages.markAsRead(peer_id=ivan, mark_conversation_as_read=1) == 1
    conversation = api.messages.getConversationsById(peer_ids=ivan)["items"][0]
    assert "unread_count" not in conversation  # VK leaves a zero count out
    assert api.messages.getConversations(filter="unread") == {"count": 0, "items": []}
    assert api.messages.markAsRead(peer_id=ivan, start_message_id=first) == 1  # the mark never moves back
    assert "unread_count" not in api.messages.getConversationsById(peer_ids=ivan)["items"][0]

    sandbox.send(ivan, "четыре")
    assert api.messages.getConversations(filter="unread")["items"][0]["conversation"]["unread_count"] == 1


def test_conversations_page_and_extend_like_vk(sandbox, api):
    students = [sandbox.add_user(f"Студент{i}", "Тестов", sex=2)["id"] for i in range(5)]
    for student in students:
        sandbox.send(student, "привет")
    page = api.messages.getConversations(offset=1, count=2)
    assert page["count"] == 5
    assert _peers(page) == [students[3], students[2]]
    assert len(api.messages.getConversations()["items"]) == 5  # default count is 20
    assert api.messages.getConversations(filter="important") == {"count": 0, "items": [], "unread_count": 5}

    extended = api.messages.getConversations(count=1, extended=1, fields="sex")
    assert [p["id"] for p in extended["profiles"]] == [students[4]]
    assert extended["profiles"][0]["sex"] == 2
    assert [g["id"] for g in extended["groups"]] == [GROUP_ID]
    assert "profiles" not in page

    for bad in ({"count": 201}, {"filter": "spam"}, {"offset": -1}, {"group_id": 1}):
        with pytest.raises(vk_api.ApiError) as error:
            api.messages.getConversations(**bad)
        assert error.value.code == (125 if "group_id" in bad else 100), bad


def test_history_pages_around_a_start_message(sandbox, api):
    student = sandbox.add_user()["id"]
    ids = [sandbox.send(student, f"m{i}")["message_id"] for i in range(6)]
    around = api.messages.getHistory(peer_id=student, start_message_id=ids[3], count=2)
    assert [m["text"] for m in around["items"]] == ["m3", "m2"]
    assert around["count"] == 6  # the whole conversation, not the page
    newer = api.messages.getHistory(peer_id=student, start_message_id=ids[3], offset=-2, count=2)
    assert [m["text"] for m in newer["items"]] == ["m5", "m4"]
    assert [m["text"] for m in api.messages.getHistory(peer_id=student, count=2, rev=1)["items"]] == ["m0", "m1"]
    api.messages.markAsRead(peer_id=student, start_message_id=ids[3])
    past_unread = api.messages.getHistory(peer_id=student, start_message_id=-1, count=2)
    assert [m["text"] for m in past_unread["items"]] == ["m3", "m2"]
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.getHistory(peer_id=student, offset=-1)
    assert error.value.code == 100
