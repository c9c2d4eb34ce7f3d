"""One row that cannot be sent never stops a queue (issue 15): broadcasts, replies, document uploads.

Such a row reached the queue once (a dialog let a broadcast of no parts through), and every claim
after it raised IndexError, for every broadcast of everyone, across restarts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fsm_bot.delivery.sender import Sender
from fsm_bot.delivery.uploads import DocumentUploader
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import BroadcastStatus, OutgoingMessage, OutgoingStatus
from fsm_bot.storage.repositories import (
    BroadcastQueueRepository,
    BroadcastRepository,
    CommunityRepository,
    OutboxRepository,
)
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.client import VkClient
from tests.support.broadcasts import create_broadcast as create
from tests.support.waiting import wait_until


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
        BroadcastQueueRepository(session, sandbox.group_id).set_aside([bad], "cannot be sent: part 1 is missing")
        return BroadcastRepository(session, sandbox.group_id).resend_unreached(bad)

    assert database.transaction(set_aside_and_resend) == 0
    status, reasons = status_of(database, sandbox.group_id, bad)
    assert status == BroadcastStatus.FAILED.value and reasons == {"cannot be sent: part 1 is missing"}
    assert not database.transaction(
        lambda session: BroadcastQueueRepository(session, sandbox.group_id).has_claimable(utcnow())
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


class AnswersOddlyForOneFile(VkClient):
    """VK at the one boundary the sandbox cannot play: docs.save answering a document without its
    owner for one file (the sandbox always answers well-formed)."""

    def call(self, method: str, params: dict | None = None, raw: bool = False, slot=None):  # type: ignore[no-untyped-def]
        if method == "docs.save" and (params or {}).get("title") == "испорчен.ics":
            return {"type": "doc", "doc": {"id": 1}}
        return super().call(method, params, raw=raw, slot=slot)


def test_a_document_whose_upload_fails_oddly_does_not_hold_up_the_next(
    sandbox: SandboxClient, database: Database
) -> None:
    database.transaction(lambda session: CommunityRepository(session).ensure(sandbox.group_id))
    anna, boris = (sandbox.add_user(name, "Фамилия")["id"] for name in ("Анна", "Борис"))

    def queue_documents(session):  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, sandbox.group_id)
        bad = outbox.add_document(anna, "Календарь", "испорчен.ics", b"BEGIN:VCALENDAR")
        good = outbox.add_document(boris, "Календарь", "хороший.ics", b"BEGIN:VCALENDAR")
        session.flush()
        return bad.id, good.id

    bad, good = database.transaction(queue_documents)
    client = AnswersOddlyForOneFile([sandbox.token], sandbox.api_url, base_delay=0.02, max_delay=0.5)
    uploader = DocumentUploader(database, sandbox.group_id, client, lambda: None, lambda name: f"без файла {name}")
    try:
        assert uploader.upload_waiting() == 1
    finally:
        client.stop.set()
    rows = database.transaction(
        lambda session: {row.id: row for row in OutboxRepository(session, sandbox.group_id).by_ids([bad, good])}
    )
    assert rows[good].status == OutgoingStatus.PENDING.value and rows[good].attachment.startswith("doc")
    assert rows[bad].status == OutgoingStatus.UPLOADING.value  # tried again later, up to its limit
