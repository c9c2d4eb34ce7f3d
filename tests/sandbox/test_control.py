"""The control API route by route (SANDBOX_API.md), plus its extension routes and its refusals."""

from __future__ import annotations

import pytest
import requests
from vk_api.keyboard import VkKeyboard

from fsm_bot.sandbox import DEMO_STREAM, SandboxError

GROUP_ID = 227000001
JSON = {"content-type": "application/json"}


def test_community(sandbox):
    community = sandbox.community()
    assert community == {
        "group_id": GROUP_ID,
        "name": community["name"],
        "tokens": ["sandbox-token-1", "sandbox-token-2", "sandbox-token-3"],
        "api_url": f"{sandbox.url}/method/",
        "callback": None,
    }


def test_reset_forgets_everything(sandbox, api):
    student = sandbox.add_user()["id"]
    api.messages.send(peer_id=student, message="hi", random_id=1)
    sandbox.inject_fault("*", 10)
    sandbox.reset()
    assert sandbox.users() == []
    assert sandbox.log() == []
    assert sandbox.stats() == {
        "calls": {},
        "requests": 0,
        "rate_limited": 0,
        "delivered": 0,
        "deduplicated": 0,
        "events": 0,
    }
    assert isinstance(api.utils.getServerTime(), int)  # the fault is gone too


def test_users_crud(sandbox):
    created = sandbox.add_user("Анна", "Смирнова", role="editor")
    assert created == {
        "id": created["id"],
        "first_name": "Анна",
        "last_name": "Смирнова",
        "allow_messages": True,
        "member": True,
        "role": "editor",
    }
    fixed = sandbox.add_user("Ольга", "Викторова", user_id=555)
    assert fixed["id"] == 555
    assert [u["id"] for u in sandbox.users()] == sorted([created["id"], 555])
    assert sandbox.update_user(555, role="creator", allow_messages=False)["role"] == "creator"
    one = requests.get(f"{sandbox.url}/sandbox/users/555", timeout=5).json()
    assert (one["allow_messages"], one["role"]) == (False, "creator")
    deleted = requests.delete(f"{sandbox.url}/sandbox/users/555", timeout=5)
    assert deleted.status_code == 200
    with pytest.raises(SandboxError) as error:
        sandbox.add_user(user_id=555)
    assert error.value.status == 409


def test_patch_emits_only_real_changes(sandbox, longpoll, api):
    api.groups.setLongPollSettings(group_id=GROUP_ID, group_officers_edit=1)  # off by default
    student = sandbox.add_user()["id"]
    sandbox.update_user(student, allow_messages=True, member=True)  # no change: nothing to tell
    sandbox.update_user(student, role="moderator")
    [update] = longpoll.poll()["updates"]
    assert update["type"] == "group_officers_edit"
    assert update["object"] == {"admin_id": 0, "user_id": student, "level_old": 0, "level_new": 1}
    assert sandbox.stats()["events"] == 1


def test_a_deleted_user_cannot_be_written_to(sandbox, api):
    import vk_api

    student = sandbox.add_user()["id"]
    requests.delete(f"{sandbox.url}/sandbox/users/{student}", timeout=5)
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student, message="hi", random_id=1)
    assert error.value.code == 18


def test_send_messages_since_and_press(sandbox, api):
    student = sandbox.add_user()["id"]
    first = sandbox.send(student, "привет")
    assert set(first) == {"message_id", "conversation_message_id", "event_id"}
    assert len(first["event_id"]) == 40
    keyboard = VkKeyboard(inline=True)
    keyboard.add_button("Да", payload={"yes": 1})
    keyboard.add_openlink_button("Сайт", "https://example.org")
    reply = api.messages.send(peer_id=student, message="Точно?", random_id=1, keyboard=keyboard.get_keyboard())
    conversation = sandbox.messages(student)
    assert [(m["from"], m["text"]) for m in conversation] == [("user", "привет"), ("bot", "Точно?")]
    assert conversation[0]["keyboard"] is None and conversation[1]["keyboard"]["inline"] is True
    assert sandbox.messages(student, since=first["message_id"]) == conversation[1:]
    pressed = sandbox.press(student, reply, "Да")
    latest = sandbox.messages(student, since=reply)
    assert [(m["from"], m["text"]) for m in latest] == [("user", "Да")]
    assert len(pressed["event_id"]) == 40
    by_position = sandbox.press(student, reply, row=0, col=0)
    assert by_position["event_id"] != pressed["event_id"]
    with pytest.raises(SandboxError) as error:
        sandbox.press(student, reply, "Нет")
    assert error.value.status == 404
    with pytest.raises(SandboxError) as error:
        sandbox.press(student, reply, row=3, col=0)
    assert error.value.status == 404
    with pytest.raises(SandboxError) as error:
        sandbox.press(student, reply, "Сайт")  # opens a link on the user's side; the bot hears nothing
    assert error.value.status == 409
    with pytest.raises(SandboxError) as error:
        sandbox.press(student, first["message_id"], "Да")  # the user's own message has no buttons
    assert error.value.status == 409
    with pytest.raises(SandboxError) as error:
        sandbox.press(student, 99999, "Да")
    assert error.value.status == 404
    assert sandbox.snackbars(student) == []


