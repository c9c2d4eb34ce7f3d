"""Zero configuration: the community itself is one study group (issue 17, point 1).

A headman who connects the bot has no shell and no settings.yaml to fill in: VK already knows who the
members are. So while the community has one study group, every member belongs to it at once, with no
onboarding question; the group is created at the first sync, named after the community. Once a second
group exists, newcomers choose theirs as before (onboarding), and nobody is moved.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fsm_bot.storage.models import Member, MemberStatus, StudyGroup
from fsm_bot.storage.repositories import CommunityRepository, MemberRepository

NAME_LIMIT = 64  # the study group's column (config.GroupName)


def ensure_community_group(session: Session, community_id: int, community_name: str) -> StudyGroup | None:
    """The community as a study group, created when the community has none; None when it has several."""
    communities = CommunityRepository(session)
    communities.ensure(community_id, community_name)
    groups = communities.study_groups(community_id)
    if not groups:
        name = community_name.strip()[:NAME_LIMIT].strip() or f"club{community_id}"
        return communities.study_group(community_id, name)
    return groups[0] if len(groups) == 1 else None


def only_group(session: Session, community_id: int) -> StudyGroup | None:
    """The community's study group when it has exactly one (newcomers join it without being asked)."""
    groups = CommunityRepository(session).study_groups(community_id)
    return groups[0] if len(groups) == 1 else None


def place(member: Member, group: StudyGroup) -> bool:
    """Put a member who has no group into `group`, at once (a student, or a manager who leads it)."""
    if member.study_group_id is not None:
        return False
    member.study_group_id, member.status = group.id, MemberStatus.ACTIVE.value
    return True


def place_everyone(session: Session, community_id: int, group: StudyGroup) -> int:
    """Every current member with no group joins `group`; returns how many did."""
    return sum(place(member, group) for member in MemberRepository(session, community_id).current())


def place_newcomer(session: Session, community_id: int, vk_id: int) -> bool:
    """A person seen for the first time (a join, a first message) joins the only group, if there is one."""
    group = only_group(session, community_id)
    member = MemberRepository(session, community_id).get(vk_id)
    if group is None or member is None or not member.is_member:
        return False
    return place(member, group)
