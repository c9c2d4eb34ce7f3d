"""VK's 20 requests per second per token, error 6 beyond it, and tokens and errors 3/5 around it."""

from __future__ import annotations

import requests


def _burst(sandbox, token: str, count: int) -> list[dict]:
    session = requests.Session()
    url = f"{sandbox.api_url}utils.getServerTime"
    return [session.post(url, data={"access_token": token, "v": "5.199"}, timeout=5).json() for _ in range(count)]


def test_rapid_calls_beyond_20_per_second_are_error_6(sandbox):
    answers = _burst(sandbox, sandbox.token, 40)
    refused = [a for a in answers if "error" in a]
    assert refused, "40 back-to-back calls within about a second must exceed 20 per second"
    assert all(
        a["error"]["error_code"] == 6 and a["error"]["error_msg"] == "Too many requests per second" for a in refused
    )
    assert len(answers) - len(refused) >= 20
    assert sandbox.stats()["rate_limited"] == len(refused)


def test_each_token_has_its_own_budget(sandbox):
    tokens = sandbox.community()["tokens"]
    assert len(tokens) >= 2
    first = _burst(sandbox, tokens[0], 20)
    second = _burst(sandbox, tokens[1], 20)  # a shared budget would refuse these within the same second
    assert all("response" in a for a in first + second)
    assert sandbox.stats()["rate_limited"] == 0


def test_a_null_or_zero_limit_means_unlimited(sandbox):
    for limit in (None, 0):
        sandbox.reset(rps_limit=limit)
        assert all("response" in a for a in _burst(sandbox, sandbox.token, 60))
        assert sandbox.stats()["rate_limited"] == 0


def test_reset_without_rps_limit_restores_the_default(sandbox):
    sandbox.reset(rps_limit=None)
    sandbox.reset()
    assert any("error" in a for a in _burst(sandbox, sandbox.token, 40))


def test_unknown_method_bad_token_and_missing_token(sandbox, raw):
    assert raw("messages.explode")["error"]["error_code"] == 3
    assert raw("messages.explode")["error"]["error_msg"] == "Unknown method passed"
    assert raw("utils.getServerTime", token="wrong")["error"]["error_code"] == 5
    missing = raw("utils.getServerTime", token=None)["error"]
    assert missing["error_code"] == 5 and "no access_token" in missing["error_msg"]


def test_bearer_token_and_get_requests(sandbox):
    answer = requests.get(
        f"{sandbox.api_url}utils.getServerTime", headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=5
    ).json()
    assert isinstance(answer["response"], int)


def test_request_params_never_echo_the_token(sandbox, raw):
    error = raw("messages.send", peer_id=1, message="hi", random_id=1)["error"]
    keys = [p["key"] for p in error["request_params"]]
    assert "access_token" not in keys
    assert {"key": "method", "value": "messages.send"} in error["request_params"]
    assert {"key": "peer_id", "value": "1"} in error["request_params"]
    assert sandbox.token not in str(error)
