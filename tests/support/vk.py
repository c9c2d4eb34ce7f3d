"""VK's side of things for the event-source tests: a sample envelope, and the inbox rows it became."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fsm_bot.storage import Database
from fsm_bot.storage.models import ProcessedEvent
from tests.support.waiting import wait_for

API_VERSION = "5.199"
GROUP = 123456
EVENT_ID = "45586712573ba1939fbad3b0f37ed885781bb8a6"

MESSAGE_NEW: dict[str, Any] = {
    "type": "message_new",
    "group_id": GROUP,
    "event_id": EVENT_ID,
    "v": "5.199",
    "object": {
        "message": {
            "id": 101,
            "date": 1700000000,
            "peer_id": 51422811,
            "from_id": 51422811,
            "out": 0,
            "text": "hi",
            "attachments": [],
            "fwd_messages": [],
            "conversation_message_id": 2551,
            "random_id": 0,
            "important": False,
            "is_hidden": False,
            "version": 1,
            "payload": '{"cmd":"menu"}',
        },
        "client_info": {
            "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
            "keyboard": True,
            "inline_keyboard": True,
            "carousel": True,
            "lang_id": 0,
        },
    },
}


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


def wait_for_ids(database: Database, community_id: int, expected: list[str], timeout: float = 15.0) -> list[str]:
    """Wait until the inbox holds at least `expected`; returns every stored event id."""
    return wait_for(
        lambda: stored_ids(database, community_id),
        lambda ids: set(expected) <= set(ids),
        f"{len(expected)} events in the inbox",
        timeout,
    )
