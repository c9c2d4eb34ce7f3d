"""`fsm-bot groups export`: the stream's set-up, as the database holds it, printed as settings.yaml's `stream`.

The printout must seed another database: loaded by the settings loader it gives the same groups, leaders,
chats and approval, and a second database seeded from it exports the same again.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from fsm_bot.config import load_settings
from fsm_bot.members.seeding import GroupLeaders, Seed, seed_from_settings
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository
from tests.support.bots import fsm_bot

COMMUNITY = 227000001
ODD_NAME = 'ПМИ "А": #2'  # quotes, a colon and a hash: YAML must still read the same name


def seed_stream(database_url: str) -> None:
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def write(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(COMMUNITY)
        communities.set_auto_approve(COMMUNITY, True)
        ivt = communities.study_group(COMMUNITY, "ИВТ-101")
        communities.bind_chat(COMMUNITY, ivt, 2_000_000_001)
        odd = communities.study_group(COMMUNITY, ODD_NAME)
        communities.study_group(COMMUNITY, "ФИЗ-101")  # nobody leads it yet
        members = MemberRepository(session, COMMUNITY)
        people = [(101, ivt, Role.HEADMAN, None), (103, ivt, Role.DEPUTY, None), (102, ivt, Role.DEPUTY, None)]
        people += [(200 + n, ivt, Role.STUDENT, 1 + n % 2) for n in range(5)]  # subgroups 1 (3) and 2 (2)
        people += [(301, odd, Role.HEADMAN, None), (302, odd, Role.HEADMAN, None)]  # two headmen: one is kept
        members.upsert_profiles([MemberProfile(vk_id, "Имя", "Фамилия") for vk_id, *_ in people])
        for vk_id, group, role, subgroup in people:
            members.set_role(vk_id, role)
            members.assign_group(vk_id, group.id, subgroup)

    database.transaction(write)
    database.dispose()


def export(tmp_path: Path, database_url: str, name: str) -> str:
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"vk:\n  group_id: {COMMUNITY}\ndatabase:\n  url: {database_url}\n", encoding="utf-8")
    result = fsm_bot("groups", "export", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_set_up_round_trips_through_the_settings_loader_and_seeds_another_database(
    tmp_path: Path, database_url: str
) -> None:
    seed_stream(database_url)
    printed = export(tmp_path, database_url, "first")
    assert "# subgroups (members): 1 (3), 2 (2)" in printed
    assert "# also a headman in the database (settings hold one): 302" in printed

    copy = tmp_path / "copy.yaml"
    copy.write_text(f"vk:\n  group_id: {COMMUNITY}\n" + printed, encoding="utf-8")
    stream = load_settings(copy).stream
    assert stream.auto_approve is True
    assert {name: group.model_dump() for name, group in stream.groups.items()} == {
        "ИВТ-101": {"headman": 101, "deputies": [102, 103], "chat_peer_id": 2_000_000_001},
        ODD_NAME: {"headman": 301, "deputies": [], "chat_peer_id": None},
        "ФИЗ-101": {"headman": None, "deputies": [], "chat_peer_id": None},
    }
    assert yaml.safe_load(printed)["stream"]["groups"].keys() == stream.groups.keys()

    # Another database seeded from the printout holds the same set-up (subgroups are the students' own).
    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    second = Database(second_url)
    upgrade_to_head(second.engine)
    groups = {
        name: GroupLeaders(group.headman, tuple(group.deputies), group.chat_peer_id)
        for name, group in stream.groups.items()
    }
    assert second.transaction(lambda session: seed_from_settings(session, COMMUNITY, Seed(groups, stream.auto_approve)))
    second.dispose()
    again = export(tmp_path, second_url, "second")
    assert again == printed.replace("      # subgroups (members): 1 (3), 2 (2)\n", "").replace(
        "      # also a headman in the database (settings hold one): 302\n", ""
    )


def test_an_empty_database_exports_no_groups(tmp_path: Path, database_url: str) -> None:
    printed = export(tmp_path, database_url, "empty")
    assert "  groups: {}\n" in printed and "  auto_approve: false\n" in printed
    copy = tmp_path / "copy.yaml"
    copy.write_text(printed, encoding="utf-8")
    assert load_settings(copy).stream.groups == {}
