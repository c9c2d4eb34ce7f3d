"""The long poll keeps updates for a bounded count and time: a ts older than that is failed 1, skipping the gap."""

from __future__ import annotations

import time

import pytest
import requests
from vk_api.bot_longpoll import VkBotLongPoll

from fsm_bot.sandbox import SandboxError

GROUP_ID = 227000001


def _texts(answer: dict) -> list[str]:
    return [u["object"]["message"]["text"] for u in answer["updates"]]


def test_a_bot_too_far_behind_skips_only_what_the_server_no_longer_holds(sandbox, longpoll):
    student = sandbox.add_user()["id"]
    assert sandbox.longpoll_config(history_events=2)["history_events"] == 2
    start = longpoll.ts
    for text in ("one", "two", "three"):
        sandbox.send(student, text)
    answer = longpoll.poll(ts=start)
    assert answer == {"failed": 1, "ts": int(start) + 1}  # "one" is gone, "two" and "three" are held
    assert _texts(longpoll.poll(ts=answer["ts"])) == ["two", "three"]


def test_updates_older_than_the_window_are_lost_and_vk_api_moves_on(sandbox, sandbox_vk):
    student = sandbox.add_user()["id"]
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    behind = poll.ts
    sandbox.longpoll_config(history_seconds=1)
    sandbox.send(student, "lost while the bot was down")
    time.sleep(1.2)  # the behaviour under test: the update grows older than the 1-second window

    answer = requests.get(
        poll.server, params={"act": "a_check", "key": poll.key, "ts": behind, "wait": 0}, timeout=10
    ).json()
    assert answer == {"failed": 1, "ts": int(behind) + 1}  # past the lost update
    assert sandbox.longpoll_config(history_seconds=None)["history_seconds"] is None  # nothing expires from now
    sandbox.send(student, "after the gap")
    assert poll.check() == []  # vk_api takes the new ts from failed 1
    [event] = poll.check()
    assert event.message.text == "after the gap"


def test_the_window_also_expires_what_nobody_polled(sandbox, longpoll):
    student = sandbox.add_user()["id"]
    start = longpoll.ts
    sandbox.send(student, "old")
    time.sleep(1.2)  # the behaviour under test: the update grows older than the sandbox's 1-second window
    sandbox.longpoll_config(history_seconds=1)  # applies at once to what is held
    current = sandbox.longpoll_config()["ts"]
    assert longpoll.poll(ts=start) == {"failed": 1, "ts": current}


def test_failed_3_injection_still_works_with_a_window(sandbox, sandbox_vk):
    sandbox.longpoll_config(history_seconds=3600, history_events=100)
    poll = VkBotLongPoll(sandbox_vk, GROUP_ID, wait=5)
    first_key = poll.key
    sandbox.inject_fault("longpoll", "failed_3")
    assert poll.check() == []
    assert poll.key != first_key
    student = sandbox.add_user()["id"]
    sandbox.send(student, "после сбоя")
    [event] = poll.check()
    assert event.message.text == "после сбоя"


def test_longpoll_config_checks_its_input_and_a_reset_restores_it(sandbox):
    defaults = sandbox.longpoll_config()
    assert (defaults["history_events"], defaults["history_seconds"]) == (10_000, None)
    for bad in ({"history_events": 0}, {"history_seconds": 0}, {"history_seconds": -5}, {"history_events": 10**9}):
        with pytest.raises(SandboxError) as error:
            sandbox.longpoll_config(**bad)
        assert error.value.status == 400, bad
    with pytest.raises(SandboxError) as error:
        sandbox._call("POST", "longpoll/config", {"history_minutes": 5})
    assert error.value.status == 400
    sandbox.longpoll_config(history_seconds=30, history_events=5)
    assert sandbox.longpoll_config()["history_seconds"] == 30
    sandbox.reset()
    restored = sandbox.longpoll_config()
    assert (restored["history_events"], restored["history_seconds"]) == (10_000, None)
