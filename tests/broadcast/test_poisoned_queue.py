"""One broadcast that cannot be sent never stops the others (issue 15): it is set aside as failed.

Such a row reached the queue once (a dialog let a broadcast of no parts through), and every claim
after it raised IndexError, for every broadcast of everyone, across restarts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fsm_bot.delivery.sender import Sender
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import BroadcastStatus, OutgoingMessage, OutgoingStatus
from fsm_bot.storage.repositories import BroadcastRepository, CommunityRepository, OutboxRepository
from fsm_bot.storage.types import utcnow
from tests.broadcast import test_delivery
from tests.broadcast.test_dialog import wait_until

sender = test_delivery.sender  # the fixture: a Sender with the reply and broadcast queues, running
create = test_delivery.create


def status_of(database: Database, community: int, broadcast: int) -> tuple[str, set[str]]:
    def read(session):  # type: ignore[no-untyped-def]
        repository = BroadcastRepository(session, community)
        found = repository.get(broadcast)
        assert found is not None
        tally = repository.tally(broadcast)
        return found.status, {reason for _, reason in tally.failed}

    return database.transaction(read)


@pytest.mark.parametrize(
    "poison",
    [[], [{"text": ""}], [{"text": 5}], ["not a part"], [{"text": "первая"}, {}]],
    ids=["no parts", "an empty part", "a number for text", "not a dict", "an empty second part"],
)
def test_a_broadcast_that_cannot_be_sent_is_set_aside_and_the_next_goes_out(
    sandbox: SandboxClient,
    database: Database,
    sender: Sender,
    poison: list,
) -> None:
    people = [sandbox.add_user(f"Имя{i}", "Фамилия")["id"] for i in range(5)]
    bad = create(database, sandbox.group_id, poison, people)
    good = create(database, sandbox.group_id, [{"text": "Экзамен в 301"}], people)
    sender.wake()
    wait_until(
        lambda: all(any(m["text"] == "Экзамен в 301" for m in sandbox.messages(p)) for p in people),
        timeout=15,
        what="the good broadcast reaching everyone",
    )
    wait_until(
        lambda: status_of(database, sandbox.group_id, bad)[0] == BroadcastStatus.FAILED.value,
        what="the broken broadcast set aside",
    )
    _, reasons = status_of(database, sandbox.group_id, bad)
    assert len(reasons) == 1 and next(iter(reasons)).startswith("cannot be sent: part ")
    wait_until(
        lambda: status_of(database, sandbox.group_id, good)[0] == BroadcastStatus.DONE.value,
        what="the good broadcast done",
    )
    # Parts that could be sent before the broken one went out; nothing after it did.
    expected_first_parts = 1 if poison and poison[0] == {"text": "первая"} else 0
    assert all(len(sandbox.messages(p)) == 1 + expected_first_parts for p in people)


def test_a_set_aside_broadcast_is_not_queued_again_by_a_resend(sandbox: SandboxClient, database: Database) -> None:
    database.transaction(lambda session: CommunityRepository(session).ensure(sandbox.group_id))
    person = sandbox.add_user("Имя", "Фамилия")["id"]
    bad = create(database, sandbox.group_id, [], [person])

    def set_aside_and_resend(session):  # type: ignore[no-untyped-def]
        repository = BroadcastRepository(session, sandbox.group_id)
        repository.set_aside([bad], "cannot be sent: part 1 is missing")
        return repository.resend_unreached(bad)

    assert database.transaction(set_aside_and_resend) == 0
    status, reasons = status_of(database, sandbox.group_id, bad)
    assert status == BroadcastStatus.FAILED.value and reasons == {"cannot be sent: part 1 is missing"}
    assert not database.transaction(
        lambda session: BroadcastRepository(session, sandbox.group_id).has_claimable(utcnow())
    )


def test_a_reply_that_cannot_be_sent_is_failed_and_the_persons_next_reply_goes_out(
    sandbox: SandboxClient,
    database: Database,
    sender: Sender,
) -> None:
    anna, boris = (sandbox.add_user(name, "Фамилия")["id"] for name in ("Анна", "Борис"))

    def queue_with_a_poisoned_row(session):  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, sandbox.group_id)
        bad = outbox.add(anna, "испорчено")
        outbox.add(anna, "второе")
        outbox.add(boris, "Борису")
        session.flush()
        # Options that are JSON but not an object: what a bug or a hand edit could leave behind.
        session.execute(
            text("UPDATE outgoing_message SET options = :bad WHERE id = :id"), {"bad": "[1, 2]", "id": bad.id}
        )
        return bad.id

    bad = database.transaction(queue_with_a_poisoned_row)
    sender.wake()
    wait_until(lambda: [m["text"] for m in sandbox.messages(anna)] == ["второе"], what="Anna's second reply")
    wait_until(lambda: [m["text"] for m in sandbox.messages(boris)] == ["Борису"], what="Boris's reply")
    row = database.transaction(lambda session: session.get(OutgoingMessage, bad))
    assert row is not None and (row.status, row.error) == (OutgoingStatus.FAILED.value, "cannot be sent")
