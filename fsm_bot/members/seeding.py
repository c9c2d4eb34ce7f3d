"""settings.yaml seeds the database once; from then on the database is the truth (issue 17, point 2).

Study groups, their leaders and chats, and whether newcomers need approval used to be applied from
`stream.groups` at every member sync, so a group a community manager created or renamed from VK
(«⚙ Настройка») would be undone by the next sync, or resurrected after a restart with the old
settings.yaml. Now they are copied once per database, at the first start (`community.seeded_at`); a
deployer who edits `stream.groups` later is told at start which groups the database does not have.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from fsm_bot.storage.models import MemberStatus, Role
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from fsm_bot.storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupLeaders:
    """Settings: who leads a study group and its chat (`stream.groups` in settings.yaml)."""

    headman: int | None = None
    deputies: Sequence[int] = ()
    chat_peer_id: int | None = None


@dataclass(frozen=True)
class Seed:
    """What settings.yaml says about the stream, to be copied into an unseeded database."""

    groups: Mapping[str, GroupLeaders] = field(default_factory=dict)
    auto_approve: bool = False


def seed_from_settings(session: Session, community_id: int, seed: Seed) -> bool:
    """Copy `seed` into the database unless it was seeded before; True when it was copied now."""
    communities = CommunityRepository(session)
    community = communities.locked(community_id)
    if community.seeded_at is not None:
        known = {group.name for group in communities.study_groups(community_id)}
        ignored = sorted(name for name in seed.groups if name not in known)
        if ignored:
            log.warning(
                "stream.groups in the settings names %s, which the database does not have: settings only seed "
                "an empty database; create groups from VK («⚙ Настройка»)",
                ", ".join(ignored),
            )
        return False
    _apply_groups(session, community_id, seed.groups)
    if community.auto_approve is None:
        community.auto_approve = seed.auto_approve
    community.seeded_at = utcnow()
    return True


def _apply_groups(session: Session, community_id: int, groups: Mapping[str, GroupLeaders]) -> None:
    communities = CommunityRepository(session)
    members = MemberRepository(session, community_id)
    for group_name, group_leaders in groups.items():
        group = communities.study_group(community_id, group_name)
        if group_leaders.chat_peer_id is not None:
            communities.bind_chat(community_id, group, group_leaders.chat_peer_id)
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
