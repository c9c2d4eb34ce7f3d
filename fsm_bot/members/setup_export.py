"""The stream's set-up as the database holds it, written back as settings.yaml's `stream` section.

The inverse of seeding.py: once «⚙ Настройка» and the dialogs have changed groups, leaders and chats,
the database is the truth, and `fsm-bot groups export` prints it in the form that seeds another
database (a second installation, a move to PostgreSQL, a backup a person can read). Subgroups have no
key in the settings (a student's subgroup is set in the bot), so they are written as comments.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import CommunityRepository, MemberRepository


@dataclass(frozen=True)
class GroupSetup:
    name: str
    headman: int | None
    deputies: tuple[int, ...]
    chat_peer_id: int | None
    subgroups: tuple[tuple[int, int], ...]  # (subgroup, members in it)
    other_headmen: tuple[int, ...] = ()  # settings hold one headman a group; these are left out


@dataclass(frozen=True)
class StreamSetup:
    groups: tuple[GroupSetup, ...]
    auto_approve: bool


def read_setup(session: Session, community_id: int) -> StreamSetup:
    communities = CommunityRepository(session)
    members = MemberRepository(session, community_id)
    groups = []
    for group in communities.study_groups(community_id):
        leaders = members.leaders(group.id)
        headmen = sorted(m.vk_id for m in leaders if m.role == Role.HEADMAN.value)
        deputies = tuple(sorted(m.vk_id for m in leaders if m.role == Role.DEPUTY.value))
        counts = Counter(m.subgroup for m in members.in_group(group.id) if m.subgroup is not None)
        groups.append(
            GroupSetup(
                group.name,
                headmen[0] if headmen else None,
                deputies,
                group.chat_peer_id,
                tuple(sorted(counts.items())),
                tuple(headmen[1:]),
            )
        )
    return StreamSetup(tuple(groups), bool(communities.auto_approve(community_id)))


def setup_yaml(setup: StreamSetup, community_id: int) -> str:
    """settings.yaml's `stream` section: `stream.groups` and `stream.auto_approve`, with the subgroups as comments.

    Written by hand rather than by yaml.dump to keep the comments; every name is a JSON string, which YAML reads
    as the same text whatever it holds (a colon, a #, quotes)."""
    lines = [
        f"# fsm-bot groups export: the set-up of community {community_id} as the database holds it;",
        "# paste it into settings.yaml to seed another database (settings seed an empty database only).",
        "stream:",
        f"  auto_approve: {'true' if setup.auto_approve else 'false'}",
    ]
    if not setup.groups:
        lines.append("  groups: {}")
    else:
        lines.append("  groups:")
    for group in setup.groups:
        entries = []
        if group.headman is not None:
            entries.append(f"headman: {group.headman}")
        if group.other_headmen:
            entries.append(f"# also a headman in the database (settings hold one): {_ids(group.other_headmen)}")
        if group.deputies:
            entries.append(f"deputies: [{_ids(group.deputies)}]")
        if group.chat_peer_id is not None:
            entries.append(f"chat_peer_id: {group.chat_peer_id}")
        if group.subgroups:
            counted = ", ".join(f"{number} ({count})" for number, count in group.subgroups)
            entries.append(f"# subgroups (members): {counted}")
        name = json.dumps(group.name, ensure_ascii=False)
        if not any(not entry.startswith("#") for entry in entries):
            lines.append(f"    {name}: {{}}")
            lines += [f"    {entry}" for entry in entries]  # comments stay readable beside the empty group
            continue
        lines.append(f"    {name}:")
        lines += [f"      {entry}" for entry in entries]
    return "\n".join(lines) + "\n"


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(str(vk_id) for vk_id in ids)
