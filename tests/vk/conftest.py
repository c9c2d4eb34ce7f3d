"""Fixtures for the VK event sources: the sandbox (a local VK over HTTP), the real inbox on both databases."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from fsm_bot.engine.inbox import Inbox
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import ProcessedEvent
from fsm_bot.vk.longpoll import LongPollSource
from fsm_bot.vk.transport import GatewayVkApi, make_vk_api

API_VERSION = "5.199"
Value = TypeVar("Value")


@pytest.fixture
def vk(sandbox: SandboxClient) -> GatewayVkApi:
    """The project's own transport (no vk_api throttling or retries) pointed at the sandbox."""
    return make_vk_api(sandbox.token, sandbox.api_url, API_VERSION, timeout=10)


@pytest.fixture
def inbox(database: Database, sandbox: SandboxClient) -> Inbox:
    return Inbox(database, sandbox.group_id)


def stored_events(database: Database, community_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(event_id, envelope) of every inbox row of the community, in arrival order."""

    def read(session) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
        rows = session.execute(
            select(ProcessedEvent.event_id, ProcessedEvent.payload)
            .where(ProcessedEvent.community_id == community_id)
            .order_by(ProcessedEvent.id)
        )
        return [(row.event_id, row.payload) for row in rows]

    return database.transaction(read)


def stored_ids(database: Database, community_id: int) -> list[str]:
    return [event_id for event_id, _ in stored_events(database, community_id)]


def wait_for(probe: Callable[[], Value], done: Callable[[Value], bool], what: str, timeout: float = 15.0) -> Value:
    """Poll `probe` until `done(value)`; on timeout fail saying what was awaited and what was seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {value!r}"[:2000])
        time.sleep(0.02)


def wait_for_ids(database: Database, community_id: int, expected: list[str], timeout: float = 15.0) -> list[str]:
    """Wait until the inbox holds at least `expected`; returns every stored event id."""
    return wait_for(
        lambda: stored_ids(database, community_id),
        lambda ids: set(expected) <= set(ids),
        f"{len(expected)} events in the inbox",
        timeout,
    )


@pytest.fixture
def sources() -> Iterator[list[LongPollSource]]:
    """Sources a test starts; each is stopped afterwards, so none outlives its test's sandbox reset."""
    started: list[LongPollSource] = []
    yield started
    for source in started:
        assert source.stop(timeout=5), "a long poll source did not stop within 5 s"
