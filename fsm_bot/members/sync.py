"""Members from VK: the community's members with names, its managers as stream admins,
and the headmen and deputies named in settings.

Runs at start and periodically; events (message_allow/deny, group_join/leave) keep the table
current in between. VK owns names and membership; the bot owns groups, roles it assigned and
onboarding status, so a sync never undoes what a headman decided.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fsm_bot.members.roles import ADMIN_MANAGER_ROLES
from fsm_bot.storage import Database
from fsm_bot.storage.models import MemberStatus, Role
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from fsm_bot.vk.client import VkClient

log = logging.getLogger(__name__)

PAGE = 1000  # groups.getMembers returns at most 1000 per call


@dataclass(frozen=True)
class GroupLeaders:
    """Settings: who leads a study group (`stream.groups` in settings.yaml)."""

    headman: int | None = None
    deputies: Sequence[int] = ()


@dataclass(frozen=True)
class SyncReport:
    members: int
    new: int
    admins: int
    left: int


def fetch_members(client: VkClient, group_id: int) -> list[MemberProfile]:
    profiles: list[MemberProfile] = []
    offset = 0
    while True:
        page = client.call(
            "groups.getMembers",
            {"group_id": group_id, "offset": offset, "count": PAGE, "fields": "first_name,last_name"},
        )
        items = page.get("items", [])
        for item in items:
            if isinstance(item, dict) and "id" in item:
                profiles.append(MemberProfile(int(item["id"]), item.get("first_name", ""), item.get("last_name", "")))
        offset += len(items)
        if not items or offset >= int(page.get("count", 0)):
            return profiles


def fetch_admin_ids(client: VkClient, group_id: int) -> set[int]:
    page = client.call("groups.getMembers", {"group_id": group_id, "filter": "managers", "count": PAGE})
    return {
        int(item["id"])
        for item in page.get("items", [])
        if isinstance(item, dict) and item.get("role") in ADMIN_MANAGER_ROLES
    }


def sync_members(
    client: VkClient, database: Database, community_id: int, leaders: Mapping[str, GroupLeaders]
) -> SyncReport:
    profiles = fetch_members(client, community_id)
    admins = fetch_admin_ids(client, community_id)

    def store(session: Session) -> SyncReport:
        members = MemberRepository(session, community_id)
        new = members.upsert_profiles(profiles)
        current = {profile.vk_id for profile in profiles}
        gone = members.current_vk_ids() - current
        for vk_id in gone:
            members.mark_left(vk_id)
        left = len(gone)
        _apply_admins(session, community_id, admins)
        _apply_leaders(session, community_id, leaders)
        return SyncReport(len(profiles), new, len(admins), left)

    report = database.transaction(store)
    log.info(
        "members synced: %d in the community (%d new, %d left), %d stream admin(s)",
        report.members,
        report.new,
        report.left,
        report.admins,
    )
    return report


def _apply_admins(session: Session, community_id: int, admin_ids: set[int]) -> None:
    members = MemberRepository(session, community_id)
    for vk_id in admin_ids - members.known_vk_ids():  # a manager who is not a member still administers the stream
        members.upsert_profiles([MemberProfile(vk_id, "", "")])
    members.set_admins(admin_ids)


def _apply_leaders(session: Session, community_id: int, leaders: Mapping[str, GroupLeaders]) -> None:
    communities = CommunityRepository(session)
    members = MemberRepository(session, community_id)
    for group_name, group_leaders in leaders.items():
        group = communities.study_group(community_id, group_name)
        appointed = [(group_leaders.headman, Role.HEADMAN)] if group_leaders.headman else []
        appointed += [(deputy, Role.DEPUTY) for deputy in group_leaders.deputies]
        for vk_id, role in appointed:
            if vk_id is None:
                continue
            if members.get(vk_id) is None:
                members.upsert_profiles([MemberProfile(vk_id, "", "")])
            member = members.get(vk_id)
            assert member is not None
            if member.role != Role.ADMIN.value:
                member.role = role.value
            member.study_group_id = group.id
            member.status = MemberStatus.ACTIVE.value
