"""The broadcast outbox on its own: batching, random_ids, long parts, against the sandbox."""

from __future__ import annotations

from collections import Counter

from fsm_bot.delivery.sender import Sender
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import BroadcastStatus
from fsm_bot.storage.repositories import BroadcastRepository
from tests.support.broadcasts import create_broadcast as create
from tests.support.waiting import wait_until


def test_2500_copies_go_in_one_request_and_each_batch_has_its_own_random_id(
    sandbox: SandboxClient, database: Database, sender: Sender
) -> None:
    sandbox.reset(rps_limit=20)
    people = [sandbox.add_user(f"Имя{i}", "Фамилия")["id"] for i in range(2500)]
    broadcast = create(database, sandbox.group_id, [{"text": "Экзамен в 301"}], people)
    sender.wake()
    wait_until(lambda: sandbox.stats()["delivered"] == 2500, timeout=30, what="2,500 copies")
    stats = sandbox.stats()
    assert stats["calls"]["execute"] == 1 and stats["requests"] == 1
    random_ids = Counter(entry["random_id"] for entry in sandbox.log())
    assert len(random_ids) == 25 and set(random_ids.values()) == {100}
    assert all(2**30 < random_id < 2**31 for random_id in random_ids)  # the broadcasts' half of the range
    wait_until(
        lambda: (
            database.transaction(lambda session: BroadcastRepository(session, sandbox.group_id).get(broadcast).status)
            == BroadcastStatus.DONE.value
        ),
        what="the broadcast marked done",
    )


def test_a_4000_character_part_to_2000_people_fits_vks_execute_code_limit(
    sandbox: SandboxClient, database: Database, sender: Sender
) -> None:
    sandbox.reset(rps_limit=20)
    people = [sandbox.add_user(f"Имя{i}", "Фамилия")["id"] for i in range(2000)]
    text = "Подробное объявление деканата. " * 129
    assert len(text) > 3900
    create(database, sandbox.group_id, [{"text": text}], people)
    sender.wake()
    wait_until(lambda: sandbox.stats()["delivered"] == 2000, timeout=30, what="2,000 long copies")
    assert Counter(entry["peer_id"] for entry in sandbox.log()).most_common(1)[0][1] == 1
