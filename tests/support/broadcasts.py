"""Broadcasts as a headman makes them through the dialog, and what the headman then reads in the report."""

from __future__ import annotations

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.migrate import upgrade_to_head
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import BroadcastRepository, CommunityRepository, MemberProfile, MemberRepository
from tests.support.people import GROUP, enrolled
from tests.support.talk import bot_messages, press, say


def report_of(sandbox: SandboxClient, sender: int) -> dict:
    """The sender's (latest) report message, as it reads now."""
    return [m for m in bot_messages(sandbox, sender) if m["text"].startswith("📣 Рассылка №")][-1]


def group_of(sandbox: SandboxClient, bot: Bot, size: int, closed: int = 0) -> list[int]:
    """`size` students of ИВТ-101; the first `closed` of them have not allowed the community's messages."""
    students = [enrolled(sandbox, bot, f"Имя{i:02d}", f"Студентов{i:02d}") for i in range(size)]
    for student in students[:closed]:
        sandbox.update_user(student, allow_messages=False)
    for student in students[closed:]:
        sandbox.update_user(student, allow_messages=True)
    return students


def broadcast_options(sandbox: SandboxClient, headman: int, text: str, audience: str = "Моей группе (ИВТ-101)") -> dict:
    """Through the dialog by buttons up to its options (ack, pin, poll); returns that message."""
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, text)
    assert added["text"].startswith("Добавлено сообщений: 1.")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, audience)
    return options


def compose_and_send(sandbox: SandboxClient, headman: int, text: str, audience: str = "Моей группе (ИВТ-101)") -> dict:
    """Through the dialog by buttons; returns the confirmation question."""
    options = broadcast_options(sandbox, headman, text, audience)
    answers = press(sandbox, headman, options, "Далее", expect=3)
    return answers[-1]


def confirm_group_broadcast(sandbox: SandboxClient, headman: int, parts: list[str]) -> dict:
    """The headman composes `parts` for his group through the dialog; returns the confirmation message."""
    say(sandbox, headman, "рассылка", expect=1)
    for part in parts:
        added = say(sandbox, headman, part)[-1]
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    return press(sandbox, headman, options, "Далее", expect=5)[-1]


def seed_headman_and_students(database_url: str, community_id: int, headman: int, students: list[int]) -> None:
    """Before the bot starts: ИВТ-101 with its headman and `students`, all active and able to receive."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def fill(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(community_id)
        group = communities.study_group(community_id, GROUP)
        members = MemberRepository(session, community_id)
        members.upsert_profiles(
            [MemberProfile(headman, "Анна", "Старостина")]
            + [MemberProfile(vk_id, f"Имя{n}", f"Студент{n:04d}") for n, vk_id in enumerate(students)]
        )
        for vk_id in [headman, *students]:
            member = members.get(vk_id)
            member.study_group_id, member.status, member.can_receive = group.id, "active", True
        members.get(headman).role = Role.HEADMAN.value

    database.transaction(fill)
    database.dispose()


def create_broadcast(database: Database, community: int, parts: list[dict], people: list[int]) -> int:
    """A group broadcast of `parts` to `people` straight in the database (no dialog, no acknowledgement)."""
    return database.transaction(
        lambda session: (
            BroadcastRepository(session, community)
            .create(1, "group", "ИВТ-101", parts, False, [(p, f"id{p}") for p in people], None)
            .id
        )
    )
