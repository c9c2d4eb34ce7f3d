"""People the tests need, written straight into the bot's database: members, newcomers, a group's students."""

from __future__ import annotations

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.migrate import upgrade_to_head
from fsm_bot.storage.models import Member, MemberStatus, Role
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository

GROUP = "ИВТ-101"  # the study group every fixture of these tests has


def newcomer(sandbox: SandboxClient, first: str = "Новый", last: str = "Человек") -> int:
    """Someone who has just joined VK's side of things: a user of the sandbox, unknown to the bot."""
    return sandbox.add_user(first, last)["id"]


def enrolled(
    sandbox: SandboxClient,
    bot: Bot,
    first: str = "Анна",
    last: str = "Смирнова",
    role: Role = Role.STUDENT,
    group: str = GROUP,
) -> int:
    """A community member who has finished onboarding into `group`, with `role`; returns their VK id."""
    user = newcomer(sandbox, first, last)

    def enrol(session) -> None:  # type: ignore[no-untyped-def]
        study_group = CommunityRepository(session).study_group(bot.community_id, group)
        members = MemberRepository(session, bot.community_id)
        members.upsert_profiles([MemberProfile(user, first, last)])
        member = members.get(user)
        assert member is not None
        member.study_group_id, member.status, member.role = study_group.id, "active", role.value

    bot.database.transaction(enrol)
    return user


def enrol(bot: Bot, vk_id: int, subgroup: int | None, group: str = GROUP, name: tuple[str, str] | None = None) -> None:
    """An approved member of `group` (named `name`: first, last), as if the headman had approved them."""

    def write(session) -> None:  # type: ignore[no-untyped-def]
        members = MemberRepository(session, bot.community_id)
        first, last = name or ("Студент", f"Номер{vk_id}")
        members.upsert_profiles([MemberProfile(vk_id, first, last)])
        study_group = CommunityRepository(session).study_group(bot.community_id, group)
        members.assign_group(vk_id, study_group.id, subgroup)
        member = members.get(vk_id)
        assert member is not None
        member.status = MemberStatus.ACTIVE.value
        member.can_receive = True

    bot.database.transaction(write)


def member(bot: Bot, vk_id: int) -> Member | None:
    """The bot's record of a person (None if it has never heard of them)."""
    return bot.database.transaction(lambda session: MemberRepository(session, bot.community_id).get(vk_id))


def seed_group(database_url: str, community_id: int) -> None:
    """A migrated database with the community and its study group ИВТ-101 (for a bot started afterwards)."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def seed(session) -> None:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(community_id)
        CommunityRepository(session).study_group(community_id, GROUP)

    database.transaction(seed)
    database.dispose()
