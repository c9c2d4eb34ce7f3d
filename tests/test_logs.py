"""Tokens never reach a log line, whichever way they try to get there."""

from __future__ import annotations

import json
import logging

import pytest

from fsm_bot.logs import configure_logging, redact

TOKEN = "vk1.a.abcdefghijklmnopqrstuvwxyz0123456789"


def test_redact_hides_known_secrets_and_token_shaped_parameters() -> None:
    assert TOKEN not in redact(f"token is {TOKEN}", [TOKEN])
    assert redact("GET /method/users.get?access_token=zzz123&v=5.199") == (
        "GET /method/users.get?access_token=***&v=5.199"
    )
    assert redact('{"access_token": "zzz123", "v": "5.199"}') == '{"access_token": "***", "v": "5.199"}'
    assert redact("Authorization: Bearer abc.DEF-123") == "Authorization: Bearer ***"
    assert redact("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_and_tracebacks_are_redacted(fmt: str, capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", fmt, secrets=[TOKEN])
    logger = logging.getLogger("fsm_bot.test")
    logger.info("calling VK with %s", TOKEN)
    try:
        raise ConnectionError(f"https://api.vk.ru/method/messages.send?access_token={TOKEN}")
    except ConnectionError:
        logger.exception("request failed")
    err = capfd.readouterr().err
    assert TOKEN not in err
    assert "***" in err
    assert "request failed" in err and "ConnectionError" in err
    if fmt == "json":
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert [record["message"] for record in records] == ["calling VK with ***", "request failed"]
        assert "ConnectionError" in records[1]["exception"]
    logging.getLogger().handlers.clear()
