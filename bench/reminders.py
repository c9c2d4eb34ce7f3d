"""Evening digest: 10,000 subscribers whose digest is due at 20:00, through the real bot and APScheduler.

Issue: "10,000 subscribers whose digest is due at 20:00: time until the last copy is delivered, API
requests used, scheduler start-up time and RSS with 10,000 subscriptions".

What one run does, per database (SQLite file; PostgreSQL in a schema of its own when reachable):
- the sandbox (VK) runs in a process of its own (bench/_world.py) and enforces 20 requests/s; N users are
  added straight into its state (N POSTs would take long), all members of the community who allow messages;
- the bot's database is migrated and seeded with bulk inserts: 20 study groups with the semester and the
  slots of tests/support/autumn.py, each group in rooms of its own building («3-301»), so that groups'
  digests differ; N active members who can receive messages, spread over the groups and subgroups 1, 2 and
  none, and a DIGEST subscription at 20:00 for each: 20 groups x 3 subgroups = 60 distinct digest texts;
- the real bot (fsm_bot.runtime.bot.Bot, Long Poll, settings as tests/support/bots.py builds them) starts in a
  fresh child process under time-machine at 19:59:55 on Monday 2026-11-30 in Europe/Moscow with the clock
  ticking, so APScheduler's planned one-off job fires the digest for Tuesday at 20:00, five seconds later.
  A fresh process per run, so its RSS is the bot's own (not the seeding's, nor the previous run's);
- measured in the bot process: Bot.start(), and inside it the member sync and Timekeeper.start() (catch-up
  plus planning, each read all N subscriptions), the APScheduler jobs after the start, VmRSS after the imports,
  after the start and after the fan-out (and the peak, VmHWM); the fire transaction (fire_due_reminders, timed
  by wrapping Timekeeper.fire_reminders) and every claim and settle transaction of the reply outbox (a
  ReplyQueue subclass notes their start, SQLAlchemy's after_commit event their commit; the delivery code is
  untouched). Those subclasses are put in place of fsm_bot.runtime.bot's names in the child process only, and the
  fire's parts (reading the subscriptions, due_between, record_fired, rendering the texts, the outbox's
  add_many) are timed by wrapping those functions there;
- measured in the sandbox process: every request it serves (method, start, end, copies delivered), the
  per-method calls inside `execute`, and the refusals for the rate limit. Both processes stamp with
  time.monotonic(), one clock system-wide on Linux, which time-machine does not move; 20:00 of the fake clock is
  placed on it from the moment the clock was set;
- the seed bot's way: one messages.send per subscriber through vk_api, paced to 20/s, on `--naive`
  subscribers with one of the digest texts, scaled linearly to N.

The minimum for the fan-out: one messages.send carries one text to up to 100 peer_ids, and one execute carries
up to 25 calls, so the digest needs sum over texts of ceil(peers / 100) calls and ceil(calls / 25) requests
(without the one-text rule it would be ceil(N / 100) calls and ceil(N / 2,500) requests). At 20 requests/s per
token the limit is requests / 20 s.

    .venv/bin/python bench/reminders.py [--subscribers 10000] [--database sqlite|postgresql|both] [--runs 3]
        [--naive 500] [--postgres URL] [--claim-limit N (a what-if, printed and not recorded)]
        [--smoke (every size tiny, seconds: proves the bench still runs; records nothing)]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from datetime import time as clock_time
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import time_machine
import vk_api
from _databases import postgres_reachable, postgres_schema
from _results import record
from _world import Commands, add_users_directly, serve_sandbox
from _world import World as SandboxWorld
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

import fsm_bot.runtime.bot as bot_app
import fsm_bot.scheduler.reminders as reminders_module
from fsm_bot.config import Settings
from fsm_bot.delivery.replies import ReplyQueue
from fsm_bot.runtime.timekeeper import Timekeeper
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient, vk_session_for
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import Member, MemberStatus, OutgoingMessage, Role
from fsm_bot.storage.repositories import (
    CommunityRepository,
    OutboxRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import FiredReminder, Subscription, SubscriptionKind
from fsm_bot.storage.types import utcnow
from fsm_bot.timetable import Parity, Semester, Slot
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_PEERS_PER_CALL

SECTION = "Reminders: 10,000 digests due at 20:00 (bench/reminders.py)"
RPS = 20
PER_REQUEST = MAX_CALLS_PER_EXECUTE * MAX_PEERS_PER_CALL  # 2,500 copies
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
MOSCOW = ZoneInfo("Europe/Moscow")
EVENING = datetime(2026, 11, 30, 19, 59, 55, tzinfo=MOSCOW)  # Monday; the digest for Tuesday is due at 20:00
DUE = datetime(2026, 11, 30, 20, 0, tzinfo=MOSCOW)
GROUPS = 20
SUBGROUPS = (1, 2, None)
# tests/support/autumn.py: the semester starts on Tuesday 2026-09-01 (odd week); 2026-11-30 is in week 14.
SEMESTER = Semester(date(2026, 9, 1), date(2026, 12, 30), Parity.ODD, frozenset({date(2026, 11, 4)}))
SLOTS = [
    Slot(0, clock_time(9, 0), clock_time(10, 30), "Математический анализ", "лекция", "Иванов И. И.", "301"),
    Slot(0, clock_time(10, 45), clock_time(12, 15), "Физика", "практика", "", "214", Parity.ODD, 1),
    Slot(1, clock_time(9, 0), clock_time(10, 30), "Линейная алгебра", "лекция", "", "301"),
    Slot(1, clock_time(10, 45), clock_time(12, 15), "Программирование", "лабораторная", "", "405", Parity.ALL, 2),
    Slot(2, clock_time(9, 0), clock_time(10, 30), "История", "семинар", "", "118"),
]


def slots_of(group: int) -> list[Slot]:
    """The conftest's slots in the group's own building: «3-301»; the groups' digests differ by it."""
    return [dataclasses.replace(slot, room=f"{group + 1}-{slot.room}") for slot in SLOTS]


