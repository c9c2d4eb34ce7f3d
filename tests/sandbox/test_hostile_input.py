"""An outside tester's report (issue 15): links that run script, cross-site control requests, deep JSON.

Each story is what a hostile page or client tries, and what the sandbox must answer instead: a 4xx that
says why, never a 500 and never a link the playground would follow.
"""

from __future__ import annotations

import json

import pytest
import requests

JSON = {"content-type": "application/json"}
EVIL_PAGE = "http://evil.example"


def _send(sandbox, user_id: int, body: dict, path: str = "users") -> requests.Response:
    return requests.post(f"{sandbox.url}/sandbox/{path}/{user_id}/send", json=body, timeout=10)


def _doc(url: str) -> dict:
    return {"type": "doc", "doc": {"id": 1, "owner_id": 1, "title": "расписание.pdf", "url": url}}


# --- 1. links: only http(s) or the sandbox's own paths -------------------------------------------------


@pytest.mark.parametrize(
    "attachment",
    [
        _doc("javascript:alert(document.domain)"),
        _doc("JavaScript:alert(1)"),
        _doc(" javascript:alert(1)"),
        _doc("java\tscript:alert(1)"),
        _doc("data:text/html,<script>alert(1)</script>"),
        _doc("vbscript:msgbox(1)"),
        {"type": "photo", "photo": {"id": 1, "owner_id": 1, "sizes": [{"type": "x", "url": "javascript:alert(1)"}]}},
        {"type": "link", "link": {"url": "https://vk.com", "photo": {"photo_604": "data:image/svg+xml,<svg/>"}}},
    ],
)
def test_a_user_cannot_attach_a_document_whose_link_runs_script(sandbox, attachment):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    answer = _send(sandbox, student, {"text": "мой конспект", "attachments": [attachment]})
    assert answer.status_code == 400, answer.text
    assert "http(s)" in answer.json()["error"]
    assert sandbox.messages(student) == []  # nothing reached the conversation, so nothing reaches the page


def test_forwards_and_chats_are_checked_too_and_web_links_pass(sandbox):
    anna, ivan = sandbox.add_user("Анна", "Смирнова")["id"], sandbox.add_user("Иван", "Петров")["id"]
    forwarded = {"from_id": ivan, "text": "держи", "attachments": [_doc("javascript:alert(1)")]}
    answer = _send(sandbox, anna, {"text": "смотри", "fwd_messages": [{"text": "x", "fwd_messages": [forwarded]}]})
    assert answer.status_code == 400
    assert "fwd_messages[0].fwd_messages[0].attachments[0].doc.url" in answer.json()["error"]
    peer_id = sandbox.create_chat("ИВТ-101", [anna, ivan])
    answer = _send(sandbox, peer_id, {"from_id": anna, "attachments": [_doc("data:,x")]}, path="chats")
    assert answer.status_code == 400
    for url in ("https://vk.com/doc1_2", "http://127.0.0.1:8080/upload/files/abc", "/upload/files/abc", ""):
        assert _send(sandbox, anna, {"text": "x", "attachments": [_doc(url)]}).status_code == 200, url
    assert [m["attachments"][0]["doc"]["url"] for m in sandbox.messages(anna)][:3] == [
        "https://vk.com/doc1_2",
        "http://127.0.0.1:8080/upload/files/abc",
        "/upload/files/abc",
    ]


def test_a_bots_open_link_button_must_link_to_the_web(sandbox, raw):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    button = {"action": {"type": "open_link", "label": "Сайт", "link": "javascript:alert(1)"}}
    keyboard = json.dumps({"inline": True, "buttons": [[button]]})
    answer = raw("messages.send", peer_id=student, random_id=0, message="x", keyboard=keyboard)
    assert answer["error"]["error_code"] == 911
    button["action"]["link"] = "https://example.org"
    keyboard = json.dumps({"inline": True, "buttons": [[button]]})
    assert "response" in raw("messages.send", peer_id=student, random_id=0, message="x", keyboard=keyboard)


