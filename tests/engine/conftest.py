"""A running bot against the sandbox, in this process, on each database backend in turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from fsm_bot.config import DEFAULT_FLOWS, Settings
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient

TEST_FLOWS = [
    *DEFAULT_FLOWS,
    "tests.engine.sample_flows:survey",
    "tests.engine.sample_flows:leaders_only",
    "tests.engine.sample_flows:crash",
    "tests.engine.sample_flows:slow",
    "tests.engine.sample_flows:remind",
    "tests.engine.sample_flows:refused",
    "tests.engine.sample_flows:stuck",
]


def bot_settings(sandbox: SandboxClient, database_url: str, **overrides: object) -> Settings:
    community = sandbox.community()
    values: dict = {
        "vk": {"token": community["tokens"][0], "group_id": community["group_id"], "api_url": community["api_url"]},
        "database": {"url": database_url},
        "flows": TEST_FLOWS,
        "engine": {"workers": 8, "sweep_seconds": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


@pytest.fixture
def start_bot(sandbox: SandboxClient, database_url: str) -> Iterator[Callable[..., Bot]]:
    """Start a bot (or several, one after the other); every one is stopped at the end."""
    bots: list[Bot] = []

    def start(**overrides: object) -> Bot:
        bot = Bot(bot_settings(sandbox, database_url, **overrides))
        bot.start()
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()
