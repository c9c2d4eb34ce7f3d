"""Users send files (POST /sandbox/users/{id}/files) that a bot downloads; users.get answers their sex."""

from __future__ import annotations

import base64
import http.client
import json

import pytest
import requests
from vk_api.bot_longpoll import VkBotLongPoll

from fsm_bot.sandbox import SandboxError
from fsm_bot.sandbox.demo import DEMO_STREAM, FEMALE, MALE

GROUP_ID = 227000001
TIMETABLE = "ИВТ-101:\n  понедельник: [математика, физика]\n".encode()
FIVE_MB = 5 * 1024 * 1024


def test_a_headman_sends_a_timetable_file_and_the_bot_downloads_it(sandbox, sandbox_vk, api):
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    attachment = sandbox.add_file(headman, "timetable.yaml", TIMETABLE)
    assert attachment["type"] == "doc"
    doc = attachment["doc"]
    assert (doc["title"], doc["ext"], doc["owner_id"]) == ("timetable.yaml", "yaml", headman)
    assert doc["size"] == len(TIMETABLE)
    assert doc["access_key"] and doc["url"].startswith(sandbox.url)
    sent = sandbox.send(headman, "Новое расписание", attachments=[attachment])

    [event] = poll.check()
    [seen] = event.message.attachments
    assert seen == attachment  # what VK puts in the message is what the route answered
    assert requests.get(seen["doc"]["url"], timeout=10).content == TIMETABLE
    [stored] = api.messages.getHistory(peer_id=headman, count=1)["items"]
    assert stored["id"] == sent["message_id"] and stored["attachments"] == [attachment]


def test_a_student_sends_a_photo_of_a_sick_note(sandbox):
    student = sandbox.add_user()["id"]
    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    attachment = sandbox.add_file(student, "справка.png", picture, kind="photo")
    assert attachment["type"] == "photo"
    photo = attachment["photo"]
    assert photo["owner_id"] == student and photo["access_key"]
    assert requests.get(photo["sizes"][0]["url"], timeout=10).content == picture
    sandbox.send(student, "", attachments=[attachment])
    assert sandbox.messages(student)[0]["attachments"] == [attachment]


def test_files_too_big_or_malformed_are_refused(sandbox, sandbox_server):
    student = sandbox.add_user()["id"]
    assert sandbox.add_file(student, "big.bin", b"x" * FIVE_MB)["doc"]["size"] == FIVE_MB  # the limit itself
    with pytest.raises(SandboxError) as error:
        sandbox.add_file(student, "huge.bin", b"x" * (FIVE_MB + 1))
    assert error.value.status == 413
    # A body declared at 8 MB is refused by its Content-Length before any of it is read (only 2 bytes are sent,
    # so the client is not still writing when the answer comes).
    host, port = sandbox.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", f"/sandbox/users/{student}/files")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(8 * 1024 * 1024))
    connection.endheaders(b"{}")
    huge = connection.getresponse()
    assert huge.status == 413 and "error" in json.loads(huge.read())
    connection.close()

    good = {"type": "doc", "name": "a.txt", "content_base64": base64.b64encode(b"hi").decode()}
    cases = [
        ({**good, "content_base64": "не base64"}, 400),
        ({**good, "content_base64": ""}, 400),
        ({**good, "type": "video"}, 400),
        ({**good, "name": ""}, 400),
        ({**good, "name": "a\nb.txt"}, 400),
        ({**good, "extra": 1}, 400),
        ({"type": "doc", "name": "a.txt"}, 400),
    ]
    for body, status in cases:
        with pytest.raises(SandboxError) as error:
            sandbox._call("POST", f"users/{student}/files", body)
        assert error.value.status == status, body
    with pytest.raises(SandboxError) as error:
        sandbox._call("POST", "users/999999/files", good)
    assert error.value.status == 404
    assert sandbox_server.sandbox.internal_errors == 0


def test_users_get_answers_the_sex_of_demo_users(sandbox, api):
    sandbox.reset(demo=True)
    people = {p.id: p for p in DEMO_STREAM}
    answer = api.users.get(user_ids=list(people), fields="sex")
    assert {u["id"]: u["sex"] for u in answer} == {i: p.sex for i, p in people.items()}
    assert {u["sex"] for u in answer} == {FEMALE, MALE}
    assert "sex" not in api.users.get(user_ids=100001)[0]  # only when asked for


def test_users_created_or_changed_with_a_sex(sandbox, api):
    anna = sandbox.add_user("Анна", "Смирнова", sex=FEMALE)["id"]
    ivan = sandbox.add_user("Иван", "Петров")["id"]
    assert [u["sex"] for u in api.users.get(user_ids=[anna, ivan], fields="sex")] == [FEMALE, 0]
    sandbox.update_user(ivan, sex=MALE)
    assert api.users.get(user_ids=ivan, fields="sex")[0]["sex"] == MALE
    for bad in (3, -1, "male", True):
        with pytest.raises(SandboxError) as error:
            sandbox.update_user(ivan, sex=bad)
        assert error.value.status == 400, bad
    assert api.users.get(user_ids=ivan, fields="sex")[0]["sex"] == MALE