def placement(index: int, count: int) -> tuple[int, int | None]:
    """The study group (0..19, equal blocks of subscribers) and subgroup (1, 2, none in turn) of subscriber `index`."""
    return index * GROUPS // count, SUBGROUPS[index % len(SUBGROUPS)]


def vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# --- the VK side, in a process of its own


def world_main(conn, rps_limit: int) -> None:  # type: ignore[no-untyped-def]
    """The sandbox; answers the benchmark's commands over `conn` and stamps every request and inner call."""
    logging.basicConfig(level=logging.WARNING)
    import fsm_bot.sandbox.api as sandbox_api

    original = sandbox_api.dispatch
    seen: list[tuple[str, float, float, int, bool]] = []  # method, start, end, copies delivered, inside execute

    def stamped(call, method, params):  # type: ignore[no-untyped-def]
        before, start = call.sandbox.stats.delivered, time.monotonic()
        try:
            return original(call, method, params)
        finally:
            seen.append((method, start, time.monotonic(), call.sandbox.stats.delivered - before, bool(call.inner)))

    sandbox_api.dispatch = stamped

    def commands(server: SandboxServer, client: SandboxClient) -> Commands:
        def wait_delivered(count: int, timeout: float) -> dict[str, Any]:
            stats = server.sandbox.stats
            before = client.stats()
            deadline = time.monotonic() + timeout
            while stats.delivered < count and time.monotonic() < deadline:
                time.sleep(0.002)  # this process's own counter: no request, nothing taken from the bot
            return {"before": before, "after": client.stats(), "reached": stats.delivered >= count}

        def reset() -> None:
            client.reset(rps_limit=rps_limit)
            seen.clear()

        return {
            "reset": reset,
            "users": lambda count: add_users_directly(server, count),
            "wait_delivered": wait_delivered,
            "requests": lambda: list(seen),
            "cpu": time.process_time,
            "copies": lambda: [(entry["peer_id"], entry["text"]) for entry in client.log()],
        }

    serve_sandbox(conn, rps_limit, commands)


class World(SandboxWorld):
    """The benchmark's handle on the sandbox process."""

    def __init__(self, rps_limit: int) -> None:
        super().__init__(world_main, rps_limit, ask_timeout=180)
        self.community()


# --- the bot's database


def seed(database_url: str, community_id: int, users: list[int]) -> float:
    """Migrations, the stream's groups and timetables, N members and their digest subscriptions; seconds taken."""
    begun = time.monotonic()
    database = Database(database_url)
    upgrade_to_head(database.engine)
    count = len(users)

    def write(session: Session) -> None:
        communities = CommunityRepository(session)
        communities.ensure(community_id)
        timetable = TimetableRepository(session, community_id)
        timetable.set_semester(SEMESTER)
        group_ids = []
        for group in range(GROUPS):
            row = communities.study_group(community_id, f"ИВТ-{101 + group}")
            timetable.replace_slots(row.id, slots_of(group))
            group_ids.append(row.id)
        now = utcnow()
        members = []
        for index, vk_id in enumerate(users):
            group, subgroup = placement(index, count)
            members.append(
                {
                    "community_id": community_id,
                    "vk_id": vk_id,
                    "first_name": f"Студент{index}",  # as the sandbox has them: the member sync changes nothing
                    "last_name": "Бенчмарков",
                    "role": Role.STUDENT.value,
                    "study_group_id": group_ids[group],
                    "subgroup": subgroup,
                    "status": MemberStatus.ACTIVE.value,
                    "can_receive": True,
                    "is_member": True,
                    "joined_at": now,
                    "left_at": None,
                    "updated_at": now,
                }
            )
        session.execute(insert(Member), members)
        ids = dict(session.execute(select(Member.vk_id, Member.id).where(Member.community_id == community_id)).all())
        session.execute(
            insert(Subscription),
            [
                {
                    "community_id": community_id,
                    "member_id": ids[vk_id],
                    "kind": SubscriptionKind.DIGEST.value,
                    "at_time": clock_time(20, 0),
                    "lead_minutes": None,
                    "created_at": now,
                }
                for vk_id in users
            ],
        )

    database.transaction(write)
    database.dispose()
    return time.monotonic() - begun


