"""The VK client against the sandbox: real vk_api, real HTTP, VK's errors on demand."""

from __future__ import annotations

import logging

import pytest

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import Outcome, VkAuthError, VkCallError, VkUnavailableError
from fsm_bot.vk.messages import MessageContent, SendUnit
from fsm_bot.vk.sending import send_units


def test_a_call_reaches_the_sandbox_at_the_configured_url(sandbox: SandboxClient, client: VkClient) -> None:
    user = sandbox.add_user("Анна", "Смирнова")
    [profile] = client.call("users.get", {"user_ids": user["id"]})
    assert (profile["first_name"], profile["last_name"]) == ("Анна", "Смирнова")
    assert sandbox.stats()["calls"]["users.get"] == 1


@pytest.mark.parametrize("kind", [6, 9, 10, "http_500", "disconnect"])
def test_passing_failures_are_retried_until_the_call_succeeds(
    sandbox: SandboxClient, client: VkClient, kind: int | str, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.inject_fault("utils.getServerTime", kind, count=3)
    with caplog.at_level(logging.WARNING):
        assert isinstance(client.call("utils.getServerTime"), int)
    assert sandbox.stats()["requests"] == 4  # three failures and the success
    assert len([record for record in caplog.records if "retry" in record.getMessage()]) == 3


def test_retries_are_bounded(sandbox: SandboxClient, client: VkClient) -> None:
    sandbox.inject_fault("utils.getServerTime", 10, count=50)
    with pytest.raises(VkUnavailableError, match="gave up after 6 attempts"):
        client.call("utils.getServerTime")


def test_final_errors_are_not_retried(sandbox: SandboxClient, client: VkClient) -> None:
    user = sandbox.add_user(allow_messages=False)
    with pytest.raises(VkCallError) as error:
        client.call("messages.send", {"peer_id": user["id"], "message": "hi", "random_id": 1})
    assert error.value.code == 901 and error.value.outcome is Outcome.CANNOT_RECEIVE
    assert sandbox.stats()["calls"]["messages.send"] == 1


def test_a_bad_token_stops_everything_with_a_clear_message(sandbox: SandboxClient) -> None:
    secret = "vk1.a.revoked-token-0123456789"
    client = VkClient([secret], sandbox.api_url)
    with pytest.raises(VkAuthError) as error:
        client.call("utils.getServerTime")
    message = str(error.value)
    assert "community token" in message and "FSM_BOT_VK__TOKEN" in message
    assert secret not in message
    with pytest.raises(VkAuthError):  # remembered: no further calls go out
        client.call("users.get", {"user_ids": 1})
    assert sandbox.stats()["calls"].get("users.get", 0) == 0


def test_requests_are_spread_over_all_tokens(sandbox: SandboxClient) -> None:
    tokens = sandbox.community()["tokens"]
    client = VkClient(tokens, sandbox.api_url)
    for _ in range(len(tokens) * 5):
        client.call("utils.getServerTime")
    used = [len(lane.limiter._recent) for lane in client.lanes]
    assert used == [5] * len(tokens)
    assert sandbox.stats()["rate_limited"] == 0


def test_one_execute_carries_25_sends_and_reports_each(sandbox: SandboxClient, client: VkClient) -> None:
    users = [sandbox.add_user(f"Студент{i}", "Тестов") for i in range(24)]
    blocked = sandbox.add_user("Закрытый", "Профиль", allow_messages=False)
    peers = [user["id"] for user in users] + [blocked["id"]]
    units = [SendUnit((peer,), 1000 + index, MessageContent(f"Привет, {peer}")) for index, peer in enumerate(peers)]
    results = send_units(client, units)
    stats = sandbox.stats()
    assert stats["calls"]["execute"] == 1 and stats["requests"] == 1
    assert [unit_results[0].outcome for unit_results in results] == [Outcome.SENT] * 24 + [Outcome.CANNOT_RECEIVE]
    assert results[-1][0].error_code == 901
    assert all(unit_results[0].message_id for unit_results in results[:24])
    assert sandbox.messages(users[3]["id"])[0]["text"] == f"Привет, {users[3]['id']}"


def test_one_call_carries_100_peers_with_per_peer_errors(sandbox: SandboxClient, client: VkClient) -> None:
    users = [sandbox.add_user(f"Имя{i}", "Фамилия", allow_messages=i != 42) for i in range(100)]
    unit = SendUnit(tuple(user["id"] for user in users), 777, MessageContent("Экзамен перенесли в 301"))
    [results] = send_units(client, [unit])
    outcomes = [result.outcome for result in results]
    assert outcomes.count(Outcome.SENT) == 99
    assert outcomes[42] is Outcome.CANNOT_RECEIVE and results[42].error_code == 901
    assert sandbox.stats()["delivered"] == 99
    # The same unit again (a retry after a lost answer) is dropped by VK's random_id dedup.
    send_units(client, [unit])
    assert sandbox.stats()["delivered"] == 99
    assert sandbox.stats()["deduplicated"] == 99


def test_long_texts_to_many_peers_are_split_over_executes_that_fit(sandbox: SandboxClient, client: VkClient) -> None:
    """25 calls of a 4,000-character text to 100 peers each would make ~500 KB of execute code."""
    sandbox.reset(rps_limit=None)
    users = [sandbox.add_user(f"Имя{i}", "Фамилия")["id"] for i in range(300)]
    text = "Очень длинное объявление. " * 150
    assert len(text) > 3500
    units = [SendUnit(tuple(users[i : i + 100]), 5000 + i, MessageContent(text)) for i in range(0, 300, 100)]
    units += [SendUnit((users[n],), 6000 + n, MessageContent(text)) for n in range(22)]
    results = send_units(client, units)
    assert len(results) == 25
    assert all(result.outcome is Outcome.SENT for unit_results in results for result in unit_results)
    stats = sandbox.stats()
    assert stats["delivered"] == 300 + 22
    assert stats["requests"] > 1  # split, and every part of it accepted


def test_fit_execute_keeps_the_code_under_the_limit() -> None:
    from fsm_bot.vk.messages import MAX_EXECUTE_CODE
    from fsm_bot.vk.sending import execute_code, fit_execute

    long_text = MessageContent("ж" * 4096)
    units = [SendUnit(tuple(range(10**8, 10**8 + 100)), 2**31 - 1, long_text) for _ in range(25)]
    count = fit_execute(units)
    assert 1 <= count < 25
    assert len(execute_code(units[:count])) <= MAX_EXECUTE_CODE < len(execute_code(units[: count + 1]))
    short = [SendUnit((1,), n + 1, MessageContent("ok")) for n in range(30)]
    assert fit_execute(short) == 25
