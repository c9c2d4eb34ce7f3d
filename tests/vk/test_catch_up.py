"""The catch-up against the sandbox and the real inbox (both databases): what VK still holds comes back once."""

from __future__ import annotations

import time
from collections import Counter

from fsm_bot.engine.inbox import Inbox
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.vk.catch_up import CatchUp
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.events import message_key, parse_update
from tests.support.vk import API_VERSION, stored_events


def catch_up(sandbox: SandboxClient, inbox: Inbox, **options: object) -> CatchUp:
    client = VkClient([sandbox.token], sandbox.api_url, API_VERSION, base_delay=0.01)
    return CatchUp(client, sandbox.group_id, inbox, share=20, **options)  # type: ignore[arg-type]


def texts_by_peer(database: Database, community_id: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for _, envelope in stored_events(database, community_id):
        message = envelope["object"]["message"]
        found.setdefault(message["peer_id"], []).append(message["text"])
    return found


def test_unanswered_messages_come_back_in_order_once_and_look_like_the_long_polls(
    sandbox: SandboxClient, inbox: Inbox, database: Database
) -> None:
    anna, boris = sandbox.add_user("Анна")["id"], sandbox.add_user("Борис")["id"]
    sent = [sandbox.send(anna, f"анна {n}") for n in range(3)] + [sandbox.send(boris, "помощь")]
    chat = sandbox.create_chat("ИВТ-101", [anna, boris])
    sandbox.chat_send(chat, boris, "в беседе")

    report = catch_up(sandbox, inbox).run_once()

    # The chat's first message is the invitation of the bot (a service message the long poll delivers too).
    assert (report.conversations, report.offered) == (3, 6)
    assert texts_by_peer(database, sandbox.group_id) == {
        anna: ["анна 0", "анна 1", "анна 2"],
        boris: ["помощь"],
        chat: ["", "в беседе"],
    }
    stored = [parse_update(envelope) for _, envelope in stored_events(database, sandbox.group_id)]
    assert all(event.type == "message_new" and event.group_id == sandbox.group_id for event in stored)
    assert {event.message_id for event in stored if not event.in_chat} == {s["message_id"] for s in sent}
    assert [message_key(event) for event in stored if event.in_chat] == [f"message:{chat}:1", f"message:{chat}:2"]
    # A second catch-up, and the same messages offered as the long poll would: nothing is stored twice.
    assert catch_up(sandbox, inbox).run_once().offered == 0
    assert len(stored_events(database, sandbox.group_id)) == 6


def test_a_message_the_long_poll_stored_first_is_not_stored_again(
    sandbox: SandboxClient, inbox: Inbox, database: Database
) -> None:
    anna = sandbox.add_user("Анна")["id"]
    first, second = sandbox.send(anna, "первое"), sandbox.send(anna, "второе")
    history = {m["id"]: m for m in _history(sandbox, anna)}
    from_long_poll = {
        "type": "message_new",
        "group_id": sandbox.group_id,
        "event_id": first["event_id"],
        "v": API_VERSION,
        "object": {"message": history[first["message_id"]], "client_info": {}},
    }
    inbox.accept([parse_update(from_long_poll)])

    assert catch_up(sandbox, inbox).run_once().offered == 1
    ids = [envelope["event_id"] for _, envelope in stored_events(database, sandbox.group_id)]
    assert ids == [first["event_id"], f"catch-up:{second['message_id']}"]
    inbox.accept([parse_update(from_long_poll)])  # the long poll's copy again, after the catch-up
    assert Counter(texts_by_peer(database, sandbox.group_id)[anna]) == {"первое": 1, "второе": 1}


def test_messages_older_than_the_window_are_marked_read_not_answered(
    sandbox: SandboxClient, inbox: Inbox, database: Database
) -> None:
    anna = sandbox.add_user("Анна")["id"]
    sandbox.send(anna, "вчерашнее")
    a_day_later = catch_up(sandbox, inbox, hours=24, clock=lambda: time.time() + 25 * 3600)

    report = a_day_later.run_once()

    assert (report.offered, report.marked_read) == (0, 1)
    assert stored_events(database, sandbox.group_id) == []
    assert _conversations(sandbox, "unread") == []
    assert catch_up(sandbox, inbox).run_once().offered == 1  # within the window it would have been answered


def _history(sandbox: SandboxClient, peer: int) -> list[dict]:
    client = VkClient([sandbox.token], sandbox.api_url, API_VERSION)
    return client.call("messages.getHistory", {"peer_id": peer, "group_id": sandbox.group_id, "count": 200})["items"]


def _conversations(sandbox: SandboxClient, kind: str) -> list[dict]:
    client = VkClient([sandbox.token], sandbox.api_url, API_VERSION)
    answer = client.call("messages.getConversations", {"filter": kind, "group_id": sandbox.group_id})
    return answer["items"]
