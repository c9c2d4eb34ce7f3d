"""`fsm-bot sandbox`: the local VK and the bot together, with a demo stream ready to try.

This module is the one place that knows both sides: it starts the sandbox (VK), points the bot's
settings at it, and tells the bot who in the demo stream leads which study group. The bot itself
learns nothing here that it would not learn from real VK and a real settings.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from fsm_bot.config import GroupLeadersSettings, Settings
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.sandbox.demo import DEMO_STREAM
from fsm_bot.services.timetable_files import import_timetable
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import MemberStatus
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository, TimetableRepository
from fsm_bot.timetable import Parity, Semester, TimetableFile, load_timetable

SANDBOX_DATABASE = "sqlite:///fsm_bot_sandbox.db"
DEMO_TIMETABLE = Path(__file__).with_name("demo_timetable.yaml")


def demo_leaders() -> dict[str, GroupLeadersSettings]:
    leaders: dict[str, dict] = {}
    for person in DEMO_STREAM:
        if person.study_group is None:
            continue
        group = leaders.setdefault(person.study_group, {"headman": None, "deputies": []})
        if person.stream_role == "headman":
            group["headman"] = person.id
        elif person.stream_role == "deputy":
            group["deputies"].append(person.id)
    return {name: GroupLeadersSettings(**value) for name, value in leaders.items()}


def sandbox_settings(settings: Settings, server: SandboxServer, demo: bool) -> Settings:
    """The deployer's settings, with VK replaced by the sandbox (and its own database by default)."""
    community = SandboxClient(server.url).community()
    vk = settings.vk.model_copy(
        update={
            "token": SecretStr(community["tokens"][0]),
            "tokens": [SecretStr(token) for token in community["tokens"][1:]],
            "group_id": community["group_id"],
            "api_url": community["api_url"],
            "mode": "longpoll",
        }
    )
    update: dict = {"vk": vk}
    if settings.database.url == "sqlite:///fsm_bot.db":  # the default: keep the demo out of a real bot's file
        update["database"] = settings.database.model_copy(update={"url": SANDBOX_DATABASE})
    if demo and not settings.stream.groups:
        update["stream"] = settings.stream.model_copy(update={"groups": demo_leaders()})
    return settings.model_copy(update=update)


def enrol_demo_students(settings: Settings) -> None:
    """Put the demo's students in their groups at once, so a newcomer to the demo can try everything."""
    database = Database(settings.database.url)
    upgrade_to_head(database.engine)
    group_id = int(settings.vk.group_id or 0)

    def enrol(session: Session) -> None:
        communities = CommunityRepository(session)
        communities.ensure(group_id)
        members = MemberRepository(session, group_id)
        members.upsert_profiles(MemberProfile(p.id, p.first_name, p.last_name) for p in DEMO_STREAM)
        for person in DEMO_STREAM:
            if person.study_group is None:
                continue
            group = communities.study_group(group_id, person.study_group)
            member = members.get(person.id)
            if member is not None and member.status == MemberStatus.NEW.value:
                member.study_group_id, member.status = group.id, MemberStatus.ACTIVE.value
                member.can_receive = person.allow_messages

    database.transaction(enrol)
    load_demo_timetable(database, group_id)
    database.dispose()


def load_demo_timetable(database: Database, community_id: int, today: date | None = None) -> None:
    """The demo stream's weekly timetable, in a semester around today so every view has lessons.

    Loaded once per database: a database.url of the deployer's keeps its timetable and the changes tried in the
    demo; the demo's own file is new at every start (forget_demo_database)."""
    has_slots = database.transaction(lambda session: TimetableRepository(session, community_id).groups_with_slots())
    if has_slots:
        return
    today = today or date.today()
    monday = today - timedelta(days=today.weekday())
    parsed = load_timetable(DEMO_TIMETABLE.read_text(encoding="utf-8"), DEMO_TIMETABLE.name)
    semester = Semester(monday - timedelta(weeks=8), monday + timedelta(weeks=10), Parity.ODD)
    import_timetable(database, community_id, TimetableFile(semester, parsed.groups))


def forget_demo_database(settings: Settings) -> None:
    """The sandbox's people are new at every start (ids from 100001 again), so the bot's demo database must be
    new too: otherwise a «+ Новый пользователь» gets an old id and inherits that person's group, never onboarded.
    Only the demo's own file is removed; a database.url the deployer chose is theirs to keep."""
    if settings.database.url != SANDBOX_DATABASE:
        return
    database_file = Path(SANDBOX_DATABASE.removeprefix("sqlite:///"))
    for path in (database_file, *(Path(f"{database_file}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        path.unlink(missing_ok=True)


def run_sandbox_with_bot(
    settings: Settings,
    host: str,
    port: int,
    demo: bool,
    rps_limit: int | None,
    run_bot: Callable[[Settings], int],
) -> int:
    server = SandboxServer(host=host, port=port, demo=demo, rps_limit=rps_limit)
    server.start()
    try:
        bot_settings = sandbox_settings(settings, server, demo)
        forget_demo_database(bot_settings)
        if demo:
            enrol_demo_students(bot_settings)
        print(f"fsm_bot sandbox with the bot: open {server.url}/  (Ctrl+C stops both)", flush=True)
        return run_bot(bot_settings)
    finally:
        server.stop()
