"""The one read of a person every message needs (MemberRepository.at_hand), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from fsm_bot.storage import Database
from fsm_bot.storage.models import Dialog
from fsm_bot.storage.repositories import CommunityRepository, DialogRepository, MemberProfile, MemberRepository

GROUP = 227000001
CHAT = 2000000001


def _anna_in_a_group_with_a_dialog(database: Database) -> None:
    with database.unit_of_work() as session:
        CommunityRepository(session).ensure(GROUP, "Поток ИВТ")
        group = CommunityRepository(session).study_group(GROUP, "ИВТ-101")
        members = MemberRepository(session, GROUP)
        members.upsert_profiles([MemberProfile(1, "Анна", "Иванова"), MemberProfile(2, "Пётр", "Смирнов")])
        members.assign_group(1, group.id)
        DialogRepository(session, GROUP).start(1, 1, "survey", "name", {"answers": []})


def test_the_member_their_group_and_their_dialog_come_together(database: Database) -> None:
    _anna_in_a_group_with_a_dialog(database)
    with database.unit_of_work() as session:
        members = MemberRepository(session, GROUP)
        anna = members.at_hand(1, 1)
        assert anna is not None and anna.member.first_name == "Анна"
        assert anna.group is not None and anna.group.name == "ИВТ-101"
        assert anna.dialog is not None and (anna.dialog.flow, anna.dialog.state) == ("survey", "name")
        in_chat = members.at_hand(1, CHAT)  # a dialog in a chat is another one
        assert in_chat is not None and in_chat.member is anna.member and in_chat.dialog is None
        peter = members.at_hand(2, 2)
        assert peter is not None and peter.group is None and peter.dialog is None
        assert members.at_hand(3, 3) is None  # a stranger


def test_changes_to_what_was_read_are_saved(database: Database) -> None:
    _anna_in_a_group_with_a_dialog(database)
    with database.unit_of_work() as session:
        anna = MemberRepository(session, GROUP).at_hand(1, 1)
        assert anna is not None and anna.dialog is not None
        DialogRepository(session, GROUP).begin(anna.dialog, 1, 1, "attendance", "date")
        anna.member.subgroup = 2
    with database.unit_of_work() as session:
        again = MemberRepository(session, GROUP).at_hand(1, 1)
        assert again is not None and again.dialog is not None
        assert (again.dialog.flow, again.dialog.version, again.member.subgroup) == ("attendance", 2, 2)


def test_the_dialog_read_stays_locked_until_the_unit_of_work_ends(database: Database) -> None:
    """As DialogRepository.load: the timeout sweep, which locks the row too, waits for the event."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; it serialises writers itself")
    _anna_in_a_group_with_a_dialog(database)
    with database.unit_of_work() as event_session:
        assert MemberRepository(event_session, GROUP).at_hand(1, 1) is not None
        with database.unit_of_work() as sweep_session, pytest.raises(OperationalError, match="could not obtain lock"):
            sweep_session.execute(select(Dialog).where(Dialog.user_id == 1).with_for_update(nowait=True)).all()
