"""Bots Long Poll with vk_api's VkBotLongPoll as the client: envelopes, failures, catch-up, held polls."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from vk_api.bot_longpoll import VkBotEventType, VkBotLongPoll
from vk_api.keyboard import VkKeyboard

GROUP_ID = 227000001
CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def test_message_new_envelope_matches_vk_field_by_field(sandbox, sandbox_vk):
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    sent = sandbox.send(student, "меню", payload={"cmd": "menu"})
    event = next(poll.listen())
    assert event.type is VkBotEventType.MESSAGE_NEW
    assert event.from_user
    raw = event.raw
    assert list(raw) == ["type", "group_id", "event_id", "v", "object"]
    assert raw["group_id"] == GROUP_ID and raw["v"] == "5.199"
    assert raw["event_id"] == sent["event_id"] and len(raw["event_id"]) == 40
    int(raw["event_id"], 16)
    message = raw["object"]["message"]
    assert set(message) == {
        "id",
        "date",
        "peer_id",
        "from_id",
        "out",
        "text",
        "attachments",
        "fwd_messages",
        "conversation_message_id",
        "random_id",
        "important",
        "is_hidden",
        "version",
        "payload",
    }
    assert message["id"] == sent["message_id"]
    assert (message["peer_id"], message["from_id"], message["out"]) == (student, student, 0)
    assert message["text"] == "меню"
    assert message["payload"] == '{"cmd":"menu"}'  # a JSON string in message_new
    assert (message["attachments"], message["fwd_messages"], message["random_id"]) == ([], [], 0)
    assert (message["important"], message["is_hidden"], message["version"]) == (False, False, 1)
    assert isinstance(message["date"], int)
    assert raw["object"]["client_info"] == CLIENT_INFO


def test_message_event_allow_and_join_envelopes(sandbox, sandbox_vk, api):
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    student = sandbox.add_user(allow_messages=False, member=False)["id"]
    sandbox.update_user(student, allow_messages=True)
    sandbox.update_user(student, member=True)
    keyboard = VkKeyboard(inline=True)
    keyboard.add_callback_button("Ознакомлен", payload={"ack": 7})
    message_id = api.messages.send(peer_id=student, message="Важно", random_id=1, keyboard=keyboard.get_keyboard())
    pressed = sandbox.press(student, message_id, row=0, col=0)
    sandbox.update_user(student, allow_messages=False)
    sandbox.update_user(student, member=False)
    events = []
    for event in poll.listen():
        events.append(event)
        if len(events) == 5:
            break
    allow, join, callback, deny, leave = (e.raw for e in events)
    assert allow["type"] == "message_allow" and allow["object"] == {"user_id": student, "key": "sandbox"}
    assert join["type"] == "group_join" and join["object"] == {"user_id": student, "join_type": "join"}
    assert callback["type"] == "message_event"
    assert callback["object"] == {
        "user_id": student,
        "peer_id": student,
        "event_id": pressed["event_id"],
        "payload": {"ack": 7},  # a JSON object in message_event
        "conversation_message_id": 1,
    }
    assert len(pressed["event_id"]) == 12 and callback["event_id"] == pressed["envelope_event_id"]
    assert deny["type"] == "message_deny" and deny["object"] == {"user_id": student}
    assert leave["type"] == "group_leave" and leave["object"] == {"user_id": student, "self": 1}


def test_pressing_a_text_button_sends_its_label_and_payload(sandbox, api, longpoll):
    student = sandbox.add_user()["id"]
    keyboard = VkKeyboard()
    keyboard.add_button("Расписание", payload={"cmd": "timetable"})
    message_id = api.messages.send(peer_id=student, message="Меню", random_id=1, keyboard=keyboard.get_keyboard())
    pressed = sandbox.press(student, message_id, "Расписание")
    [update] = longpoll.poll()["updates"]
    assert update["event_id"] == pressed["event_id"]
    assert update["object"]["message"]["text"] == "Расписание"
    assert update["object"]["message"]["payload"] == '{"cmd":"timetable"}'


def test_only_enabled_event_types_arrive(sandbox, api, longpoll):
    student = sandbox.add_user()["id"]
    api.messages.send(peer_id=student, message="not an update by default", random_id=1)
    api.groups.setLongPollSettings(group_id=GROUP_ID, group_leave=0, message_reply=1)
    sandbox.update_user(student, member=False)
    api.messages.send(peer_id=student, message="now it is", random_id=2)
    updates = longpoll.poll()["updates"]
    assert [u["type"] for u in updates] == ["message_reply"]
    assert updates[0]["object"]["text"] == "now it is" and updates[0]["object"]["from_id"] == -GROUP_ID


def test_a_client_reconnecting_with_an_old_ts_gets_what_it_missed(sandbox, longpoll):
    student = sandbox.add_user()["id"]
    start = longpoll.ts
    for text in ("one", "two", "three"):
        sandbox.send(student, text)
    assert [u["object"]["message"]["text"] for u in longpoll.poll()["updates"]] == ["one", "two", "three"]
    assert longpoll.poll()["updates"] == []
    again = longpoll.poll(ts=start)
    assert [u["object"]["message"]["text"] for u in again["updates"]] == ["one", "two", "three"]
    middle = longpoll.poll(ts=str(int(start) + 2))
    assert [u["object"]["message"]["text"] for u in middle["updates"]] == ["three"]


def test_ts_outside_the_history_is_failed_1_with_the_current_ts(sandbox, longpoll):
    student = sandbox.add_user()["id"]
    old_ts = longpoll.ts
    sandbox.send(student, "before the reset")
    sandbox.reset()
    # the reset forgot the history: a client at the old ts lost updates
    answer = requests.get(longpoll.server, params={"act": "a_check", "key": longpoll.key, "ts": old_ts}, timeout=5)
    assert answer.json() == {"failed": 2}  # and its key too
    server = requests.post(
        f"{sandbox.api_url}groups.getLongPollServer", data={"group_id": GROUP_ID, "access_token": sandbox.token}
    ).json()["response"]
    longpoll.key = server["key"]
    answer = longpoll.poll(ts=old_ts)
    assert answer == {"failed": 1, "ts": int(server["ts"])}
    assert longpoll.poll(ts="999999999") == {"failed": 1, "ts": int(server["ts"])}


def test_an_unknown_key_is_failed_2(sandbox, longpoll):
    assert longpoll.poll(key="not-a-key") == {"failed": 2}


def test_faults_failed_1_2_3_and_vk_api_recovers(sandbox, sandbox_vk):
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    student = sandbox.add_user()["id"]
    first_key = poll.key
    sandbox.inject_fault("longpoll", "failed_1")
    sandbox.inject_fault("longpoll", "failed_2")
    sandbox.inject_fault("longpoll", "failed_3")
    assert poll.check() == []  # failed 1: new ts
    assert poll.check() == []  # failed 2: new key, same ts
    assert poll.key != first_key
    second_key = poll.key
    assert poll.check() == []  # failed 3: new key and ts
    assert poll.key != second_key
    sandbox.send(student, "still here")
    [event] = poll.check()
    assert event.message.text == "still here"


def test_hundreds_of_held_polls_all_get_the_update(sandbox, sandbox_server, longpoll):
    student = sandbox.add_user()["id"]
    holders = 200
    params = {"act": "a_check", "key": longpoll.key, "ts": longpoll.ts, "wait": 25}

    def hold(_: int) -> dict:
        return requests.get(longpoll.server, params=params, timeout=30).json()

    with ThreadPoolExecutor(holders) as pool:
        futures = [pool.submit(hold, i) for i in range(holders)]
        deadline = time.monotonic() + 20
        while sandbox_server.sandbox.longpoll.held < holders:  # all of them are waiting at the server
            assert time.monotonic() < deadline, f"only {sandbox_server.sandbox.longpoll.held} polls held"
            time.sleep(0.01)
        sent = sandbox.send(student, "всем")
        answers = [f.result() for f in futures]
    assert all([u["event_id"] for u in a["updates"]] == [sent["event_id"]] for a in answers)
    assert sandbox_server.sandbox.longpoll.held == 0


def test_a_poll_with_wait_0_returns_at_once_and_wait_is_capped(sandbox, longpoll):
    assert longpoll.poll(wait=0) == {"ts": longpoll.ts, "updates": []}
    student = sandbox.add_user()["id"]
    sandbox.send(student, "x")
    assert len(longpoll.poll(wait=1000)["updates"]) == 1  # wait > 90 is capped, updates answer at once


def test_a_reset_wakes_held_polls_with_failed_2(sandbox, sandbox_server, longpoll):
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(longpoll.poll, 25)
        deadline = time.monotonic() + 20
        while sandbox_server.sandbox.longpoll.held < 1:
            assert time.monotonic() < deadline, "the poll was not held"
            time.sleep(0.01)
        sandbox.reset()
        assert held.result(timeout=10) == {"failed": 2}
