"""«⚙ Настройка»: what a community manager changes about the stream from VK (issue 17, point 2).

Study groups are created, renamed and removed here, students moved between them and split into
subgroups, and the approval of newcomers switched. The flow is for stream admins only and the engine
checks that at every step; the service checks it again when it is made, so no other flow (or a forged
payload reaching one) can change the stream's shape through it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import Forbidden
from fsm_bot.storage.models import MemberStatus, Role, StudyGroup
from fsm_bot.storage.repositories import CommunityRepository, MemberRepository

MAX_SUBGROUPS = 4


class Refused(StrEnum):
    """Why a change was not made; the flow says it in words."""

    UNKNOWN_GROUP = "unknown_group"
    TAKEN = "taken"  # another group has that name (ё and case folded)
    NOT_EMPTY = "not_empty"  # a group with students is not removed: move them first
    LAST_GROUP = "last_group"  # the community keeps at least one study group
    UNKNOWN_PERSON = "unknown_person"
    NO_CHAT = "no_chat"  # the group has no chat bound (someone unbound it meanwhile)


@dataclass(frozen=True)
class GroupSummary:
    name: str
    students: int  # current members in the group (pending ones too)
    headman: str | None
    deputies: tuple[str, ...]
    chat_peer_id: int | None
    subgroups: tuple[int, ...]  # the subgroup numbers someone of the group is in


@dataclass(frozen=True)
class Overview:
    groups: tuple[GroupSummary, ...]
    auto_approve: bool


@dataclass(frozen=True)
class Removal:
    refused: Refused | None = None
    students: int = 0  # for NOT_EMPTY: how many are still in the group


class SetupService:
    def __init__(self, session: Session, community_id: int, member: MemberInfo, default_auto_approve: bool) -> None:
        if member.role is not Role.ADMIN:
            raise Forbidden(Role.ADMIN)
        self._session = session
        self._community_id = community_id
        self._communities = CommunityRepository(session)
        self._members = MemberRepository(session, community_id)
        self._default_auto_approve = default_auto_approve

    # --- what there is

    def overview(self) -> Overview:
        return Overview(
            tuple(self._summary(group) for group in self._communities.study_groups(self._community_id)),
            self.auto_approve,
        )

    def _summary(self, group: StudyGroup) -> GroupSummary:
        members = self._members.in_group(group.id)
        headman = next((m.full_name or f"id{m.vk_id}" for m in members if m.role == Role.HEADMAN.value), None)
        deputies = tuple(m.full_name or f"id{m.vk_id}" for m in members if m.role == Role.DEPUTY.value)
        return GroupSummary(
            group.name, len(members), headman, deputies, group.chat_peer_id, tuple(self._members.subgroups(group.id))
        )

    def group_names(self) -> list[str]:
        return [group.name for group in self._communities.study_groups(self._community_id)]

    def students(self, group_name: str) -> list[MemberInfo]:
        """The group's current members, by surname (people of its list without VK too)."""
        group = self._group(group_name)
        return [] if group is None else [MemberInfo.of(m, group.name) for m in self._members.in_group(group.id)]

    # --- groups

    def create_group(self, name: str) -> Refused | None:
        if self._same_name(name) is not None:
            return Refused.TAKEN
        self._communities.study_group(self._community_id, name)
        return None

    def rename_group(self, old: str, new: str) -> Refused | None:
        group = self._group(old)
        if group is None:
            return Refused.UNKNOWN_GROUP
        same = self._same_name(new)
        if same is not None and same.id != group.id:
            return Refused.TAKEN
        group.name = new
        self._session.flush()
        return None

    def remove_group(self, name: str) -> Removal:
        """Only an empty group goes: removing one with students would leave them in no group, and the
        register of their absences would go with it (ON DELETE CASCADE). The manager moves them first."""
        group = self._group(name)
        if group is None:
            return Removal(Refused.UNKNOWN_GROUP)
        if len(self._communities.study_groups(self._community_id)) == 1:
            return Removal(Refused.LAST_GROUP)
        students = len(self._members.in_group(group.id))
        if students:
            return Removal(Refused.NOT_EMPTY, students)
        self._communities.remove_group(group)
        return Removal()

    # --- people

    def move(self, vk_id: int, group_name: str) -> MemberInfo | Refused:
        """Put a member into another group, active at once. A headman or deputy led the group they leave,
        so they become a student there (appoint them again in the new one); a stream admin stays one."""
        group = self._group(group_name)
        if group is None:
            return Refused.UNKNOWN_GROUP
        member = self._members.get(vk_id)
        if member is None:
            return Refused.UNKNOWN_PERSON
        if member.study_group_id != group.id:
            if member.role in (Role.HEADMAN.value, Role.DEPUTY.value):
                member.role = Role.STUDENT.value
            member.study_group_id, member.subgroup = group.id, None
        member.status = MemberStatus.ACTIVE.value
        self._session.flush()
        return MemberInfo.of(member, group.name)

    def set_subgroups(self, group_name: str, count: int) -> Refused | None:
        """The group has `count` subgroups (0: none): members of a subgroup beyond it are in none."""
        group = self._group(group_name)
        if group is None:
            return Refused.UNKNOWN_GROUP
        count = max(0, min(count, MAX_SUBGROUPS))
        for member in self._members.in_group(group.id, only_current=False):
            if member.subgroup is not None and (member.subgroup > count or count == 0):
                self._members.set_subgroup(member.vk_id, None)
        return None

    def assign_subgroup(self, group_name: str, number: int, vk_ids: Collection[int]) -> Refused | None:
        """Exactly `vk_ids` of the group are in subgroup `number`; others who were in it are in none now.
        Ids from another group (a forged press) are left alone."""
        group = self._group(group_name)
        if group is None or not 1 <= number <= MAX_SUBGROUPS:
            return Refused.UNKNOWN_GROUP
        chosen = set(vk_ids)
        for member in self._members.in_group(group.id):
            if member.vk_id in chosen:
                self._members.set_subgroup(member.vk_id, number)
            elif member.subgroup == number:
                self._members.set_subgroup(member.vk_id, None)
        return None

    # --- newcomers

    @property
    def auto_approve(self) -> bool:
        stored = self._communities.auto_approve(self._community_id)
        return self._default_auto_approve if stored is None else stored

    def set_auto_approve(self, on: bool) -> None:
        self._communities.set_auto_approve(self._community_id, on)

    # --- chats

    def chat_groups(self) -> list[str]:
        """The groups that have a chat bound: the ones «Отвязать беседу» offers."""
        return [g.name for g in self._communities.study_groups(self._community_id) if g.chat_peer_id is not None]

    def unbind_chat(self, group_name: str) -> Refused | None:
        """The group has no chat from now on: broadcasts are no longer offered for posting there (a chat the
        group left, or one bound by mistake). The bot stays in the chat; binding it again is inviting it anew
        or pressing the group in the chat's question."""
        group = self._group(group_name)
        if group is None:
            return Refused.UNKNOWN_GROUP
        if group.chat_peer_id is None:
            return Refused.NO_CHAT
        group.chat_peer_id = None
        self._session.flush()
        return None

    # --- helpers

    def _group(self, name: str) -> StudyGroup | None:
        return self._communities.find_group(self._community_id, name)

    def _same_name(self, name: str) -> StudyGroup | None:
        """The group already called `name` as people read it: «ивт-101» and «ИВТ-101» are one group."""
        wanted = fold(name)
        return next((g for g in self._communities.study_groups(self._community_id) if fold(g.name) == wanted), None)
