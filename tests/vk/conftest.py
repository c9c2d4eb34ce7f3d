"""Fixtures for the VK event sources: the sandbox (a local VK over HTTP), the real inbox on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsm_bot.engine.inbox import Inbox
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.vk.longpoll import LongPollSource
from fsm_bot.vk.transport import GatewayVkApi, make_vk_api
from tests.support.vk import API_VERSION


@pytest.fixture
def vk(sandbox: SandboxClient) -> GatewayVkApi:
    """The project's own transport (no vk_api throttling or retries) pointed at the sandbox."""
    return make_vk_api(sandbox.token, sandbox.api_url, API_VERSION, timeout=10)


@pytest.fixture
def inbox(database: Database, sandbox: SandboxClient) -> Inbox:
    return Inbox(database, sandbox.group_id)


@pytest.fixture
def sources() -> Iterator[list[LongPollSource]]:
    """Sources a test starts; each is stopped afterwards, so none outlives its test's sandbox reset."""
    started: list[LongPollSource] = []
    yield started
    for source in started:
        assert source.stop(timeout=5), "a long poll source did not stop within 5 s"
