"""The broadcast outbox's own sender, for the tests that drive it without a bot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsm_bot.delivery.broadcasts import BroadcastQueue
from fsm_bot.delivery.replies import ReplyQueue
from fsm_bot.delivery.sender import Sender
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.vk.client import VkClient


@pytest.fixture
def sender(database: Database, sandbox: SandboxClient) -> Iterator[Sender]:
    """A Sender with the reply and broadcast queues, running against the sandbox."""
    database.transaction(lambda session: CommunityRepository(session).ensure(sandbox.group_id))
    client = VkClient([sandbox.token], sandbox.api_url, base_delay=0.02, max_delay=0.5)
    running = Sender(database, client, [ReplyQueue(sandbox.group_id), BroadcastQueue(sandbox.group_id)])
    running.start()
    yield running
    running.stop()
    client.stop.set()