# --- the bot, in a fresh process of its own: timing the parts without touching them


class Stamps:
    """Moments (time.monotonic) of the parts of one run, in the bot's process."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.parts: dict[str, float] = {}
        self.fires: list[dict[str, Any]] = []
        self.timekeeper_start: tuple[float, float] | None = None
        self.member_sync: tuple[float, float] | None = None
        self.transactions: list[tuple[str, float, float, int, int]] = []  # kind, start, committed, copies, calls
        self.calls: list[tuple[str, float, float]] = []  # the fire's parts: label, start, end
        self.expected = 0
        self.settled = 0
        self.all_settled = threading.Event()

    def begin(self, kind: str, copies: int = 0, calls: int = 0) -> None:
        self.local.pending = (kind, time.monotonic(), copies, calls)

    def set_size(self, copies: int, calls: int) -> None:
        kind, start, _, _ = self.local.pending
        self.local.pending = (kind, start, copies, calls)

    def after_commit(self, _session: Session) -> None:
        pending = getattr(self.local, "pending", None)
        if pending is None:
            return
        self.local.pending = None
        kind, start, copies, calls = pending
        with self.lock:
            self.transactions.append((kind, start, time.monotonic(), copies, calls))
            if kind == "settle":
                self.settled += copies
                if self.expected and self.settled >= self.expected:
                    self.all_settled.set()


STAMPS = Stamps()
CLAIM_LIMIT: int | None = None  # a what-if (--claim-limit); None: ReplyQueue's own


class TimedReplyQueue(ReplyQueue):
    """ReplyQueue as is; it only notes when its claim and settle transactions start."""

    def __init__(self, community_id: int) -> None:
        if CLAIM_LIMIT is None:
            super().__init__(community_id)
        else:
            super().__init__(community_id, claim_limit=CLAIM_LIMIT)

    def claim(self, session, busy_peers, lease_until):  # type: ignore[no-untyped-def]
        STAMPS.begin("claim")
        claimed, more = super().claim(session, busy_peers, lease_until)
        STAMPS.set_size(sum(len(item.row_ids) for item in claimed), len(claimed))
        return claimed, more

    def settle(self, session, claimed, results, retry_at):  # type: ignore[no-untyped-def]
        STAMPS.begin("settle", sum(len(item.row_ids) for item in claimed), len(claimed))
        return super().settle(session, claimed, results, retry_at)


class TimedTimekeeper(Timekeeper):
    """Timekeeper as is; its start, fires and plans are timed."""

    def start(self) -> None:
        begun = time.monotonic()
        super().start()
        STAMPS.timekeeper_start = (begun, time.monotonic())

    def fire_reminders(self, now=None):  # type: ignore[no-untyped-def]
        begun = time.monotonic()
        report = super().fire_reminders(now)
        STAMPS.fires.append(
            {
                "start": begun,
                "end": time.monotonic(),
                "sent": report.sent,
                "dropped": report.dropped,
                "texts": report.messages,
                "peers_per_text": sorted(len(peers) for peers in report.peers_by_text.values()),
                "sample": next(iter(report.peers_by_text), None),
                "in_start": STAMPS.timekeeper_start is None,
            }
        )
        return report

    def plan(self, now=None):  # type: ignore[no-untyped-def]
        begun = time.monotonic()
        planned = super().plan(now)
        STAMPS.parts.setdefault("plan", time.monotonic() - begun)
        return planned


def time_calls(owner: Any, name: str, label: str) -> None:
    """Note when `owner.name` (a method or a module function) runs; the bot's code itself is untouched."""
    original = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        begun = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            STAMPS.calls.append((label, begun, time.monotonic()))

    setattr(owner, name, timed)


FIRE_PARTS = [  # what fire_due_reminders does, in order
    (SubscriptionRepository, "subscribers", "read subscriptions"),
    (reminders_module, "due_between", "due_between"),
    (SubscriptionRepository, "record_fired", "record_fired"),
    (reminders_module, "_text", "render texts"),
    (OutboxRepository, "add_many", "outbox add_many"),
]


class TimedBot(bot_app.Bot):
    def sync_members(self) -> None:
        begun = time.monotonic()
        super().sync_members()
        STAMPS.member_sync = (begun, time.monotonic())


