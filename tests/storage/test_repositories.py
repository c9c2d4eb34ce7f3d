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
    InboxRepository,
    MemberProfile,
    MemberRepository,
    ReceivedEvent,
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
        current = dialogs.load(10, 10)
        assert current is not None
        dialogs.finish(current)
    with database.unit_of_work() as session:
        dialogs = DialogRepository(session, GROUP)
        idle = dialogs.load(10, 10)
        assert idle is not None and (idle.flow, idle.state, idle.data, idle.version) == ("", "", {}, 3)
        assert dialogs.start(10, 10, "broadcast", "compose").version == 4


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


def _received(event_id: str, user_id: int = 1) -> ReceivedEvent:
    return ReceivedEvent(event_id, "message_new", user_id, {"type": "message_new", "event_id": event_id})


def test_an_event_enters_the_inbox_once_even_from_racing_workers(database: Database) -> None:
    """Callback retries of one event may reach two workers at the same moment."""
    _community(database)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(database.transaction(lambda session: InboxRepository(session, GROUP).add([_received("e1")])))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]

    with database.unit_of_work() as session:
        inbox = InboxRepository(session, GROUP)
        assert inbox.add([_received("e1"), _received("e2"), _received("e2")]) == 1
        assert [row.event_id for row in inbox.pending()] == ["e1", "e2"]


def test_handled_events_leave_the_queue_and_are_marked_once(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        InboxRepository(session, GROUP).add([_received("a"), _received("b", 2), _received("c")])
    with database.unit_of_work() as session:
        inbox = InboxRepository(session, GROUP)
        first = inbox.pending(limit=1)[0]
        assert first.event_id == "a" and first.payload == {"type": "message_new", "event_id": "a"}
        assert inbox.mark_handled(first.id)
        assert not inbox.mark_handled(first.id)
    with database.unit_of_work() as session:
        inbox = InboxRepository(session, GROUP)
        assert [(row.event_id, row.user_id) for row in inbox.pending()] == [("b", 2), ("c", 1)]
        after_b = inbox.pending()[0].id
        assert [row.event_id for row in inbox.pending(after_id=after_b)] == ["c"]


def test_old_handled_events_are_pruned_but_unhandled_ones_kept(database: Database) -> None:
    _community(database)
    with database.unit_of_work() as session:
        inbox = InboxRepository(session, GROUP)
        inbox.add([_received("old"), _received("old-unhandled"), _received("new")])
        for row in inbox.pending():
            if row.event_id != "old-unhandled":
                inbox.mark_handled(row.id)
        session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id.in_(["old", "old-unhandled"]))
            .values(received_at=datetime.now(UTC) - timedelta(days=2))
        )
    with database.unit_of_work() as session:
        inbox = InboxRepository(session, GROUP)
        assert inbox.prune(datetime.now(UTC) - timedelta(days=1)) == 1
        assert inbox.add([_received("old")]) == 1
        assert inbox.add([_received("new")]) == 0
        assert [row.event_id for row in inbox.pending()] == ["old-unhandled", "old"]


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
