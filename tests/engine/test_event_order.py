"""A person's events are handled in arrival order even when two workers hold them: the later one waits."""

from __future__ import annotations

import time

from fsm_bot.engine.handler import EventHandler
from fsm_bot.engine.inbox import Inbox
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.runtime.bot import FLOW_CATALOGS
from fsm_bot.services.community import services_factory
from fsm_bot.services.options import CommunityOptions
from fsm_bot.storage import Database
from fsm_bot.storage.models import ProcessedEvent
from fsm_bot.storage.repositories import CommunityRepository, InboxRepository, ReceivedEvent
from fsm_bot.texts import Texts

GROUP = 227000001
PERSON = 100001


def _message(event_id: str, text: str) -> ReceivedEvent:
    envelope = {
        "group_id": GROUP,
        "type": "message_new",
        "event_id": event_id,
        "v": "5.199",
        "object": {
            "message": {
                "id": 0,
                "date": int(time.time()),
                "from_id": PERSON,
                "peer_id": PERSON,
                "text": text,
                "conversation_message_id": 1,
                "out": 0,
                "attachments": [],
                "fwd_messages": [],
            },
            "client_info": {"button_actions": ["text"], "keyboard": True, "inline_keyboard": True},
        },
    }
    return ReceivedEvent(event_id, "message_new", PERSON, envelope)


def test_a_later_event_handed_to_another_worker_first_waits_for_the_earlier(database: Database) -> None:
    database.transaction(lambda session: CommunityRepository(session).ensure(GROUP))
    database.transaction(
        lambda session: InboxRepository(session, GROUP).add([_message("first", "помощь"), _message("second", "меню")])
    )
    first, second = Inbox(database, GROUP).claim(10)
    registry = FlowRegistry.from_names(["help"])
    services = services_factory(GROUP, CommunityOptions(), registry.names)
    handler = EventHandler(database, GROUP, registry, Texts.load("ru", [FLOW_CATALOGS]), lambda user: None, services)

    assert handler.handle(second).deferred  # "first" is still waiting: not now
    assert database.transaction(lambda session: session.get(ProcessedEvent, second.row_id).handled_at) is None

    assert not handler.handle(first).deferred
    assert not handler.handle(second).deferred
    assert handler.handle(second).effects.replies == 0  # handled once only
    handled = database.transaction(
        lambda session: [session.get(ProcessedEvent, row.row_id).handled_at for row in (first, second)]
    )
    assert all(handled)
    assert handled[0] <= handled[1]
