"""messages.send as VK does it: one peer or peer_ids, limits, keyboards, attachments, dedup and errors."""

from __future__ import annotations

import json

import pytest
import vk_api
from vk_api.keyboard import VkKeyboard, VkKeyboardColor

GROUP_ID = 227000001


def test_a_message_reaches_the_user_from_the_community(sandbox, api):
    student = sandbox.add_user("Анна", "Смирнова")
    message_id = api.messages.send(peer_id=student["id"], message="Пара перенесена в 301", random_id=1)
    [message] = sandbox.messages(student["id"])
    assert message["id"] == message_id
    assert message["from"] == "bot"
    assert message["text"] == "Пара перенесена в 301"
    assert message["random_id"] == 1
    history = api.messages.getHistory(peer_id=student["id"])
    assert history["items"][0]["from_id"] == -GROUP_ID
    assert history["items"][0]["out"] == 1
    assert sandbox.stats()["delivered"] == 1
    assert sandbox.log() == [
        {
            "peer_id": student["id"],
            "id": message_id,
            "random_id": 1,
            "text": "Пара перенесена в 301",
            "date": message["date"],
        }
    ]


def test_user_id_works_like_peer_id(sandbox, api):
    student = sandbox.add_user()
    api.messages.send(user_id=student["id"], message="hi", random_id=0)
    assert [m["text"] for m in sandbox.messages(student["id"])] == ["hi"]


def test_4096_characters_pass_and_4097_are_error_914(sandbox, api):
    student = sandbox.add_user()
    api.messages.send(peer_id=student["id"], message="я" * 4096, random_id=1)
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student["id"], message="я" * 4097, random_id=2)
    assert error.value.code == 914
    assert len(sandbox.messages(student["id"])) == 1


def test_random_id_is_required(sandbox, raw):
    student = sandbox.add_user()
    answer = raw("messages.send", peer_id=student["id"], message="hi")
    assert answer["error"]["error_code"] == 100
    assert "random_id" in answer["error"]["error_msg"]


def test_a_repeated_random_id_is_dropped_silently(sandbox, api):
    student = sandbox.add_user()
    first = api.messages.send(peer_id=student["id"], message="Экзамен в 10:00", random_id=77)
    again = api.messages.send(peer_id=student["id"], message="Экзамен в 10:00", random_id=77)
    assert again == first
    assert len(sandbox.messages(student["id"])) == 1
    stats = sandbox.stats()
    assert stats["deduplicated"] == 1
    assert stats["delivered"] == 1


def test_random_id_zero_and_other_peers_are_not_deduplicated(sandbox, api):
    anna, ivan = sandbox.add_user(), sandbox.add_user()
    api.messages.send(peer_id=anna["id"], message="a", random_id=0)
    api.messages.send(peer_id=anna["id"], message="a", random_id=0)
    api.messages.send(peer_id=ivan["id"], message="a", random_id=5)
    api.messages.send(peer_id=anna["id"], message="a", random_id=5)
    assert len(sandbox.messages(anna["id"])) == 3
    assert sandbox.stats()["deduplicated"] == 0


def test_a_user_who_has_not_allowed_messages_is_error_901(sandbox, api):
    silent = sandbox.add_user(allow_messages=False)
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=silent["id"], message="hi", random_id=1)
    assert error.value.code == 901
    assert sandbox.messages(silent["id"]) == []


def test_peer_ids_sends_to_100_peers_with_per_peer_errors(sandbox, api):
    students = [sandbox.add_user(f"Студент{i}", "Тестов") for i in range(99)]
    silent = sandbox.add_user("Молчун", "Тестов", allow_messages=False)
    peers = [s["id"] for s in students] + [silent["id"]]
    answer = api.messages.send(peer_ids=peers, message="Собрание в 15:00", random_id=9)
    assert [item["peer_id"] for item in answer] == peers
    for item in answer[:-1]:
        assert set(item) == {"peer_id", "message_id", "conversation_message_id"}
        assert item["message_id"] > 0 and item["conversation_message_id"] == 1
    assert answer[-1] == {
        "peer_id": silent["id"],
        "message_id": 0,
        "conversation_message_id": 0,
        "error": {"code": 901, "description": "Can't send messages for users without permission"},
    }
    stats = sandbox.stats()
    assert stats["delivered"] == 99
    assert stats["calls"]["messages.send"] == 1
    again = api.messages.send(peer_ids=peers, message="Собрание в 15:00", random_id=9)
    assert [i["message_id"] for i in again] == [i["message_id"] for i in answer]
    assert sandbox.stats()["deduplicated"] == 99
    assert sandbox.stats()["delivered"] == 99


def test_101_peer_ids_are_refused(sandbox, api):
    peers = [sandbox.add_user()["id"] for _ in range(101)]
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_ids=peers, message="hi", random_id=1)
    assert error.value.code == 100
    assert sandbox.stats()["delivered"] == 0


def test_an_empty_message_is_error_100(sandbox, api):
    student = sandbox.add_user()
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student["id"], random_id=1)
    assert error.value.code == 100


def test_unknown_peer_is_an_error(sandbox, api):
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=999, message="hi", random_id=1)
    assert error.value.code == 100
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=2_000_000_077, message="hi", random_id=1)
    assert error.value.code == 917


