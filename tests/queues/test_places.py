"""Places are the database's to give: two joins at the same moment get one place each, on both backends.

Two sessions stand for two workers handling two students' presses at once; the first is held open between
its join and its commit, which is when the second one arrives.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from fsm_bot.storage import Database
from fsm_bot.storage.queue_models import QueueEntry
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from fsm_bot.storage.repositories.queues import QueueRepository
from fsm_bot.storage.types import utcnow

GROUP = 227000002


def _queue_and_members(database: Database) -> tuple[int, list[int]]:
    def write(session) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(GROUP)
        group = CommunityRepository(session).study_group(GROUP, "ИВТ-101")
        members = MemberRepository(session, GROUP)
        members.upsert_profiles([MemberProfile(vk, "Имя", f"Фамилия{vk}") for vk in (1, 2, 3)])
        now = utcnow()
        queue = QueueRepository(session, GROUP).create(group.id, "Общая пара", now, now + timedelta(hours=2), None, 9)
        ids = [member.id for vk in (1, 2, 3) if (member := members.get(vk)) is not None]
        return queue.id, ids

    return database.transaction(write)


def test_a_place_cannot_be_given_twice(database: Database) -> None:
    queue_id, (first, second, _) = _queue_and_members(database)

    def twice(session) -> None:  # type: ignore[no-untyped-def]
        session.add_all([QueueEntry(queue_id=queue_id, member_id=member, place=1) for member in (first, second)])
        session.flush()

    with pytest.raises(IntegrityError):
        database.transaction(twice)


def test_two_joins_at_the_same_moment_get_one_place_each(database: Database) -> None:
    queue_id, (first, second, third) = _queue_and_members(database)
    answers: dict[str, Any] = {}

    def join_meanwhile() -> None:
        answers["place"] = database.transaction(lambda session: QueueRepository(session, GROUP).join(queue_id, second))

    with database.unit_of_work() as session:
        assert QueueRepository(session, GROUP).join(queue_id, first) == 1
        meanwhile = threading.Thread(target=join_meanwhile)
        meanwhile.start()
        meanwhile.join(0.5)
        assert meanwhile.is_alive()  # it waits for this join's lock on the counter, not reading it in between
    meanwhile.join(30)
    assert answers["place"] == 2
    assert database.transaction(lambda session: QueueRepository(session, GROUP).join(queue_id, third)) == 3
    assert database.transaction(lambda session: QueueRepository(session, GROUP).join(queue_id, first)) is None
