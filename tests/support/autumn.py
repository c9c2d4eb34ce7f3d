"""The autumn 2026 semester: a study group with a known timetable and subscribed students, in any database.

The semester starts on Tuesday 2026-09-01 in an odd week, so the week of Monday 2026-11-30 is the
14th: even. Wednesday 2026-11-04 is a holiday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo

from fsm_bot.storage import Database
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberProfile,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.texts import Texts
from fsm_bot.timetable import Parity, Semester, Slot

COMMUNITY = 227000001
MOSCOW = ZoneInfo("Europe/Moscow")
SEMESTER = Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.ODD, frozenset({date(2026, 11, 4)}))
SLOTS = [
    Slot(0, time(9, 0), time(10, 30), "Математический анализ", "лекция", "Иванов И. И.", "301"),
    Slot(0, time(10, 45), time(12, 15), "Физика", "практика", "", "214", Parity.ODD, 1),
    Slot(1, time(9, 0), time(10, 30), "Линейная алгебра", "лекция", "", "301"),
    Slot(1, time(10, 45), time(12, 15), "Программирование", "лабораторная", "", "405", Parity.ALL, 2),
    Slot(2, time(9, 0), time(10, 30), "История", "семинар", "", "118"),
]


@dataclass
class Stream:
    database: Database
    group_id: int
    slot_ids: list[int]
    texts: Texts

    def student(self, vk_id: int, subgroup: int | None, group_id: int | None = None) -> int:
        """An approved member of the group; returns the member row id."""

        def add(session) -> int:  # type: ignore[no-untyped-def]
            members = MemberRepository(session, COMMUNITY)
            members.upsert_profiles([MemberProfile(vk_id, "Имя", f"Фамилия{vk_id}")])
            members.assign_group(vk_id, group_id or self.group_id, subgroup)
            member = members.get(vk_id)
            assert member is not None
            member.status = MemberStatus.ACTIVE.value
            member.can_receive = True
            session.flush()
            return member.id

        return self.database.transaction(add)

    def subscribe(self, member_id: int, kind: SubscriptionKind, at: time | None = None, lead: int | None = None) -> int:
        return self.database.transaction(
            lambda session: SubscriptionRepository(session, COMMUNITY).put(member_id, kind, at, lead).id
        )


def seed_autumn(database: Database) -> Stream:
    """The community, ИВТ-101 and its timetable in `database`; add students with `Stream.student`."""

    def seed(session) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(COMMUNITY)
        group = communities.study_group(COMMUNITY, "ИВТ-101")
        timetable = TimetableRepository(session, COMMUNITY)
        timetable.set_semester(SEMESTER)
        return group.id, timetable.replace_slots(group.id, SLOTS)

    group_id, slot_ids = database.transaction(seed)
    return Stream(database, group_id, slot_ids, Texts.load("ru"))