def bot_main(conn, settings_values: dict[str, Any], expected: int, claim_limit: int | None) -> None:  # type: ignore[no-untyped-def]
    """The child: the real bot under a travelled clock; reports its start, waits for "done", reports the rest."""
    global CLAIM_LIMIT
    logging.basicConfig(level=logging.WARNING)
    try:
        CLAIM_LIMIT = claim_limit
        STAMPS.expected = expected
        bot_app.ReplyQueue = TimedReplyQueue  # type: ignore[misc]
        bot_app.Timekeeper = TimedTimekeeper  # type: ignore[misc]
        event.listen(Session, "after_commit", STAMPS.after_commit)
        for owner, name, label in FIRE_PARTS:
            time_calls(owner, name, label)
        rss_imports = vm_kb("VmRSS")
        with time_machine.travel(EVENING, tick=True):
            entered, fake = time.monotonic(), datetime.now(UTC)
            due = entered + (DUE - fake).total_seconds()
            bot = TimedBot(Settings(**settings_values))
            begun = time.monotonic()
            bot.start()
            started = time.monotonic()
            assert bot.scheduler is not None
            jobs = bot.scheduler.job_ids()
            cpu_started = cpu_seconds()
            conn.send(
                (
                    "started",
                    {
                        "due": due,
                        "bot_start": started - begun,
                        "start_end": started,
                        "fake_at_start_end": datetime.now(MOSCOW).isoformat(),
                        "rss_imports": rss_imports,
                        "rss_started": vm_kb("VmRSS"),
                        "jobs": jobs,
                    },
                )
            )
            conn.recv()  # "done": the sandbox has delivered every copy
            settled = STAMPS.all_settled.wait(60)
            cpu_fanout = cpu_seconds() - cpu_started
            rss_after, peak = vm_kb("VmRSS"), vm_kb("VmHWM")

            def outcome(session: Session) -> dict[str, Any]:
                statuses = session.execute(
                    select(OutgoingMessage.status, func.count()).group_by(OutgoingMessage.status)
                ).all()
                fired = session.scalar(select(func.count()).select_from(FiredReminder))
                return {"outbox": dict(statuses), "fired": fired}

            stored = bot.database.transaction(outcome)
            bot.stop()
        conn.send(
            (
                "result",
                {
                    "settled_all": settled,
                    "cpu_fanout": cpu_fanout,
                    "rss_after": rss_after,
                    "rss_peak": peak,
                    "timekeeper_start": STAMPS.timekeeper_start,
                    "member_sync": STAMPS.member_sync,
                    "plan": STAMPS.parts.get("plan"),
                    "fires": STAMPS.fires,
                    "transactions": STAMPS.transactions,
                    "calls": STAMPS.calls,
                    **stored,
                },
            )
        )
    except Exception:
        conn.send(("error", traceback.format_exc()))


class BotProcess:
    """The parent's handle on the bot child."""

    def __init__(self, settings_values: dict[str, Any], expected: int, claim_limit: int | None) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=bot_main, args=(child, settings_values, expected, claim_limit), daemon=True
        )
        self.process.start()

    def answer(self, expected: str, timeout: float) -> dict[str, Any]:
        if not self.conn.poll(timeout):
            raise RuntimeError(f"the bot process did not answer ({expected}) in {timeout:.0f} s")
        kind, value = self.conn.recv()
        if kind != expected:
            raise RuntimeError(f"the bot process failed:\n{value}")
        return value

    def done(self) -> dict[str, Any]:
        self.conn.send("done")
        result = self.answer("result", 120)
        self.process.join(30)
        return result

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# --- one run


def one_run(world: World, backend: str, folder: str, name: str, postgres: str, count: int, claim_limit: int | None):  # type: ignore[no-untyped-def]
    users = world.fresh(count)
    if backend == "SQLite":
        url, drop = f"sqlite:///{folder}/{name}.db", (lambda: None)
    else:
        url, drop = postgres_schema(postgres)
    try:
        seeding = seed(url, world.group_id, users)
        settings = {
            "vk": {"token": world.token, "group_id": world.group_id, "api_url": world.api_url},
            "database": {"url": url},
        }
        bot = BotProcess(settings, count, claim_limit)
        try:
            started = bot.answer("started", 180)
            sandbox_cpu = world.ask("cpu")
            waited = world.ask("wait_delivered", count, 120.0)
            sandbox_cpu = world.ask("cpu") - sandbox_cpu
            result = bot.done()
        finally:
            bot.kill()
    finally:
        drop()
    if not waited["reached"]:
        raise RuntimeError(f"{backend}: only {waited['after']['delivered']} of {count} copies delivered in 120 s")
    run = {**started, **result, "seeding": seeding, "sandbox_cpu": sandbox_cpu, "stats": waited}
    run.update(analyse(run, world.ask("requests"), world.ask("copies"), users))
    print(
        f"{backend} {name}: start {ms(run['bot_start'])}, 20:00 -> last copy {ms(run['total'])} "
        f"(fire {ms(run['fire'])}), {run['requests']} requests, {run['sends']} messages.send, "
        f"{run['claims']} claims",
        file=sys.stderr,
    )
    return run


