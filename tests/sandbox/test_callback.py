"""Callback API push to a tiny local receiver: handshake, secret, order, retries and drops."""

from __future__ import annotations

import pytest
import vk_api

GROUP_ID = 227000001


def _confirmation_code(api) -> str:
    """Known before any server is added (VK's way), so the receiver is ready for the handshake."""
    return api.groups.getCallbackConfirmationCode(group_id=GROUP_ID)["code"]


def test_confirmation_first_then_every_update_with_the_secret(sandbox, receiver, eventually, api):
    code = _confirmation_code(api)
    receiver.answer = lambda body: (200, code if body["type"] == "confirmation" else "ok")
    assert sandbox.set_callback(receiver.url, secret="s3cret") == code
    student = sandbox.add_user()["id"]
    sent = [sandbox.send(student, f"сообщение {i}") for i in range(5)]
    received = receiver.wait_for(lambda r: len(r) == 6)
    confirmation, *updates = (r.body for r in received)
    assert confirmation == {"type": "confirmation", "group_id": GROUP_ID, "secret": "s3cret"}
    assert [u["event_id"] for u in updates] == [s["event_id"] for s in sent]  # in order
    assert all(u["secret"] == "s3cret" and u["type"] == "message_new" and u["group_id"] == GROUP_ID for u in updates)
    assert updates[0]["object"]["message"]["text"] == "сообщение 0"
    assert all("X-Retry-Counter" not in r.headers for r in received)
    callback = sandbox.community()["callback"]
    assert callback["url"] == receiver.url and callback["confirmation"] == code
    eventually(lambda: sandbox.community()["callback"]["delivered"] == 5)
    assert sandbox.community()["callback"]["status"] == "ok"


def test_updates_answered_other_than_ok_are_retried_then_dropped(sandbox, receiver, eventually, api):
    code = _confirmation_code(api)
    refused = {"count": 0}

    def answer(body):
        if body["type"] == "confirmation":
            return 200, code
        if body["object"]["message"]["text"] == "flaky" and refused["count"] < 2:
            refused["count"] += 1
            return 500, "oops"
        if body["object"]["message"]["text"] == "never":
            return 200, "not ok"
        return 200, "ok"

    receiver.answer = answer
    sandbox.set_callback(receiver.url, secret="x")
    student = sandbox.add_user()["id"]
    sandbox.send(student, "flaky")
    sandbox.send(student, "never")
    sandbox.send(student, "after")
    received = receiver.wait_for(
        lambda r: any(x.body.get("object", {}).get("message", {}).get("text") == "after" for x in r)
    )
    texts = [(r.body["object"]["message"]["text"], r.headers.get("X-Retry-Counter")) for r in received[1:]]
    assert texts == [
        ("flaky", None),
        ("flaky", "1"),
        ("flaky", "2"),
        ("never", None),
        ("never", "1"),
        ("never", "2"),
        ("never", "3"),
        ("never", "4"),
        ("after", None),
    ]
    eventually(lambda: sandbox.community()["callback"]["delivered"] == 2)
    callback = sandbox.community()["callback"]
    assert (callback["delivered"], callback["dropped"], callback["retries"]) == (2, 1, 6)


def test_a_wrong_confirmation_answer_means_no_updates(sandbox, receiver):
    sandbox.set_callback(receiver.url)
    receiver.answer = lambda body: (200, "wrong code")
    student = sandbox.add_user()["id"]
    sandbox.send(student, "lost")
    receiver.wait_for(lambda r: len(r) >= 2)  # the handshake is retried (the bot may still be starting)
    assert all(r.body["type"] == "confirmation" for r in receiver.received)
    sandbox.set_callback(None)
    assert sandbox.community()["callback"] is None


def test_vk_methods_configure_a_callback_server(sandbox, receiver, api):
    code = _confirmation_code(api)
    receiver.answer = lambda body: (200, code if body["type"] == "confirmation" else "ok")
    server_id = api.groups.addCallbackServer(group_id=GROUP_ID, url=receiver.url, title="bot", secret_key="k")[
        "server_id"
    ]
    api.groups.setCallbackSettings(group_id=GROUP_ID, server_id=server_id, message_new=0, message_deny=1)
    settings = api.groups.getCallbackSettings(group_id=GROUP_ID, server_id=server_id)
    assert settings["events"]["message_new"] == 0 and settings["events"]["message_deny"] == 1
    student = sandbox.add_user()["id"]
    sandbox.send(student, "not wanted")
    sandbox.update_user(student, allow_messages=False)
    received = receiver.wait_for(lambda r: len(r) == 2)
    assert received[1].body["type"] == "message_deny" and received[1].body["secret"] == "k"
    servers = api.groups.getCallbackServers(group_id=GROUP_ID)
    assert servers["count"] == 1 and servers["items"][0]["url"] == receiver.url
    assert api.groups.deleteCallbackServer(group_id=GROUP_ID, server_id=server_id) == 1
    with pytest.raises(vk_api.ApiError) as error:
        api.groups.setCallbackSettings(group_id=GROUP_ID, server_id=server_id, message_new=1)
    assert error.value.code == 100


def test_a_bot_that_starts_late_still_gets_confirmed(sandbox, receiver, api, eventually):
    code = _confirmation_code(api)
    tries = {"confirmations": 0}

    def answer(body):
        if body["type"] == "confirmation":
            tries["confirmations"] += 1
            return (503, "starting") if tries["confirmations"] < 3 else (200, code)
        return 200, "ok"

    receiver.answer = answer
    sandbox.set_callback(receiver.url)
    student = sandbox.add_user()["id"]
    sent = sandbox.send(student, "успел")
    received = receiver.wait_for(lambda r: len(r) == 4)
    assert [r.body["type"] for r in received] == ["confirmation"] * 3 + ["message_new"]
    assert received[3].body["event_id"] == sent["event_id"]
    assert "secret" not in received[3].body  # no secret configured, none sent
    assert eventually(lambda: sandbox.community()["callback"]["status"] == "ok")


def test_dropped_pushes_never_reach_the_endpoint_but_stay_in_the_conversation(sandbox, receiver, eventually, api):
    code = _confirmation_code(api)
    receiver.answer = lambda body: (200, code if body["type"] == "confirmation" else "ok")
    sandbox.set_callback(receiver.url, secret="x")
    student = sandbox.add_user()["id"]
    sandbox.inject_fault("callback", "drop", 2)
    for text in ("потеряно 1", "потеряно 2", "дошло"):
        sandbox.send(student, text)
    received = receiver.wait_for(lambda r: len(r) == 2)  # the confirmation, then only the third
    assert [r.body["object"]["message"]["text"] for r in received[1:]] == ["дошло"]
    eventually(lambda: sandbox.community()["callback"]["delivered"] == 1)
    callback = sandbox.community()["callback"]
    assert (callback["dropped"], callback["retries"]) == (2, 0)
    assert [m["text"] for m in sandbox.messages(student)] == ["потеряно 1", "потеряно 2", "дошло"]


@pytest.mark.parametrize(("target", "kind"), [("callback", 10), ("messages.send", "drop")])
def test_drop_is_a_callback_fault_only(sandbox, target, kind):
    with pytest.raises(Exception, match="callback"):
        sandbox.inject_fault(target, kind)
