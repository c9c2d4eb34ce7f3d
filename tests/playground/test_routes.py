"""What the playground page stands on, over plain HTTP (no browser needed): its files and its JSON routes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from fsm_bot.sandbox import SandboxClient
from fsm_bot.sandbox.demo import DEMO_STREAM


def get(sandbox: SandboxClient, path: str, **params: Any) -> requests.Response:
    response = requests.get(sandbox.url + path, params=params, timeout=10)
    assert response.status_code == 200, (path, response.status_code, response.text[:200])
    return response


def poll(sandbox: SandboxClient, **params: Any) -> dict[str, Any]:
    return get(sandbox, "/sandbox/playground/poll", **params).json()


def vk(sandbox: SandboxClient, method: str, **params: Any) -> dict[str, Any]:
    data = {"access_token": sandbox.token, "v": "5.199", **params}
    return requests.post(f"{sandbox.api_url}{method}", data=data, timeout=10).json()


def test_the_page_and_every_file_it_loads_are_served_from_the_sandbox_itself(sandbox: SandboxClient) -> None:
    page = get(sandbox, "/").text
    assert '<html lang="ru">' in page and "fsm_bot sandbox" in page
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links and all(link.startswith(("/", "#")) for link in links), links  # nothing from a CDN
    pending = [link for link in links if link.startswith("/playground/")]
    seen: set[str] = set()
    while pending:  # follow the scripts' imports, so a module the page needs cannot go missing
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        response = get(sandbox, path)
        if path.endswith(".js"):
            assert response.headers["content-type"].startswith("text/javascript")
            imports = re.findall(r'from "([^"]+)"', response.text)
            assert all(name.startswith("./") for name in imports), (path, imports)
            pending += [f"/playground/{name[2:]}" for name in imports]
            assert "http://" not in response.text and "https://" not in response.text, path
    assert {"/playground/main.js", "/playground/chat.js", "/playground/playground.css"} <= seen
    assert requests.get(sandbox.url + "/playground/secrets.py", timeout=10).status_code == 404


def test_the_route_overview_moved_to_sandbox_and_links_back(sandbox: SandboxClient) -> None:
    for path in ("/sandbox/", "/api.html"):
        overview = get(sandbox, path).text
        assert "/sandbox/users" in overview and "/sandbox/playground/poll" in overview
        assert 'href="/"' in overview


def test_people_carry_the_part_the_demo_stream_gives_them(sandbox: SandboxClient) -> None:
    sandbox.reset(demo=True)
    people = {p["id"]: p for p in poll(sandbox)["people"]}
    assert len(people) == len(DEMO_STREAM)
    for person in DEMO_STREAM:
        assert (people[person.id]["stream_role"], people[person.id]["study_group"]) == (
            person.stream_role,
            person.study_group,
        )
    headman = next(p for p in DEMO_STREAM if p.stream_role == "headman")
    sandbox.update_user(headman.id, first_name="Другое")  # another person now: no demo part
    assert next(p for p in poll(sandbox)["people"] if p["id"] == headman.id)["stream_role"] is None
    newcomer = sandbox.add_user("Олег", "Новиков")
    assert next(p for p in poll(sandbox)["people"] if p["id"] == newcomer["id"])["stream_role"] is None


def test_a_poll_carries_only_what_changed(sandbox: SandboxClient) -> None:
    user = sandbox.add_user("Анна", "Смирнова")
    first = poll(sandbox, user=user["id"])
    assert first["chat"]["messages"] == [] and [p["id"] for p in first["people"]] == [user["id"]]

    known = {"user": user["id"], "since": first["seq"], "people": first["people_digest"], "chat": first["chat_digest"]}
    quiet = poll(sandbox, **known)
    assert "chat" not in quiet and "people" not in quiet and quiet["journal"] == []

    sandbox.send(user["id"], "привет")
    vk(sandbox, "messages.send", peer_id=user["id"], random_id=7, message="ответ")
    changed = poll(sandbox, **known)
    assert [(m["from"], m["text"]) for m in changed["chat"]["messages"]] == [("user", "привет"), ("bot", "ответ")]
    assert "people" in changed  # the last bot message id changed: the page marks her unread
    kinds = [(e["kind"], e.get("type") or e.get("method")) for e in changed["journal"]]
    assert kinds == [("update", "message_new"), ("api", "messages.send")]
    assert changed["journal"][1]["recipients"] == [user["id"]]

    message_id = changed["chat"]["messages"][1]["id"]
    vk(sandbox, "messages.edit", peer_id=user["id"], message_id=message_id, message="ответ, исправленный")
    edited = poll(sandbox, user=user["id"], chat=changed["chat_digest"])["chat"]["messages"][1]
    assert (edited["id"], edited["text"]) == (message_id, "ответ, исправленный") and edited["update_time"]


def test_the_journal_tells_faults_errors_and_long_poll_failures(sandbox: SandboxClient) -> None:
    user_id = sandbox.add_user("Анна", "Смирнова")["id"]
    start = poll(sandbox)["seq"]
    sandbox.inject_fault("*", 6, count=2)
    assert vk(sandbox, "users.get", user_ids=user_id)["error"]["error_code"] == 6
    assert vk(sandbox, "users.get", user_ids=user_id)["error"]["error_code"] == 6
    assert "response" in vk(sandbox, "users.get", user_ids=user_id)
    server = vk(sandbox, "groups.getLongPollServer", group_id=sandbox.group_id)["response"]
    sandbox.inject_fault("longpoll", "failed_2")
    answer = requests.get(server["server"], params={"act": "a_check", "key": server["key"], "ts": server["ts"]}).json()
    assert answer == {"failed": 2}

    answer = poll(sandbox, since=start)
    named = {"recipients": [user_id], "recipient_count": 1}
    entries = [{k: v for k, v in e.items() if k not in ("seq", "time")} for e in answer["journal"]]
    assert entries == [
        {"kind": "fault", "target": "*", "fault": 6, "count": 2},
        {"kind": "api", "method": "users.get", **named, "error": 6, "fault": 6},
        {"kind": "api", "method": "users.get", **named, "error": 6, "fault": 6},
        {"kind": "api", "method": "users.get", **named},
        {"kind": "api", "method": "groups.getLongPollServer"},
        {"kind": "fault", "target": "longpoll", "fault": "failed_2", "count": 1},
        {"kind": "longpoll", "fault": "failed_2"},
    ]
    assert answer["stats"]["errors"] == 2 and answer["stats"]["rate_limited"] == 0  # injected, not the limiter


def test_execute_is_one_entry_naming_the_calls_inside(sandbox: SandboxClient) -> None:
    user = sandbox.add_user("Анна", "Смирнова")
    start = poll(sandbox)["seq"]
    code = f'API.messages.send({{"peer_id": {user["id"]}, "random_id": 1, "message": "a"}}); return API.users.get();'
    assert "response" in vk(sandbox, "execute", code=code)
    [entry] = poll(sandbox, since=start)["journal"]
    assert entry["method"] == "execute" and entry["calls"] == {"messages.send": 1, "users.get": 1}


@pytest.mark.parametrize(("kind", "name", "magic"), [("photo", "photo.png", b"\x89PNG"), ("doc", "конспект.txt", b"")])
def test_a_users_file_becomes_an_attachment_the_bot_can_send_on(
    sandbox: SandboxClient, kind: str, name: str, magic: bytes
) -> None:
    user = sandbox.add_user("Максим", "Михайлов")
    response = requests.post(f"{sandbox.url}/sandbox/playground/users/{user['id']}/files", json={"type": kind})
    attachment = response.json()
    item = attachment[kind]
    assert attachment["type"] == kind and item["owner_id"] == user["id"]
    url = item["sizes"][-1]["url"] if kind == "photo" else item["url"]
    assert requests.get(url, timeout=10).content.startswith(magic)
    if kind == "doc":
        assert item["title"] == name and item["ext"] == "txt"

    sandbox.send(user["id"], "", attachments=[attachment])
    [sent] = sandbox.messages(user["id"])
    assert sent["attachments"] == [attachment]
    reference = f"{kind}{user['id']}_{item['id']}_{item['access_key']}"
    vk(sandbox, "messages.send", peer_id=user["id"], random_id=1, attachment=reference)
    assert sandbox.messages(user["id"])[-1]["attachments"] == [attachment]  # the bot sends the same file on


def test_files_are_refused_for_unknown_users_and_kinds(sandbox: SandboxClient) -> None:
    user = sandbox.add_user("Максим", "Михайлов")
    base = f"{sandbox.url}/sandbox/playground/users"
    assert requests.post(f"{base}/999999/files", json={"type": "photo"}, timeout=10).status_code == 404
    assert requests.post(f"{base}/{user['id']}/files", json={"type": "video"}, timeout=10).status_code == 400
    assert requests.post(f"{base}/{user['id']}/files", json={"type": "doc", "x": 1}, timeout=10).status_code == 400
