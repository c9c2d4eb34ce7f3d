"""Members from VK: the community's members with names, its managers as stream admins.
(The headmen and deputies named in settings are copied once, by members/seeding.py.)

Runs at start and periodically; events (message_allow/deny, group_join/leave) keep the table
current in between. VK owns names and membership; the bot owns groups, roles it assigned and
onboarding status, so a sync never undoes what a headman decided.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fsm_bot.members.placement import ensure_community_group, place_everyone
from fsm_bot.members.roles import ADMIN_MANAGER_ROLES
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import MemberProfile, MemberRepository
from fsm_bot.vk.client import VkClient

log = logging.getLogger(__name__)

PAGE = 1000  # groups.getMembers returns at most 1000 per call
EXECUTE_CALLS = 25  # VK runs at most 25 API calls in one execute


@dataclass(frozen=True)
class SyncReport:
    members: int
    new: int
    admins: int
    left: int
    placed: int = 0  # joined the community's own study group (zero configuration)


def fetch_members(client: VkClient, group_id: int) -> list[MemberProfile]:
    profiles: list[MemberProfile] = []
    offset = 0
    while True:
        page = client.call(
            "groups.getMembers",
            {"group_id": group_id, "offset": offset, "count": PAGE, "fields": "first_name,last_name,sex"},
        )
        items = page.get("items", [])
        for item in items:
            if isinstance(item, dict) and "id" in item:
                profiles.append(profile_of(item))
        offset += len(items)
        if not items or offset >= int(page.get("count", 0)):
            return profiles


def profile_of(item: dict[str, object]) -> MemberProfile:
    """A person as users.get / groups.getMembers describe them (a sex VK does not know, or a bad one, is 0)."""
    sex = item.get("sex")
    return MemberProfile(
        int(str(item["id"])),
        str(item.get("first_name", "")),
        str(item.get("last_name", "")),
        sex if isinstance(sex, int) and not isinstance(sex, bool) and sex in (1, 2) else 0,
    )


def fetch_admin_ids(client: VkClient, group_id: int) -> set[int]:
    page = client.call("groups.getMembers", {"group_id": group_id, "filter": "managers", "count": PAGE})
    return {
        int(item["id"])
        for item in page.get("items", [])
        if isinstance(item, dict) and item.get("role") in ADMIN_MANAGER_ROLES
    }


def fetch_community_name(client: VkClient, group_id: int) -> str:
    answer = client.call("groups.getById", {"group_id": group_id})
    groups = answer.get("groups", []) if isinstance(answer, dict) else answer
    return str(groups[0].get("name", "")) if groups and isinstance(groups[0], dict) else ""


def fetch_allowed(client: VkClient, group_id: int, vk_ids: Sequence[int]) -> set[int]:
    """Who of `vk_ids` lets the community write to them, 25 people per execute request.

    A member found by groups.getMembers may never have written to the community; without this, the
    broadcast preview would call everyone unreachable, and the report would learn it only from 901s."""
    allowed: set[int] = set()
    for start in range(0, len(vk_ids), EXECUTE_CALLS):
        chunk = [int(vk_id) for vk_id in vk_ids[start : start + EXECUTE_CALLS]]
        calls = ",".join(
            f'API.messages.isMessagesFromGroupAllowed({{"group_id": {group_id}, "user_id": {vk_id}}}).is_allowed'
            for vk_id in chunk
        )
        answers = client.call("execute", {"code": f"return [{calls}];"})
        allowed |= {vk_id for vk_id, answer in zip(chunk, answers or [], strict=False) if answer == 1}
    return allowed


def sync_members(
    client: VkClient,
    database: Database,
    community_id: int,
    community_group: bool = False,
) -> SyncReport:
    """`community_group`: zero configuration (no stream.groups): the community is its only study group."""
    profiles = fetch_members(client, community_id)
    admins = fetch_admin_ids(client, community_id)
    community_name = fetch_community_name(client, community_id) if community_group else ""
    allowed: set[int] = set()
    if community_group:
        known = database.transaction(lambda session: MemberRepository(session, community_id).known_vk_ids())
        allowed = fetch_allowed(client, community_id, [p.vk_id for p in profiles if p.vk_id not in known])

    def store(session: Session) -> SyncReport:
        members = MemberRepository(session, community_id)
        new = members.upsert_profiles(profiles)
        for vk_id in allowed:
            members.set_can_receive(vk_id, True)
        current = {profile.vk_id for profile in profiles}
        gone = members.current_vk_ids() - current
        for vk_id in gone:
            members.mark_left(vk_id)
        left = len(gone)
        _apply_admins(session, community_id, admins)
        placed = 0
        if community_group:
            group = ensure_community_group(session, community_id, community_name)
            placed = place_everyone(session, community_id, group) if group is not None else 0
        return SyncReport(len(profiles), new, len(admins), left, placed)

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
