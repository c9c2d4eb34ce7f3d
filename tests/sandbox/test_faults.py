"""Faults on demand: VK error codes, HTTP 500, dropped connections and long poll failures."""

from __future__ import annotations

import pytest
import requests
import vk_api


@pytest.mark.parametrize("code", [9, 10, 901, 18])
def test_a_vk_error_code_fault_fails_the_next_call_then_stops(sandbox, api, code):
    student = sandbox.add_user()["id"]
    sandbox.inject_fault("messages.send", code)
    with pytest.raises(vk_api.ApiError) as error:
        api.messages.send(peer_id=student, message="a", random_id=1)
    assert error.value.code == code
    assert sandbox.messages(student) == []
    api.messages.send(peer_id=student, message="b", random_id=2)
    assert [m["text"] for m in sandbox.messages(student)] == ["b"]


def test_error_6_fault_is_retried_by_vk_api(sandbox, api):
    """vk_api sleeps and retries error 6 by itself: the call succeeds, the sandbox saw two requests."""
    sandbox.inject_fault("utils.getServerTime", 6)
    assert isinstance(api.utils.getServerTime(), int)
    assert sandbox.stats()["requests"] == 2


def test_captcha_fault_carries_sid_and_image(sandbox, raw):
    sandbox.inject_fault("*", 14)
    error = raw("utils.getServerTime")["error"]
    assert error["error_code"] == 14
    assert error["captcha_sid"] and error["captcha_img"].startswith("https://")


def test_count_and_star_target(sandbox, raw):
    sandbox.inject_fault("*", 10, count=3)
    codes = [
        raw(method).get("error", {}).get("error_code")
        for method in ("utils.getServerTime", "groups.getById", "users.get", "utils.getServerTime")
    ]
    assert codes == [10, 10, 10, None]


def test_a_fault_for_another_method_does_not_fire(sandbox, raw):
    sandbox.inject_fault("messages.send", 10)
    assert "response" in raw("utils.getServerTime")


def test_http_500(sandbox, api, raw):
    sandbox.inject_fault("utils.getServerTime", "http_500")
    with pytest.raises(vk_api.exceptions.ApiHttpError):
        api.utils.getServerTime()
    assert isinstance(api.utils.getServerTime(), int)


def test_disconnect_closes_the_connection_without_an_answer(sandbox):
    sandbox.inject_fault("utils.getServerTime", "disconnect")
    session = requests.Session()
    with pytest.raises(requests.ConnectionError):
        session.post(f"{sandbox.api_url}utils.getServerTime", data={"access_token": sandbox.token}, timeout=5)
    answer = session.post(f"{sandbox.api_url}utils.getServerTime", data={"access_token": sandbox.token}, timeout=5)
    assert "response" in answer.json()


@pytest.mark.parametrize("kind", ["http_500", "disconnect"])
def test_long_poll_transport_faults(sandbox, longpoll, kind):
    sandbox.inject_fault("longpoll", kind)
    if kind == "http_500":
        assert (
            requests.get(longpoll.server, params={"key": longpoll.key, "ts": longpoll.ts}, timeout=5).status_code == 500
        )
    else:
        with pytest.raises(requests.ConnectionError):
            longpoll.poll()
    assert longpoll.poll()["updates"] == []


def test_long_poll_failed_kinds(sandbox, longpoll, raw):
    sandbox.inject_fault("longpoll", "failed_1")
    sandbox.inject_fault("longpoll", "failed_2")
    assert longpoll.poll() == {"failed": 1, "ts": int(longpoll.ts)}
    assert longpoll.poll() == {"failed": 2}
    assert longpoll.poll() == {"failed": 2}  # the key really expired
    longpoll.key = raw("groups.getLongPollServer", group_id=sandbox.group_id)["response"]["key"]
    assert longpoll.poll()["updates"] == []
    sandbox.inject_fault("longpoll", "failed_3")
    assert longpoll.poll() == {"failed": 3}
    assert longpoll.poll() == {"failed": 2}  # failed 3: a new key (and ts) is needed


@pytest.mark.parametrize(
    "body",
    [
        {"target": "longpoll", "kind": 10},
        {"target": "messages.send", "kind": "failed_1"},
        {"target": "messages.send", "kind": "explode"},
        {"target": "messages.send", "kind": True},
        {"target": "messages.send", "kind": 10, "count": 0},
        {"target": "", "kind": 10},
        {"kind": 10},
        {"target": "x", "kind": 10, "extra": 1},
    ],
)
def test_meaningless_faults_are_refused(sandbox, body):
    answer = requests.post(f"{sandbox.url}/sandbox/faults", json=body, timeout=5)
    assert answer.status_code == 400
    assert isinstance(answer.json()["error"], str)