def test_vk_api_keyboards_are_accepted_and_stored(sandbox, api):
    student = sandbox.add_user()
    keyboard = VkKeyboard(one_time=True)
    keyboard.add_button("Расписание", VkKeyboardColor.PRIMARY, payload={"cmd": "timetable"})
    keyboard.add_line()
    keyboard.add_openlink_button("Сайт", "https://example.org")
    keyboard.add_line()
    keyboard.add_location_button()
    inline = VkKeyboard(inline=True)
    inline.add_callback_button("Ознакомлен", VkKeyboardColor.POSITIVE, payload={"ack": 7})
    api.messages.send(peer_id=student["id"], message="Меню", random_id=1, keyboard=keyboard.get_keyboard())
    api.messages.send(peer_id=student["id"], message="Важно", random_id=2, keyboard=inline.get_keyboard())
    api.messages.send(peer_id=student["id"], message="Скрыть", random_id=3, keyboard=VkKeyboard.get_empty_keyboard())
    menu, important, hidden = sandbox.messages(student["id"])
    assert menu["keyboard"] == json.loads(keyboard.get_keyboard())
    assert important["keyboard"]["inline"] is True
    assert hidden["keyboard"] == {"one_time": False, "inline": False, "buttons": []}


def _keyboard(rows, inline=False):
    return json.dumps({"one_time": False, "inline": inline, "buttons": rows})


def _text_button(label="Да", payload='{"b":1}', color="primary"):
    return {"action": {"type": "text", "label": label, "payload": payload}, "color": color}


@pytest.mark.parametrize(
    ("name", "keyboard"),
    [
        ("not json", "{"),
        ("not an object", "[1]"),
        ("11 rows", _keyboard([[_text_button()]] * 11)),
        ("6 in a row", _keyboard([[_text_button()] * 6])),
        ("41 buttons", _keyboard([[_text_button()] * 5] * 8 + [[_text_button()]])),
        ("inline 7 rows", _keyboard([[_text_button()]] * 7, inline=True)),
        ("inline 11 buttons", _keyboard([[_text_button()] * 5] * 2 + [[_text_button()]], inline=True)),
        ("long label", _keyboard([[_text_button(label="x" * 41)]])),
        ("long payload", _keyboard([[_text_button(payload=json.dumps({"p": "x" * 250}))]])),
        ("payload not json", _keyboard([[_text_button(payload="{oops")]])),
        ("bad colour", _keyboard([[_text_button(color="pink")]])),
        ("bad action", _keyboard([[{"action": {"type": "dance", "label": "x"}}]])),
        ("no label", _keyboard([[{"action": {"type": "callback"}}]])),
        ("location not alone", _keyboard([[{"action": {"type": "location"}}, _text_button()]])),
        ("one_time inline", json.dumps({"one_time": True, "inline": True, "buttons": [[_text_button()]]})),
    ],
)
def test_a_bad_keyboard_is_error_911(sandbox, api, name, keyboard):
    student = sandbox.add_user()
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student["id"], message="x", random_id=1, keyboard=keyboard)
    assert error.value.code == 911, name
    assert sandbox.messages(student["id"]) == []


def test_keyboards_at_the_limits_pass(sandbox, api):
    student = sandbox.add_user()
    regular = _keyboard([[_text_button(label="x" * 40)] * 5] * 8)  # 8 rows x 5 = 40 buttons
    inline = _keyboard([[_text_button(color="default")] * 5] * 2, inline=True)  # 10 buttons, "default" colour
    payload = json.dumps({"p": "x" * 246})
    assert len(payload) == 255
    long_payload = _keyboard([[_text_button(payload=payload)]])
    for i, keyboard in enumerate((regular, inline, long_payload)):
        api.messages.send(peer_id=student["id"], message="ok", random_id=i + 1, keyboard=keyboard)
    assert len(sandbox.messages(student["id"])) == 3


def test_attachments_are_checked_and_shown(sandbox, api):
    student = sandbox.add_user()
    api.messages.send(peer_id=student["id"], message="см.", random_id=1, attachment="photo-227000001_5_ab12,doc100_7")
    [message] = sandbox.messages(student["id"])
    assert [a["type"] for a in message["attachments"]] == ["photo", "doc"]
    assert message["attachments"][0]["photo"] == {"id": 5, "owner_id": -GROUP_ID, "access_key": "ab12"}
    for bad in ("photo5", "picture1_2", "photo1_2_!!", "doc1_x"):
        with pytest.raises(vk_api.ApiError) as error:
            api.messages.send(peer_id=student["id"], message="x", random_id=2, attachment=bad)
        assert error.value.code == 100, bad


def test_forward_messages_and_forward_json(sandbox, api):
    student = sandbox.add_user()
    sent = sandbox.send(student["id"], "Вопрос про экзамен")
    api.messages.send(peer_id=student["id"], message="пересылаю", random_id=1, forward_messages=sent["message_id"])
    forward = json.dumps(
        {"peer_id": student["id"], "conversation_message_ids": [sent["conversation_message_id"]], "is_reply": True}
    )
    api.messages.send(peer_id=student["id"], message="ответ", random_id=2, forward=forward)
    history = api.messages.getHistory(peer_id=student["id"], rev=1)["items"]
    assert history[1]["fwd_messages"][0]["text"] == "Вопрос про экзамен"
    assert history[2]["reply_message"]["text"] == "Вопрос про экзамен"
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student["id"], message="x", random_id=3, forward="{not json")
    assert error.value.code == 100
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student["id"], message="x", random_id=4, forward_messages=12345)
    assert error.value.code == 100
