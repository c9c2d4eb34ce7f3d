"""The reply outbox: everything queued reaches its person once, in order, whatever VK does meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from fsm_bot.delivery.replies import ReplyQueue, queue_reply
from fsm_bot.delivery.sender import Claimed, Delivery, Sender
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import OutgoingStatus
from fsm_bot.storage.repositories import OutboxRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import Outcome
from fsm_bot.vk.messages import MessageContent
from fsm_bot.vk.sending import PeerResult
from tests.support.waiting import wait_until


class Harness:
    """A sender on the sandbox plus what it reported, started and stopped by the test."""

    def __init__(self, database: Database, community: int, client: VkClient) -> None:
        self.database = database
        self.community = community
        self.deliveries: list[Delivery] = []
        self.fatal: list[Exception] = []
        self._lock = threading.Lock()
        self.sender = Sender(
            database, client, [ReplyQueue(community)], on_delivery=self._record, on_fatal=self.fatal.append
        )

    def _record(self, deliveries: list[Delivery]) -> None:
        with self._lock:
            self.deliveries.extend(deliveries)

    def queue(self, peer_id: int, text: str, **content: object) -> None:
        self.database.transaction(
            lambda session: queue_reply(session, self.community, peer_id, MessageContent(text, **content))  # type: ignore[arg-type]
        )
        self.sender.wake()

    def count(self, status: OutgoingStatus) -> int:
        return self.database.transaction(lambda session: OutboxRepository(session, self.community).count(status))


def claim(database: Database, community: int) -> list[Claimed]:
    """What the sender's next request would carry, claimed (and committed) as the sender does."""
    claimed, _ = database.transaction(
        lambda session: ReplyQueue(community).claim(session, set(), utcnow() + timedelta(minutes=1))
    )
    return claimed


def stored_random_ids(database: Database, community: int, row_ids: list[int]) -> list[int]:
    return database.transaction(
        lambda session: [row.random_id for row in OutboxRepository(session, community).by_ids(row_ids)]
    )


@pytest.fixture
def harness(database: Database, community: int, client: VkClient) -> Iterator[Harness]:
    harness = Harness(database, community, client)
    harness.sender.start()
    yield harness
    harness.sender.stop()


def test_replies_to_300_people_are_batched_and_each_arrives_once(sandbox: SandboxClient, harness: Harness) -> None:
    users = [sandbox.add_user(f"Студент{i}", "Иванов") for i in range(300)]
    for user in users:
        harness.queue(user["id"], f"Ваша заявка №{user['id']} принята")
    wait_until(lambda: harness.count(OutgoingStatus.SENT) == 300, what="300 replies")
    stats = sandbox.stats()
    assert stats["delivered"] == 300
    # Requests VK refused for the rate (error 6) are retried and deliver nothing, so they are left out: whether
    # one lands in VK's window depends on the machine's load, not on the batching this test is about (the
    # limiter's pacing has its own tests on a fake clock).
    assert stats["requests"] - stats["rate_limited"] < 100, "replies were not batched into execute requests"
    for user in users[::37]:
        [message] = sandbox.messages(user["id"])
        assert message["text"] == f"Ваша заявка №{user['id']} принята"


def test_identical_replies_go_as_one_peer_ids_call(sandbox: SandboxClient, harness: Harness) -> None:
    harness.sender.stop()  # queue everything first, as a burst arriving at once would
    users = [sandbox.add_user(f"Имя{i}", "Фамилия") for i in range(150)]
    for user in users:
        harness.database.transaction(
            lambda session, peer=user["id"]: queue_reply(
                session, harness.community, peer, MessageContent("Пара отменена")
            )
        )
    sender = Sender(harness.database, harness.sender.client, [ReplyQueue(harness.community)])
    sender.start()
    try:
        wait_until(lambda: harness.count(OutgoingStatus.SENT) == 150, what="150 replies")
    finally:
        sender.stop()
    stats = sandbox.stats()
    assert stats["delivered"] == 150
    assert stats["requests"] <= 2  # 150 peers = two peer_ids calls, in one execute or two requests


