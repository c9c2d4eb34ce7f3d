"""Repositories on both databases, told as what the bot needs from them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from fsm_bot.storage import Database
from fsm_bot.storage.models import Member, ProcessedEvent, Role
from fsm_bot.storage.repositories import (
    CommunityRepository,
    CursorRepository,
    DialogRepository,
    MemberProfile,
    MemberRepository,
    ProcessedEventRepository,
)

GROUP = 227000001


def _community(db: Database) -> None:
    with db.unit_of_work() as session:
        CommunityRepository(session).ensure(GROUP, "Поток ИВТ")


def test_member_sync_keeps_what_the_bot_decided(database: Database) -> None:
    """A periodic sync from VK refreshes names but never demotes a headman or moves a student."""
    _community(database)
    with database.unit_of_work() as session:
        group = CommunityRepository(session).study_group(GROUP, "ИВТ-101")
        members = MemberRepository(session, GROUP)
        assert members.upsert_profiles([MemberProfile(1, "Анна", "Иванова"), MemberProfile(2, "Пётр", "Смирнов")]) == 2
        assert members.set_role(1, Role.HEADMAN)
        assert members.assign_group(1, group.id)
        assert members.assign_group(2, group.id, subgroup=2)
        assert members.set_can_receive(2, True)

    with database.unit_of_work() as session:
        members = MemberRepository(session, GROUP)
        assert members.upsert_profiles([MemberProfile(1, "Анна", "Петрова"), MemberProfile(3, "Олег", "Ким")]) == 1
        anna = members.get(1)
        assert anna is not None
        assert (anna.last_name, anna.role, anna.study_group_id) == ("Петрова", "headman", group.id)
        in_group = members.in_group(group.id)
        assert [member.full_name for member in in_group] == ["Петрова Анна", "Смирнов Пётр"]
        assert [member.can_receive for member in in_group] == [False, True]
        assert members.count() == 3


def test_a_member_who_left_stays_in_the_register_but_not_in_the_group(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        group = CommunityRepository(session).study_group(GROUP, "ИВТ-102")
        members = MemberRepository(session, GROUP)
        members.upsert_profiles([MemberProfile(5, "Ирина", "Орлова")])
        members.assign_group(5, group.id)
        assert members.mark_left(5)
        assert not members.mark_left(999)
    with database.unit_of_work() as session:
        members = MemberRepository(session, GROUP)
        assert members.in_group(group.id) == []
        left = members.in_group(group.id, only_current=False)
        assert [(member.vk_id, member.is_member) for member in left] == [(5, False)]
        assert left[0].left_at is not None and left[0].left_at.tzinfo is not None
        # Coming back (group_join, then a sync) makes them current again.
        members.upsert_profiles([MemberProfile(5, "Ирина", "Орлова")])
        member = members.get(5)
        assert member is not None and member.is_member and member.left_at is None


def test_study_groups_are_created_once_per_name(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        communities = CommunityRepository(session)
        first = communities.study_group(GROUP, "ИВТ-101")
        again = communities.study_group(GROUP, " ИВТ-101 ")
        communities.study_group(GROUP, "ИВТ-102")
        assert first.id == again.id
        assert [group.name for group in communities.study_groups(GROUP)] == ["ИВТ-101", "ИВТ-102"]


def test_dialog_versions_grow_so_old_buttons_can_be_recognised(database: Database) -> None:
    _community(database)
    soon = datetime.now(UTC) + timedelta(minutes=30)
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        dialog = dialogs.start(10, 10, "broadcast", "compose", {"texts": ["Экзамен в 301"]}, soon)
        assert dialog.version == 1
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        loaded = dialogs.load(10, 10)
        assert loaded is not None
        assert (loaded.flow, loaded.state, loaded.data) == ("broadcast", "compose", {"texts": ["Экзамен в 301"]})
        assert loaded.expires_at == soon.replace(microsecond=loaded.expires_at.microsecond)
        restarted = dialogs.start(10, 10, "attendance", "date")
        assert restarted.version == 2 and restarted.data == {}
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        assert dialogs.finish(10, 10)
        assert dialogs.load(10, 10) is None


def test_a_chat_dialog_and_a_private_dialog_of_one_user_are_separate(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        dialogs.start(10, 10, "broadcast", "compose")
        dialogs.start(2000000001, 10, "attendance", "date")
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        private, chat = dialogs.load(10, 10), dialogs.load(2000000001, 10)
        assert private is not None and chat is not None
        assert (private.flow, chat.flow) == ("broadcast", "attendance")


def test_expired_dialogs_are_found_for_the_timeout_job(database: Database) -> None:
    _community(database)
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        dialogs.start(1, 1, "broadcast", "compose", expires_at=now - timedelta(minutes=1))
        dialogs.start(2, 2, "broadcast", "compose", expires_at=now + timedelta(minutes=10))
        dialogs.start(3, 3, "help", "idle")
    with database.unit_of_work() as session:
        assert [dialog.user_id for dialog in DialogRepository(session, GROUP).expired(now)] == [1]


def test_an_event_is_claimed_once_even_by_racing_workers(database: Database) -> None:
    _community(database)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(database.transaction(lambda session: ProcessedEventRepository(session, GROUP).claim("e1")))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]

    with database.unit_of_work() as session:
        events = ProcessedEventRepository(session, GROUP)
        assert events.claim("e2")
        assert not events.claim("e2")


def test_old_event_ids_are_pruned(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        events = ProcessedEventRepository(session, GROUP)
        events.claim("old")
        events.claim("new")
        session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == "old")
            .values(processed_at=datetime.now(UTC) - timedelta(days=2))
        )
    with database.unit_of_work() as session:
        events = ProcessedEventRepository(session, GROUP)
        assert events.prune(datetime.now(UTC) - timedelta(days=1)) == 1
        assert events.claim("old")
        assert not events.claim("new")


def test_the_long_poll_cursor_survives_a_new_session(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        cursor = CursorRepository(session, GROUP)
        assert cursor.get() is None
        cursor.set("17")
        cursor.set("42")
    with database.unit_of_work() as session:
        assert CursorRepository(session, GROUP).get() == "42"


def test_a_failed_unit_of_work_leaves_nothing_behind(database: Database) -> None:
    _community(database)
    try:
        with database.unit_of_work() as session:
            MemberRepository(session, GROUP).upsert_profiles([MemberProfile(7, "Юлия", "Соколова")])
            raise RuntimeError("handler failed")
    except RuntimeError:
        pass
    with database.unit_of_work() as session:
        assert session.get(Member, 1) is None
        assert MemberRepository(session, GROUP).get(7) is None