def analyse(run: dict[str, Any], seen: list, copies: list[tuple[int, str]], users: list[int]) -> dict[str, Any]:
    """The run's timeline and counts from both processes' stamps, and whether every copy arrived once, right."""
    fires = [fire for fire in run["fires"] if fire["sent"]]
    if len(fires) != 1 or fires[0]["sent"] != len(users):
        raise RuntimeError(f"expected one fire of {len(users)} digests: {run['fires']}")
    fire = fires[0]
    due = run["due"]
    fanout = [r for r in seen if r[1] >= fire["start"]]
    top = [r for r in fanout if not r[4]]
    carrying = [r for r in fanout if r[3] > 0]
    last_copy = max(r[2] for r in carrying)
    settles = [t for t in run["transactions"] if t[0] == "settle"]
    claims = [t for t in run["transactions"] if t[0] == "claim" and t[3] > 0]
    # every subscriber exactly one copy; subscribers of one group and subgroup share one text, others differ
    per_peer = Counter(peer for peer, _ in copies)
    text_of = dict(copies)
    texts_by_place: dict[tuple, set[str]] = defaultdict(set)
    for index, user in enumerate(users):
        texts_by_place[placement(index, len(users))].add(text_of.get(user, ""))
    distinct = {text for texts in texts_by_place.values() for text in texts}
    check = {
        "exactly_once": set(per_peer) == set(users) and set(per_peer.values()) == {1},
        "copies": sum(per_peer.values()),
        "texts_right": all(len(texts) == 1 for texts in texts_by_place.values())
        and len(distinct) == len(texts_by_place)
        and all(text.startswith("Расписание на завтра") for text in distinct),
        "distinct_texts": len(distinct),
    }
    parts: dict[str, float] = defaultdict(float)
    for label, start, end in run["calls"]:
        if fire["start"] <= start <= fire["end"]:
            parts[label] += end - start
    parts["rest (the recorded-check SELECT, ORM, commit)"] = fire["end"] - fire["start"] - sum(parts.values())
    timekeeper_start = run["timekeeper_start"]
    catch_up = [f for f in run["fires"] if f["in_start"]]
    return {
        "fire_report": fire,
        "fire_parts": dict(parts),
        "lag": fire["start"] - due,
        "fire": fire["end"] - fire["start"],
        "delivery": last_copy - fire["end"],
        "total": last_copy - due,
        "settled": max(t[2] for t in settles) - due,
        "first_copy": min(r[2] for r in carrying) - due,
        "requests": len(top),
        "request_methods": dict(Counter(r[0] for r in top)),
        "sends": sum(1 for r in fanout if r[0] == "messages.send"),
        "refused": run["stats"]["after"]["rate_limited"] - run["stats"]["before"]["rate_limited"],
        "claims": len(claims),
        "claim_copies": [t[3] for t in claims],
        "claim_calls": [t[4] for t in claims],
        "claim_ms": [t[2] - t[1] for t in claims],
        "settle_ms": [t[2] - t[1] for t in settles],
        "claims_span": (min(t[1] for t in claims) - due, max(t[2] for t in claims) - due),
        "timeline": [(r[1] - due, r[2] - due, r[3]) for r in sorted(top, key=lambda r: r[1])],
        "timekeeper": timekeeper_start[1] - timekeeper_start[0],
        "catch_up": catch_up[0]["end"] - catch_up[0]["start"] if catch_up else None,
        "sync": run["member_sync"][1] - run["member_sync"][0],
        "start_before_due": due - run["start_end"],
        "check": check,
    }


def bench_naive(world: World, count: int, message: str) -> dict[str, Any]:
    """The seed bot's way: one messages.send per subscriber, paced to 20/s (vk_api's own 0.34 s pause off)."""
    recipients = world.fresh(count)
    vk = vk_api.VkApi(token=world.token, session=vk_session_for(world.url), api_version="5.199")
    vk.RPS_DELAY = 0
    limiter = RateLimiter(RPS)
    time.sleep(1.1)
    start = time.monotonic()
    for index, user in enumerate(recipients):
        limiter.acquire()
        vk.method("messages.send", {"peer_id": user, "message": message, "random_id": index + 1})
    seen = world.ask("requests")
    delivered = world.ask("stats")
    if delivered["delivered"] != count:
        raise RuntimeError(f"naive run went wrong: {delivered}")
    return {
        "wall": max(r[2] for r in seen if r[3] > 0) - start,
        "requests": delivered["requests"],
        "refused": delivered["rate_limited"],
    }


