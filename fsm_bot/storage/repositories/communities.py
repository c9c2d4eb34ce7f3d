from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Community, StudyGroup
from fsm_bot.storage.repositories._upsert import insert_if_absent


class CommunityRepository:
    """Communities and their study groups (ИВТ-101, ИВТ-102, ...)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(self, community_id: int, name: str = "") -> Community:
        insert_if_absent(self.session, Community.__table__, {"id": community_id, "name": name})
        community = self.session.get(Community, community_id)
        assert community is not None
        if name and community.name != name:
            community.name = name
        return community

    def study_group(self, community_id: int, name: str) -> StudyGroup:
        """The group by name, created on first mention (timetable import, settings, onboarding)."""
        name = name.strip()
        insert_if_absent(self.session, StudyGroup.__table__, {"community_id": community_id, "name": name})
        group = self.find_group(community_id, name)
        assert group is not None
        return group

    def find_group(self, community_id: int, name: str) -> StudyGroup | None:
        """The group by its exact name, or None: a lookup that never creates one (flows, exports)."""
        return self.session.scalars(
            select(StudyGroup).where(StudyGroup.community_id == community_id, StudyGroup.name == name)
        ).one_or_none()

    def group_name(self, study_group_id: int | None) -> str | None:
        """The name of a member's group (None for no group); from the session's map when it is loaded."""
        group = self.session.get(StudyGroup, study_group_id) if study_group_id is not None else None
        return group.name if group is not None else None

    def locked(self, community_id: int) -> Community:
        """The community's row, locked until the transaction ends (PostgreSQL): two processes starting at
        once seed it one after the other, the second finding it seeded."""
        self.ensure(community_id)
        community = self.session.get(Community, community_id, with_for_update=True, populate_existing=True)
        assert community is not None
        return community

    def auto_approve(self, community_id: int) -> bool | None:
        """Whether newcomers join without the headman's approval; None while settings have not seeded it."""
        return self.session.scalar(select(Community.auto_approve).where(Community.id == community_id))

    def set_auto_approve(self, community_id: int, on: bool) -> None:
        self.ensure(community_id).auto_approve = on

    def group_by_id(self, community_id: int, study_group_id: int) -> StudyGroup | None:
        group = self.session.get(StudyGroup, study_group_id)
        return group if group is not None and group.community_id == community_id else None

    def remove_group(self, group: StudyGroup) -> None:
        """The group's timetable and register go with it (ON DELETE CASCADE); its members keep their rows."""
        self.session.delete(group)
        self.session.flush()

    def bind_chat(self, community_id: int, group: StudyGroup, peer_id: int) -> None:
        """`peer_id` becomes the group's chat; a chat belongs to one group, so another group bound to it loses it."""
        for other in self.session.scalars(
            select(StudyGroup).where(StudyGroup.community_id == community_id, StudyGroup.chat_peer_id == peer_id)
        ):
            other.chat_peer_id = None
        group.chat_peer_id = peer_id
        self.session.flush()

    def study_groups(self, community_id: int) -> list[StudyGroup]:
        return list(
            self.session.scalars(
                select(StudyGroup).where(StudyGroup.community_id == community_id).order_by(StudyGroup.name)
            )
        )