# --- 2. the control API's door: JSON only, no other site's pages --------------------------------------


def test_a_page_of_another_site_cannot_reset_the_sandbox(sandbox, raw):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    url = f"{sandbox.url}/sandbox/reset"
    # what a form or a no-preflight fetch on evil.example sends: text/plain, the page's Origin
    attacks = [
        {"data": "{}", "headers": {"content-type": "text/plain", "origin": EVIL_PAGE}},
        {"data": "{}", "headers": {"content-type": "application/json", "origin": EVIL_PAGE}},
        {"data": "{}", "headers": {"content-type": "application/json", "origin": "null"}},  # sandboxed iframe
    ]
    for attack in attacks:
        answer = requests.post(url, timeout=10, **attack)
        assert answer.status_code == 403, attack
        assert "cross-origin" in answer.json()["error"]
    gone = requests.delete(f"{sandbox.url}/sandbox/users/{student}", headers={"origin": EVIL_PAGE}, timeout=10)
    assert gone.status_code == 403
    assert [u["id"] for u in sandbox.users()] == [student]  # not reset
    assert "response" in raw("messages.send", peer_id=student, random_id=0, message="x")  # not deleted (18)
    # the sandbox's own page (its fetch sends Origin), and clients without Origin, keep working
    own_origin = sandbox.url  # http://127.0.0.1:<port>, what the playground's fetch sends
    headers = {"content-type": "application/json; charset=utf-8", "origin": own_origin}
    answer = requests.post(f"{sandbox.url}/sandbox/users", data='{"first_name": "Анна"}', headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    local = own_origin.replace("127.0.0.1", "localhost")
    answer = requests.post(
        f"{sandbox.url}/sandbox/users", json={}, headers={"origin": local, "host": local[7:]}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    newcomer = answer.json()["id"]
    assert requests.delete(f"{sandbox.url}/sandbox/users/{newcomer}", timeout=10).status_code == 200  # no body
    assert requests.get(f"{sandbox.url}/sandbox/users", headers={"origin": EVIL_PAGE}, timeout=10).ok  # reads pass


def test_dns_rebinding_is_refused_though_origin_matches_host(sandbox):
    # evil.example resolved to 127.0.0.1: the browser's Origin and Host agree, but name another site
    port = sandbox.url.rsplit(":", 1)[1]
    headers = {**JSON, "origin": f"http://evil.example:{port}", "host": f"evil.example:{port}"}
    answer = requests.post(f"{sandbox.url}/sandbox/reset", data="{}", headers=headers, timeout=10)
    assert answer.status_code == 403


def test_control_bodies_must_be_json(sandbox):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"content-type": content_type} if content_type else {}
        answer = requests.post(
            f"{sandbox.url}/sandbox/users/{student}/send", data=b'{"text": "hi"}', headers=headers, timeout=10
        )
        assert answer.status_code == 415, content_type
        assert "application/json" in answer.json()["error"]
    assert sandbox.messages(student) == []


# --- 3. deep JSON: a 4xx, never a 500 -------------------------------------------------------------------


def _deep_dict(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_deeply_nested_control_bodies_are_400(sandbox, sandbox_server):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    send = f"{sandbox.url}/sandbox/users/{student}/send"
    bodies = [
        "[" * 100_000,
        _deep_dict(10_000),
        json.dumps({"text": "x", "payload": _deep_dict(10_000)}),  # a payload string holding deep JSON
        '{"text": "x", "payload": ' + _deep_dict(300) + "}",
        '{"text": "x", "attachments": [{"type": "doc", "doc": ' + _deep_dict(300) + "}]}",
    ]
    for body in bodies:
        answer = requests.post(send, data=body, headers=JSON, timeout=30)
        assert answer.status_code == 400, (body[:60], answer.text[:200])
        assert isinstance(answer.json()["error"], str)
    for path in ("reset", "users", "faults", "callback", "chats", f"users/{student}/press"):
        answer = requests.post(f"{sandbox.url}/sandbox/{path}", data=_deep_dict(10_000), headers=JSON, timeout=30)
        assert answer.status_code == 400, path
    assert sandbox.messages(student) == []


def test_deeply_nested_vk_parameters_are_vk_errors(sandbox, raw):
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    for deep in ("[" * 100_000, _deep_dict(10_000), '{"buttons": [], "x": ' + _deep_dict(300) + "}"):
        answer = raw("messages.send", peer_id=student, random_id=0, message="x", keyboard=deep)
        assert answer["error"]["error_code"] == 911  # VK's code for a keyboard it cannot read
        for name in ("forward", "payload", "peer_ids", "content_source"):
            answer = raw("messages.send", peer_id=student, random_id=0, message="x", **{name: deep})
            assert answer.get("error", {}).get("error_code", 100) == 100, (name, answer)


def test_execute_that_nests_a_value_in_a_loop_is_error_13(sandbox, raw, sandbox_server):
    code = "var a = []; var i = 0; while (i < 3000) { a = [a]; i = i + 1; } return a;"
    answer = raw("execute", code=code)
    assert answer["error"]["error_code"] == 13, answer
    for deep in ("[" * 20_000 + "]" * 20_000, "(" * 20_000 + "1" + ")" * 20_000):
        assert raw("execute", code=f"return {deep};")["error"]["error_code"] == 12
    assert sandbox_server.sandbox.internal_errors == 0


def test_a_bot_forwarding_its_last_message_forever_gets_a_bounded_chain(sandbox, raw):
    """Each forward nests the last: without VK's 45-level bound, getHistory's answer overflowed (a 500)."""
    sandbox.reset(rps_limit=0)
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    last = raw("messages.send", peer_id=student, random_id=0, message="0")["response"]
    for i in range(1, 600):
        last = raw("messages.send", peer_id=student, random_id=0, message=str(i), forward_messages=last)["response"]
    response = requests.post(
        f"{sandbox.api_url}messages.getHistory",
        data={"peer_id": student, "count": 1, "access_token": sandbox.token, "v": "5.199"},
        timeout=30,
    )
    assert response.status_code == 200
    [message] = response.json()["response"]["items"]
    levels = 0
    while message.get("fwd_messages"):
        [message] = message["fwd_messages"]
        levels += 1
    assert levels == 45
    assert requests.get(f"{sandbox.url}/sandbox/playground/poll", params={"user": student}, timeout=30).ok


def test_non_ascii_digits_in_peer_ids_are_vk_errors_not_a_500(sandbox, raw, sandbox_server):
    """str.isdigit() takes "¹" and "٣" that int() refuses: the event log's recipient parser answered a 500."""
    for peer in ("¹", "٣", "--5", "1,²"):
        answer = raw("messages.send", peer_ids=peer, random_id=1, message="x")
        assert answer["error"]["error_code"] == 100, peer
    assert sandbox_server.sandbox.internal_errors == 0


def test_a_lone_surrogate_is_refused_and_the_long_poll_goes_on(sandbox) -> None:  # type: ignore[no-untyped-def]
    """VK's text is valid Unicode; a "\\ud800" accepted here made every long poll answer a 500 afterwards."""
    user = sandbox.add_user("Анна", "Смирнова")["id"]
    body = b'{"text": "\\ud800 hi"}'  # the JSON escape itself, as a client would send it
    answer = requests.post(
        f"{sandbox.url}/sandbox/users/{user}/send", data=body, headers={"content-type": "application/json"}, timeout=5
    )
    assert answer.status_code == 400 and "surrogate" in answer.json()["error"]
    sandbox.send(user, "привет")
    assert sandbox.messages(user)[-1]["text"] == "привет"
