"""Reminders neither repeat nor vanish across kill -9: the real `fsm-bot run`, under a travelled clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from time import monotonic

import pytest
import yaml

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberProfile,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind
from tests.support.autumn import MOSCOW, SEMESTER, SLOTS
from tests.support.bots import BotProcess
from tests.support.waiting import settled, store_of, wait_until

STUDENTS = 600
GROUPS = 12
EVENING = datetime(2026, 11, 30, 19, 59, 58, tzinfo=MOSCOW)  # the digest is due at 20:00


class ClockedBot(BotProcess):
    """The bot in a child process whose clock started at `clock` when the process started."""

    clock = EVENING

    def command(self) -> list[str]:
        python, _, _, *arguments = super().command()  # python -m fsm_bot.cli run --config ...
        return [python, "-m", "tests.reminders.clock_run", self.clock.isoformat(), *arguments]


@pytest.fixture
def evening(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[tuple[ClockedBot, list[int]]]:
    students = [sandbox.add_user("Студент", f"Номер{n}")["id"] for n in range(STUDENTS)]
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def seed(session) -> None:  # type: ignore[no-untyped-def]
        community = sandbox.group_id
        CommunityRepository(session).ensure(community)
        timetable = TimetableRepository(session, community)
        timetable.set_semester(SEMESTER)
        # Groups with rooms of their own make 36 different digests: more than the 25 calls one
        # request holds, so the copies go out in two requests and the kill can fall between them.
        groups = []
        for number in range(GROUPS):
            group = CommunityRepository(session).study_group(community, f"Г-{number + 1}")
            timetable.replace_slots(group.id, [replace(slot, room=f"{number + 1}-{slot.room}") for slot in SLOTS])
            groups.append(group.id)
        members = MemberRepository(session, community)
        members.upsert_profiles([MemberProfile(vk_id, "Студент", str(vk_id)) for vk_id in students])
        subscriptions = SubscriptionRepository(session, community)
        for number, vk_id in enumerate(students):
            members.assign_group(vk_id, groups[number % GROUPS], (1, 2, None)[(number // GROUPS) % 3])
            member = members.get(vk_id)
            assert member is not None
            member.status, member.can_receive = MemberStatus.ACTIVE.value, True
            subscriptions.put(member.id, SubscriptionKind.DIGEST, dt_time(20, 0))

    database.transaction(seed)
    database.dispose()
    community = sandbox.community()
    settings = {
        "vk": {
            "token": community["tokens"][0],
            "group_id": community["group_id"],
            "api_url": community["api_url"],
            "rps_limit": 1,  # slow enough that the kill lands while copies are still going out
        },
        "database": {"url": database_url},
        "engine": {"sweep_seconds": 1},
    }
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    bot = ClockedBot(config, tmp_path / "bot.log")
    bot.clock = EVENING
    yield bot, students
    if bot.process is not None and bot.process.poll() is None:
        bot.kill()


def digests(sandbox: SandboxClient, user: int) -> int:
    return sum(1 for m in sandbox.messages(user) if m["from"] == "bot" and m["text"].startswith("Расписание на"))


def wait_for_all(sandbox: SandboxClient, database_url: str, students: list[int], timeout: float = 60) -> None:
    """Every student has a copy, and the bot has settled: a doubled copy would have arrived by now."""
    wait_until(lambda: sandbox.stats()["delivered"] >= len(students), timeout, f"{len(students)} copies", 0.1)
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)


def test_kill_9_while_the_digest_goes_out_sends_everyone_exactly_one(
    sandbox: SandboxClient, database_url: str, evening: tuple[ClockedBot, list[int]]
) -> None:
    bot, students = evening
    started = monotonic()
    bot.start()
    deadline = monotonic() + 30
    while sandbox.stats()["delivered"] == 0:
        assert monotonic() < deadline, bot.log.read_text(encoding="utf-8")
        time.sleep(0.01)
    bot.kill()
    delivered_at_kill = sandbox.stats()["delivered"]
    assert 0 < delivered_at_kill < len(students)

    bot.clock = EVENING + timedelta(seconds=monotonic() - started + 1)  # the evening goes on
    bot.start()
    wait_for_all(sandbox, database_url, students)
    counts = {user: digests(sandbox, user) for user in students}
    assert set(counts.values()) == {1}, {user: n for user, n in counts.items() if n != 1}
    assert sandbox.stats()["delivered"] == len(students)


def test_a_digest_due_while_the_bot_was_down_is_sent_once_after_the_restart(
    sandbox: SandboxClient, database_url: str, evening: tuple[ClockedBot, list[int]]
) -> None:
    bot, students = evening
    bot.start()
    bot.kill()  # at 19:59:5x: nothing due yet
    assert sandbox.stats()["delivered"] == 0
    bot.clock = EVENING + timedelta(minutes=40)  # back at 20:40, within the digest's grace
    bot.start()
    wait_for_all(sandbox, database_url, students)
    assert {digests(sandbox, user) for user in students} == {1}
    bot.kill()
    bot.clock = EVENING + timedelta(minutes=45)  # and once more: nothing is sent again
    bot.start()
    # The behaviour under test is that nothing happens: the restarted scheduler runs a missed job at once
    # and sweeps every second, so two seconds give it its chances; no row or message could mark the moment.
    time.sleep(2.0)
    with store_of(database_url, sandbox.group_id) as store:
        settled(store, sandbox)
    assert sandbox.stats()["delivered"] == len(students)