def test_one_persons_replies_arrive_in_order(sandbox: SandboxClient, harness: Harness) -> None:
    user = sandbox.add_user()
    for number in range(1, 8):
        harness.queue(user["id"], f"Шаг {number}")
    wait_until(lambda: harness.count(OutgoingStatus.SENT) == 7)
    assert [message["text"] for message in sandbox.messages(user["id"])] == [f"Шаг {n}" for n in range(1, 8)]


def test_a_long_text_becomes_several_messages_with_the_keyboard_on_the_last(
    sandbox: SandboxClient, harness: Harness
) -> None:
    user = sandbox.add_user()
    text = "\n\n".join(f"Пункт {n}. " + "Подробности пункта. " * 60 for n in range(1, 9))
    keyboard = '{"one_time":false,"inline":true,"buttons":[[{"action":{"type":"text","label":"Ок"}}]]}'
    harness.queue(user["id"], text, keyboard=keyboard)
    wait_until(lambda: harness.count(OutgoingStatus.PENDING) + harness.count(OutgoingStatus.SENDING) == 0)
    messages = sandbox.messages(user["id"])
    assert len(messages) >= 2
    assert all(len(message["text"]) <= 4096 for message in messages)
    assert "".join(" ".join(m["text"] for m in messages).split()) == "".join(text.split())
    assert [message["keyboard"] is not None for message in messages] == [False] * (len(messages) - 1) + [True]


def test_a_person_who_blocked_the_community_is_reported_not_retried(sandbox: SandboxClient, harness: Harness) -> None:
    blocked = sandbox.add_user("Закрыты", "Сообщения", allow_messages=False)
    open_user = sandbox.add_user()
    harness.queue(blocked["id"], "Напоминание")
    harness.queue(open_user["id"], "Напоминание")
    wait_until(lambda: len(harness.deliveries) == 2, what="two deliveries")
    by_peer = {delivery.peer_id: delivery for delivery in harness.deliveries}
    assert by_peer[blocked["id"]].outcome is Outcome.CANNOT_RECEIVE
    assert by_peer[blocked["id"]].error_code == 901
    assert by_peer[open_user["id"]].outcome is Outcome.SENT
    assert harness.count(OutgoingStatus.CANNOT_RECEIVE) == 1
    assert sandbox.stats()["delivered"] == 1


@pytest.mark.parametrize("fault", [6, 9, 10, "http_500", "disconnect"])
def test_vk_failing_during_a_burst_delays_but_never_doubles(
    sandbox: SandboxClient, harness: Harness, fault: int | str
) -> None:
    users = [sandbox.add_user(f"Имя{i}", "Фамилия") for i in range(60)]
    sandbox.inject_fault("*", fault, count=4)
    for user in users:
        harness.queue(user["id"], f"Лично для {user['id']}")
    wait_until(lambda: harness.count(OutgoingStatus.SENT) == 60, what="60 replies despite faults")
    assert sandbox.stats()["delivered"] == 60
    for user in users:
        assert [m["text"] for m in sandbox.messages(user["id"])] == [f"Лично для {user['id']}"]


def test_a_reply_interrupted_by_a_crash_is_resent_and_vk_drops_the_copy(
    sandbox: SandboxClient, database: Database, community: int, client: VkClient
) -> None:
    """The crash came after VK delivered but before the row was marked sent: resend, and VK dedups."""
    user = sandbox.add_user()
    database.transaction(lambda session: queue_reply(session, community, user["id"], MessageContent("Один раз")))
    [claimed] = claim(database, community)
    client.call("messages.send", claimed.unit.params())  # delivered; then kill -9 before the row is settled

    harness = Harness(database, community, client)
    harness.sender.start()
    try:
        wait_until(lambda: harness.count(OutgoingStatus.SENT) == 1)
    finally:
        harness.sender.stop()
    assert [m["text"] for m in sandbox.messages(user["id"])] == ["Один раз"]
    assert sandbox.stats()["deduplicated"] == 1