# --- the report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def mb(kb: float) -> str:
    return f"{kb / 1024:,.1f} MB"


def joined(values: list[Any]) -> str:
    return "/".join(str(value) for value in values)


def spread(values: list[float], show=ms) -> str:  # type: ignore[no-untyped-def]
    middle = statistics.median(values)
    return show(middle) + (f" ({show(min(values))}–{show(max(values))})" if len(values) > 1 else "")


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["total"])[len(runs) // 2]


def minimum_of(peers_per_text: list[int]) -> tuple[int, int]:
    """messages.send calls and executes the one-text-per-call rule allows at the least."""
    calls = sum(math.ceil(peers / MAX_PEERS_PER_CALL) for peers in peers_per_text)
    return calls, math.ceil(calls / MAX_CALLS_PER_EXECUTE)


def report(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, Any]]],
    naive: dict[str, Any],
    notes: list[str],
    loads: tuple[float, float],
    claim_limit: int,
) -> list[str]:
    count = args.subscribers
    any_run = next(iter(results.values()))[0]
    peers_per_text = any_run["fire_report"]["peers_per_text"]
    min_calls, min_requests = minimum_of(peers_per_text)
    bare_calls, bare_requests = math.ceil(count / MAX_PEERS_PER_CALL), math.ceil(count / PER_REQUEST)
    limit = min_requests / RPS
    command = f"`.venv/bin/python bench/reminders.py --subscribers {count} --database {args.database}"
    command += f" --runs {args.runs} --naive {args.naive}"
    command += f' --postgres "{args.postgres}"`' if args.postgres != DEFAULT_POSTGRES else "`"
    lines = [
        f"Command: {command} (1-minute load average {loads[0]:.2f} before, {loads[1]:.2f} after: other work on the "
        "machine skews these figures)",
        "",
        f"{count:,} members, each with a DIGEST subscription at 20:00, in {GROUPS} study groups x subgroups 1 / 2 / "
        f"none (the semester and slots of tests/support/autumn.py, each group in rooms of its own building), so "
        f"Tuesday's digest has {len(peers_per_text)} distinct texts of {min(peers_per_text)}–{max(peers_per_text)} "
        "peers. The real `Bot` (Long Poll, one token, 20 requests/s) starts in a fresh process under time-machine at "
        "19:59:55 on Monday 2026-11-30 (Europe/Moscow), clock ticking; APScheduler's planned one-off job fires at "
        "20:00. The sandbox, in a process of its own, enforces 20 requests/s. A request is one `execute` of up to "
        f"{MAX_CALLS_PER_EXECUTE} `messages.send` x {MAX_PEERS_PER_CALL} `peer_ids`, one text per call: the minimum "
        f"is sum over texts of ceil(peers / {MAX_PEERS_PER_CALL}) = **{min_calls} calls in {min_requests} requests** "
        f"(without the one-text rule ceil({count:,} / {MAX_PEERS_PER_CALL}) = {bare_calls} calls in {bare_requests} "
        f"requests). **The limit** at {RPS} requests/s is {min_requests} / {RPS} = {ms(limit)}: for up to 20 requests "
        "VK lets them all go in the first second, so it is a yardstick, not a wall; every request past the 20th "
        "waits for the next second.",
        "",
        f"{args.runs} run(s) per database; median, min–max in brackets. Times in ms from 20:00:00 of the fake clock "
        "(placed on time.monotonic, which both processes share and time-machine leaves alone).",
        "",
        "**Fan-out at 20:00**: «fire» is the fire_due_reminders transaction (reads every subscription and the "
        "timetables, records N fired_reminder rows, queues N outbox rows); «delivery» runs from its commit to the "
        "end of the sandbox request carrying the last copy; «settled» is the last settle transaction's commit.",
        "",
        "| database | 20:00 → fire starts | fire | delivery | **20:00 → last copy** | x limit | settled in the DB "
        "| requests (min) | messages.send (min) | refused (6) | claims (copies each, max) | CPU bot / sandbox |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, runs in results.items():
        totals = [run["total"] for run in runs]
        lines.append(
            f"| {backend} | {spread([r['lag'] for r in runs])} | {spread([r['fire'] for r in runs])} | "
            f"{spread([r['delivery'] for r in runs])} | **{spread(totals)}** | "
            f"{statistics.median(totals) / limit:.1f}x | {spread([r['settled'] for r in runs])} | "
            f"{joined([r['requests'] for r in runs])} ({min_requests}) | {joined([r['sends'] for r in runs])} "
            f"({min_calls}) | {joined([r['refused'] for r in runs])} | {joined([r['claims'] for r in runs])} "
            f"({max(max(r['claim_copies']) for r in runs)}) | "
            f"{ms(statistics.median(r['cpu_fanout'] for r in runs))} / "
            f"{ms(statistics.median(r['sandbox_cpu'] for r in runs))} |"
        )
    naive_scaled = naive["wall"] * count / args.naive
    lines.append(
        f"| seed bot: one `messages.send` per subscriber, paced to {RPS}/s, {args.naive:,} subscribers | – | – | – | "
        f"{naive['wall']:.1f} s | – | – | {naive['requests']:,} | {naive['requests']:,} | {naive['refused']} | – | – |"
    )
    lines.append(
        f"| seed bot, scaled linearly to {count:,} | – | – | – | {naive_scaled:,.0f} s | {naive_scaled / limit:,.0f}x "
        f"| – | {naive['requests'] * count // args.naive:,} | {naive['requests'] * count // args.naive:,} | – | – | – |"
    )
    lines += [
        "",
        "**Start-up with N subscriptions** (the bot process; `Bot.start()` includes migrations at head, the token "
        "check, the member sync from `groups.getMembers` of all N members, the sender, the scheduler and the long "
        "poll; `Timekeeper.start()` is the catch-up fire, which finds nothing due at 19:59:5x, and the plan, each "
        "reading every subscription). RSS: VmRSS of the bot process after its imports, after `Bot.start()`, after "
        "the fan-out, and its peak (VmHWM).",
        "",
        "| database | Bot.start() | member sync | Timekeeper.start() | catch-up fire | plan | APScheduler jobs "
        "| RSS: imports / started / after fan-out / peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, runs in results.items():
        jobs = runs[0]["jobs"]
        reminder_jobs = [job for job in jobs if job.startswith("reminders:")]
        lines.append(
            f"| {backend} | {spread([r['bot_start'] for r in runs])} | {spread([r['sync'] for r in runs])} | "
            f"{spread([r['timekeeper'] for r in runs])} | {spread([r['catch_up'] for r in runs])} | "
            f"{spread([r['plan'] for r in runs])} | {len(jobs)} ({len(reminder_jobs)} reminder date job: "
            f"{', '.join(f'`{job}`' for job in reminder_jobs)}) | "
            f"{mb(statistics.median(r['rss_imports'] for r in runs))} / "
            f"{mb(statistics.median(r['rss_started'] for r in runs))} / "
            f"{mb(statistics.median(r['rss_after'] for r in runs))} / "
            f"{mb(statistics.median(r['rss_peak'] for r in runs))} |"
        )
    median_sqlite = median_run(next(iter(results.values())))
    lines += [
        "",
        "APScheduler jobs: "
        + "; ".join(f"{b}: {joined(sorted({len(r['jobs']) for r in runs}))}" for b, runs in results.items())
        + f" — {', '.join(f'`{job}`' for job in any_run['jobs'])}. One date job per distinct due instant, not per "
        "subscriber, so the count does not grow with N.",
        "Start finished before 20:00 by: "
        + "; ".join(f"{b} {joined([ms(r['start_before_due']) for r in runs])}" for b, runs in results.items())
        + ". Seeding (not timed above; bulk inserts): "
        + "; ".join(f"{b} {spread([r['seeding'] for r in runs])}" for b, runs in results.items())
        + ".",
        "",
        "**Where the time goes.** The fire transaction, median run, its parts timed by wrapping those functions "
        "in the bot process: "
        + "; ".join(
            f"{b}: " + ", ".join(f"{label} {ms(seconds)}" for label, seconds in median_run(runs)["fire_parts"].items())
            for b, runs in results.items()
        )
        + ".",
        f"The delivery: the reply outbox's claim takes at most {claim_limit} rows (`ReplyQueue.claim_limit`), so a "
        "request carried at most "
        + "; ".join(
            f"{b} {max(max(r['claim_copies']) for r in runs):,} copies in "
            f"{max(max(r['claim_calls']) for r in runs)} calls"
            for b, runs in results.items()
        )
        + f" (an execute holds {PER_REQUEST:,}), and the claims run one after another on the Sender's loop thread: "
        + "; ".join(
            f"{b} {joined([r['claims'] for r in runs])} claims, median claim transaction "
            f"{ms(statistics.median(t for r in runs for t in r['claim_ms']))}, all claims of a run "
            f"{spread([sum(r['claim_ms']) for r in runs])} = "
            f"{statistics.median(sum(r['claim_ms']) / count for r in runs) * 1e6:.0f} µs per copy; settles "
            f"{spread([sum(r['settle_ms']) for r in runs])} = "
            f"{statistics.median(sum(r['settle_ms']) / count for r in runs) * 1e6:.0f} µs per copy (on the "
            "sender's worker threads, sharing the GIL)"
            for b, runs in results.items()
        )
        + f". At {RPS} requests/s the measured request counts alone would take "
        + "; ".join(f"{b} {statistics.median(r['requests'] for r in runs) / RPS:.2f} s" for b, runs in results.items())
        + f" against {ms(limit)} for the minimum.",
        f"Against the seed bot's way ({naive_scaled:,.0f} s for {count:,}): "
        + "; ".join(
            f"{b} {naive_scaled / statistics.median(r['total'] for r in runs):,.0f}x faster"
            for b, runs in results.items()
        )
        + ".",
        "",
        "**Checks** per run (the sandbox's delivery log): every subscriber exactly one copy: "
        + "; ".join(
            f"{b} {'yes' if all(r['check']['exactly_once'] for r in runs) else 'NO'}" for b, runs in results.items()
        )
        + "; one text per group and subgroup, different between them, a digest for tomorrow: "
        + "; ".join(
            f"{b} {'yes' if all(r['check']['texts_right'] for r in runs) else 'NO'} "
            f"({joined([r['check']['distinct_texts'] for r in runs])} texts)"
            for b, runs in results.items()
        )
        + "; fired_reminder rows: "
        + "; ".join(f"{b} {joined([r['fired'] for r in runs])}" for b, runs in results.items())
        + "; outbox rows sent: "
        + "; ".join(f"{b} {joined([r['outbox'].get('sent', 0) for r in runs])}" for b, runs in results.items())
        + f"; fan-out requests by method ({next(iter(results))}, median run): {median_sqlite['request_methods']}.",
        *notes,
    ]
    lines.append("")
    for backend, runs in results.items():
        run = median_run(runs)
        timeline = run["timeline"]
        starts = [start for start, _, _ in timeline]
        gaps = [later - earlier for earlier, later in pairwise(starts)]
        lines.append(
            f"Median {backend} run, ms from 20:00: the fire transaction {ms(run['lag'])}–{ms(run['lag'] + run['fire'])}"
            f"; the claims {ms(run['claims_span'][0])}–{ms(run['claims_span'][1])}; {len(timeline)} requests at the "
            f"sandbox from {ms(starts[0])} to {ms(max(end for _, end, _ in timeline))}, one every "
            f"{ms(statistics.median(gaps)) if gaps else '–'} (median gap between starts), each "
            f"{ms(statistics.median(end - start for start, end, _ in timeline))} at the sandbox (median), "
            f"{joined(sorted({copies for _, _, copies in timeline}, reverse=True))} copies each."
        )
    return lines


# --smoke: sizes that finish in seconds (one subscriber per digest text); the figures mean nothing.
SMOKE = {"subscribers": GROUPS * len(SUBGROUPS), "runs": 1, "naive": 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql", "both"],
        default=None,
        help="default: both when PostgreSQL answers at --postgres, else sqlite",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per database (the median is reported)")
    parser.add_argument("--naive", type=int, default=500, help="subscribers for the one-send-per-copy baseline")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL server URL (a schema of its own)")
    parser.add_argument(
        "--claim-limit", type=int, default=None, help="what-if: the reply outbox's claim limit (printed, not recorded)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    logging.basicConfig(level=logging.WARNING)
    count = args.subscribers
    if count < GROUPS * len(SUBGROUPS):
        parser.error(f"--subscribers must be at least {GROUPS * len(SUBGROUPS)}")
    notes = []
    unreachable = postgres_reachable(args.postgres)
    if args.database is None:
        args.database = "both" if unreachable is None else "sqlite"
        if unreachable:
            notes.append(f"PostgreSQL skipped: {unreachable}.")
    elif args.database != "sqlite" and unreachable:
        parser.error(f"PostgreSQL at {args.postgres} does not answer: {unreachable}")
    backends = {"sqlite": ["SQLite"], "postgresql": ["PostgreSQL"], "both": ["SQLite", "PostgreSQL"]}[args.database]

    load_before = os.getloadavg()[0]
    world = World(RPS)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for backend in backends:
                results[backend] = [
                    one_run(world, backend, folder, f"run{i + 1}", args.postgres, count, args.claim_limit)
                    for i in range(args.runs)
                ]
        sample = next(iter(results.values()))[0]["fire_report"]["sample"]
        naive = bench_naive(world, args.naive, sample)
    finally:
        world.close()
    load_after = os.getloadavg()[0]
    if args.claim_limit is not None:
        notes.append(f"**What-if, not the shipped code**: ReplyQueue(claim_limit={args.claim_limit}).")
    claim_limit = args.claim_limit or ReplyQueue(0).claim_limit
    lines = report(args, results, naive, notes, (load_before, load_after), claim_limit)
    print("\n".join(lines))
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    elif args.claim_limit is None:
        record(SECTION, lines)
    else:
        print(f"\n(--claim-limit {args.claim_limit} is a what-if: not recorded in bench/RESULTS.md)", file=sys.stderr)


if __name__ == "__main__":
    main()
