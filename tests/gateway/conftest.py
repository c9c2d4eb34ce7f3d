from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.vk.client import VkClient


@pytest.fixture
def client(sandbox: SandboxClient) -> Iterator[VkClient]:
    """The bot's VK client on the sandbox's first token, with quick retries so fault tests stay short."""
    vk = VkClient([sandbox.token], sandbox.api_url, base_delay=0.02, max_delay=0.5)
    yield vk
    vk.stop.set()


@pytest.fixture
def community(database: Database, sandbox: SandboxClient) -> int:
    database.transaction(lambda session: CommunityRepository(session).ensure(sandbox.group_id))
    return sandbox.group_id