def test_a_reply_gets_its_random_id_at_its_first_claim_and_keeps_it_after_a_crash(
    database: Database, community: int
) -> None:
    """Queued with none; the claim that precedes the first request stores one; a claim after a crash
    (or a lease that ran out) sends the row again under that same one, so VK can drop the repeat."""
    [row] = database.transaction(lambda session: queue_reply(session, community, 7, MessageContent("Привет")))
    assert row.random_id == 0
    [first] = claim(database, community)
    assert 0 < first.unit.random_id < 2**30  # the replies' half of VK's range
    assert stored_random_ids(database, community, [row.id]) == [first.unit.random_id]  # committed before the send

    database.transaction(lambda session: OutboxRepository(session, community).requeue_interrupted())  # restart
    [again] = claim(database, community)
    assert again.unit.random_id == first.unit.random_id
    assert again.attempts == 2


def test_random_ids_differ_between_rows(database: Database, community: int) -> None:
    """Every request gets its own random_id: 60 different replies to 30 people take three claims
    (a claim sends one reply per person), and no two of the 60 requests share one."""
    rows = database.transaction(
        lambda session: [queue_reply(session, community, 100 + i % 30, MessageContent(f"m{i}"))[0] for i in range(60)]
    )
    sent = []
    while len(sent) < 60:
        claimed = claim(database, community)
        assert claimed, "a row was never claimed"
        sent += [item.unit.random_id for item in claimed]
        database.transaction(  # delivered: the person's next reply may go
            lambda session, claimed=claimed: ReplyQueue(community).settle(
                session,
                claimed,
                [[PeerResult(peer, Outcome.SENT, message_id=1) for peer in item.unit.peer_ids] for item in claimed],
                lambda attempts: utcnow(),
            )
        )
    assert len(set(sent)) == 60
    assert all(0 < random_id < 2**30 for random_id in sent)
    assert sorted(stored_random_ids(database, community, [row.id for row in rows])) == sorted(sent)


def test_a_revoked_token_stops_the_sender_and_keeps_the_replies(
    sandbox: SandboxClient, database: Database, community: int
) -> None:
    user = sandbox.add_user()
    client = VkClient(["revoked-token"], sandbox.api_url)
    harness = Harness(database, community, client)
    harness.sender.start()
    try:
        harness.queue(user["id"], "Не дойдёт сейчас")
        wait_until(lambda: bool(harness.fatal), what="the fatal error")
    finally:
        harness.sender.stop()
    assert "community token" in str(harness.fatal[0])
    assert harness.count(OutgoingStatus.PENDING) == 1
    assert sandbox.messages(user["id"]) == []


def test_an_error_no_retry_can_fix_fails_the_replies_instead_of_retrying_for_ever(
    sandbox: SandboxClient, harness: Harness
) -> None:
    users = [sandbox.add_user(f"Имя{i}", "Фамилия") for i in range(3)]
    sandbox.inject_fault("*", 100, count=1)  # "invalid parameter": the request itself is wrong
    harness.sender.stop()
    for user in users:
        harness.database.transaction(
            lambda session, peer=user["id"]: queue_reply(
                session, harness.community, peer, MessageContent(f"Для {peer}")
            )
        )
    sender = Sender(
        harness.database, harness.sender.client, [ReplyQueue(harness.community)], on_delivery=harness._record
    )
    sender.start()
    try:
        wait_until(lambda: len(harness.deliveries) == 3, what="three final outcomes")
    finally:
        sender.stop()
    assert {delivery.outcome for delivery in harness.deliveries} == {Outcome.BUG}
    assert harness.count(OutgoingStatus.FAILED) == 3
    assert harness.count(OutgoingStatus.PENDING) == 0