def test_send_takes_payload_attachments_and_forwards(sandbox, longpoll):
    student = sandbox.add_user()["id"]
    sandbox.send(student, "фото", payload='{"a":1}', attachments=["photo1_2"], fwd_messages=[{"text": "старое"}])
    message = longpoll.poll()["updates"][0]["object"]["message"]
    assert message["payload"] == '{"a":1}'
    assert message["attachments"] == [{"type": "photo", "photo": {"id": 2, "owner_id": 1}}]
    assert message["fwd_messages"] == [{"text": "старое"}]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "users", {"first_name": 5}, 400),
        ("POST", "users", {"allow_messages": "yes"}, 400),
        ("POST", "users", {"role": "king"}, 400),
        ("POST", "users", {"id": "7"}, 400),
        ("POST", "users", {"nickname": "x"}, 400),
        ("POST", "users", [1, 2], 400),
        ("PATCH", "users/424242", {"member": False}, 404),
        ("PATCH", "users/abc", {"member": False}, 404),
        ("POST", "users/424242/send", {"text": "hi"}, 404),
        ("GET", "users/424242/messages", None, 404),
        ("GET", "users/424242/snackbars", None, 404),
        ("POST", "reset", {"rps_limit": "many"}, 400),
        ("POST", "reset", {"rps_limit": -1}, 400),
        ("POST", "callback", {"url": "ftp://x"}, 400),
        ("POST", "callback", {"secret": "x"}, 400),
        ("POST", "chats", {"member_ids": [424242]}, 400),
        ("POST", "chats/2000000099/send", {"from_id": 1, "text": "x"}, 404),
        ("GET", "nothing-here", None, 404),
        ("DELETE", "stats", None, 405),
    ],
)
def test_bad_input_is_a_4xx_json_error(sandbox, method, path, body, status):
    answer = requests.request(method, f"{sandbox.url}/sandbox/{path}", json=body, timeout=5)
    assert answer.status_code == status, answer.text
    assert isinstance(answer.json()["error"], str)


def test_malformed_json_and_bad_messages_are_400(sandbox):
    student = sandbox.add_user()["id"]
    for data in (b"{", b"\xff\xfe", b"[]", b'"text"'):
        answer = requests.post(f"{sandbox.url}/sandbox/users/{student}/send", data=data, headers=JSON, timeout=5)
        assert answer.status_code == 400, data
    for body in (
        {"text": ""},
        {"text": "x" * 4097},
        {"text": "x", "payload": "{oops"},
        {"text": "x", "attachments": [5]},
        {"text": "x", "attachments": ["photo_bad"]},
    ):
        answer = requests.post(f"{sandbox.url}/sandbox/users/{student}/send", json=body, timeout=5)
        assert answer.status_code == 400, body


def test_chat_routes(sandbox):
    anna, ivan = sandbox.add_user()["id"], sandbox.add_user()["id"]
    peer_id = sandbox.create_chat("ИВТ-101", [anna, ivan])
    chats = requests.get(f"{sandbox.url}/sandbox/chats", timeout=5).json()
    assert chats == [
        {
            "peer_id": peer_id,
            "title": "ИВТ-101",
            "member_ids": [anna, ivan],
            "bot_is_admin": False,
            "pinned_conversation_message_id": None,
        }
    ]
    patched = requests.patch(f"{sandbox.url}/sandbox/chats/{peer_id}", json={"bot_is_admin": True}, timeout=5)
    assert patched.json()["bot_is_admin"] is True
    outsider = sandbox.add_user()["id"]
    with pytest.raises(SandboxError) as error:
        sandbox.chat_send(peer_id, outsider, "я не в беседе")
    assert error.value.status == 400


def test_demo_reset_seeds_the_demo_stream(sandbox):
    sandbox.reset(demo=True)
    users = sandbox.users()
    assert [u["id"] for u in users] == [p.id for p in DEMO_STREAM]
    assert sum(not u["allow_messages"] for u in users) == 2
    assert all(u["member"] for u in users)
    assert [u["role"] for u in users if u["role"]] == ["creator"]
