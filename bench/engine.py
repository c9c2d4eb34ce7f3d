"""The engine's own speed and memory: dialog steps end to end, events per second in-process, RSS per member.

(a) Dialog steps end to end. A real `Bot` (Long Poll source, durable inbox, dispatcher, handler, SQLite, reply
    outbox and the Sender, one token) against the VK sandbox enforcing 20 requests/s. The sandbox runs in a
    process of its own, as VK is another machine: it plays the people too (sends their messages through the
    control API from a few threads) and stamps, with the system-wide monotonic clock, each bot message the moment
    it lands in a conversation. N onboarded members each go through the survey's 3 steps («опрос», a name, an
    age; each answered by one message). Two schedules, each with its own N fresh users:
    - lockstep: step k is sent for all users, all answers are awaited, then step k+1;
    - pipelined: each user sends their next step as soon as their previous answer arrived.
    And a burst: N other users each write «помощь» at once (one answer each, the same for all: the help text
    with the menu), replies/s and latency as issue 19 asks for "500 distinct people writing at once".
    A step is one user message answered; latency is from issuing the send to the answer in the sandbox.
    The physical limit is 500 replies/s (20 requests x 25 messages.send per execute) when every reply differs;
    replies with identical content (the steps 1 and 2 questions) can share one peer_ids call (100 peers).
(b) Events per second in-process, VK replaced at its boundary: message_new envelopes (shaped as VK_PROTOCOL.md
    says) are written into the `Inbox` in batches of 100 (as the Long Poll source does), then a `Dispatcher`
    with `EventHandler` (wired as `Bot` wires them; the typing indicator is an instant stand-in) handles them;
    replies are queued in the outbox and never sent. M users x K events, interleaved across users, each user
    cycling «опрос», name, age, «отмена»; afterwards every reply is checked. Baselines on the same rows: the
    transaction alone (mark the inbox row handled, nothing else), serially in one thread and through the same
    Dispatcher, with and without the typing function (the Dispatcher starts a timer per event when it has one).
    SQLite (a file) and PostgreSQL (a schema of its own, dropped afterwards).
(c) Memory: VmRSS (/proc/self/status) of a fresh process running dispatcher + handler over a SQLite database
    holding 100,000 members, before and after handling events from thousands of distinct users (each «опрос»,
    which starts a dialog), with Python's allocated blocks beside it; then the ORM rows and event objects still
    alive in the heap are counted.

Defaults take about 3 minutes on 2 cores:

    .venv/bin/python bench/engine.py [--users 500] [--events 10000 --event-users 2000] [--members 100000]
        [--memory-users 4000 --memory-batches 3] [--workers 8] [--postgres-url URL | --skip-postgres]
        [--only dialogs,events,memory]  (a partial run prints but does not record)
        [--smoke]  (every size tiny, about 30 s: proves the bench still runs; prints, records nothing)

Run it from the repository root (the survey flow lives in tests/engine/sample_flows.py).
"""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import os
import queue
import shlex
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `flows` and tests.engine.sample_flows

from _databases import postgres_schema
from _results import percentile, record
from _world import Commands, serve_sandbox, stamp_bot_answers
from _world import World as SandboxWorld
from sqlalchemy import event, func, insert, select, update

from fsm_bot.config import Settings
from fsm_bot.engine.dispatcher import Dispatcher, EventHandling
from fsm_bot.engine.handler import EventHandler
from fsm_bot.engine.inbox import Inbox, QueuedEvent
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.saving import Handled
from fsm_bot.runtime.bot import FLOW_CATALOGS, Bot
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.services.community import services_factory
from fsm_bot.services.options import CommunityOptions
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import Dialog, Member, OutgoingMessage, ProcessedEvent
from fsm_bot.storage.repositories import CommunityRepository, InboxRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Texts
from fsm_bot.vk.events import IncomingEvent, parse_update

FLOWS = ["help", "onboarding", "membership", "tests.engine.sample_flows:survey"]
PHYSICAL_LIMIT = 500.0  # replies/s on one token: 20 requests x 25 messages.send per execute
COMMUNITY_ID = 227000001
STUDY_GROUP = "ИВТ-101"
ASK_NAME, ASK_AGE, CANCELLED = "Как вас зовут?", "Сколько вам лет?", "Действие отменено."
ACCEPT_BATCH = 100
MS = 1000.0

log = logging.getLogger("bench.engine")


# --- small helpers


def vm_rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def name_of(index: int) -> str:
    return f"Студент{index}"


def age_of(index: int) -> str:
    return str(17 + index % 40)


def survey_plan(index: int) -> list[tuple[str, str]]:
    """The three steps of user `index`: what they write, and the answer the survey must give."""
    name, age = name_of(index), age_of(index)
    return [("опрос", ASK_NAME), (name, ASK_AGE), (age, f"{name}, {age}. Верно?")]


def message_new(community_id: int, user_id: int, text_: str, serial: int) -> dict[str, Any]:
    """A message_new update envelope as VK sends it (VK_PROTOCOL.md, "Update envelope")."""
    return {
        "type": "message_new",
        "group_id": community_id,
        "event_id": f"{serial:040x}",
        "v": "5.199",
        "object": {
            "message": {
                "id": serial,
                "date": 1700000000 + serial // 100,
                "peer_id": user_id,
                "from_id": user_id,
                "out": 0,
                "text": text_,
                "attachments": [],
                "fwd_messages": [],
                "conversation_message_id": serial,
                "random_id": 0,
                "important": False,
                "is_hidden": False,
                "version": 1,
            },
            "client_info": {
                "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": 0,
            },
        },
    }


def populate(database: Database, community_id: int, vk_ids: list[int]) -> None:
    """Onboarded members (active, in a study group, able to receive), inserted in bulk."""

    def store(session) -> None:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(community_id)
        group = CommunityRepository(session).study_group(community_id, STUDY_GROUP)
        now = utcnow()
        for part in chunks(vk_ids, 10_000):
            session.execute(
                insert(Member),
                [
                    {
                        "community_id": community_id,
                        "vk_id": vk_id,
                        "first_name": name_of(vk_id),
                        "last_name": "Бенчмарков",
                        "role": "student",
                        "study_group_id": group.id,
                        "status": "active",
                        "can_receive": True,
                        "is_member": True,
                        "joined_at": now,
                        "updated_at": now,
                    }
                    for vk_id in part
                ],
            )

    database.transaction(store)


def engine_parts(database: Database, community_id: int) -> tuple[Inbox, EventHandler, Callable[[QueuedEvent], None]]:
    """Inbox and handler as `Bot.start` wires them, minus VK: profiles unknown, replies left in the outbox."""
    texts = Texts.load("ru", [FLOW_CATALOGS])
    inbox = Inbox(database, community_id)
    registry = FlowRegistry.from_names(FLOWS)
    services = services_factory(community_id, CommunityOptions(), registry.names)
    handler = EventHandler(database, community_id, registry, texts, lambda _user: None, services)

    def handle(event: QueuedEvent) -> None:
        handler.handle(event)

    return inbox, handler, handle


class Calls:
    """Handle functions in the shape the Dispatcher runs events through (EventHandling): the baselines
    only mark rows handled, one transaction per event, or per batch when `handle_many` is given (as the
    engine's group commit does); nothing here is ever set aside."""

    def __init__(
        self,
        handle: Callable[[QueuedEvent], None],
        handle_many: Callable[[Sequence[QueuedEvent]], None] | None = None,
    ) -> None:
        self._handle = handle
        self._handle_many = handle_many

    def handle(self, queued: QueuedEvent) -> Handled:
        self._handle(queued)
        return Handled()

    def handle_batch(self, batch: Sequence[QueuedEvent]) -> list[Handled] | None:
        if self._handle_many is None:
            return None  # one by one, through `handle`
        self._handle_many(batch)
        return [Handled() for _ in batch]

    def set_aside(self, queued: QueuedEvent, error: BaseException, attempts: int) -> Handled:
        raise error


def no_typing(_peer_id: int) -> None:
    """The VK stand-in for messages.setActivity: answers at once."""


def accept_all(inbox: Inbox, events: list[IncomingEvent]) -> None:
    """Store events as the Long Poll source does: a batch at a time, each with its cursor."""
    for number, batch in enumerate(chunks(events, ACCEPT_BATCH)):
        inbox.accept(batch, cursor=str(number + 1))


def run_dispatcher(
    inbox: Inbox,
    handling: EventHandling,
    workers: int,
    total: int,
    typing: Callable[[int], None] | None = no_typing,
) -> dict[str, float]:
    """Start a Dispatcher on an inbox holding `total` pending rows; seconds and CPU until all are handled.

    `typing` as the Bot passes it (a stand-in answering at once), or None: no typing watcher.
    Each run reads through an Inbox of its own, as a restarted bot would: an Inbox on SQLite remembers how
    far it has read (`Inbox._read_up_to`, since the leases of 75e42b8), so one reused after `unmark` put its
    rows back would never see them again and this loop would wait for ever.
    """
    fresh = Inbox(inbox.database, inbox.community_id, inbox.lease)
    fresh.take_over()  # as Bot.start does for the only process: leases of an earlier run end now
    dispatcher = Dispatcher(fresh, handling, workers=workers, typing=typing)
    cpu, start = cpu_seconds(), time.perf_counter()
    dispatcher.start()
    deadline = start + 1800
    while dispatcher.handled < total:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {dispatcher.handled} of {total} events were handled")
        time.sleep(0.005)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    dispatcher.stop()
    return {"seconds": elapsed, "rate": total / elapsed, "cpu_per_event": cpu / total}


# --- (a) the VK side in a process of its own


def world_main(conn, rps_limit: int, send_threads: int) -> None:  # type: ignore[no-untyped-def]
    """The sandbox and the people writing to the bot; answers commands from the benchmark over `conn`."""
    logging.basicConfig(level=logging.WARNING)
    answers = stamp_bot_answers()

    def commands(_server: SandboxServer, client: SandboxClient) -> Commands:
        def users(first: int, count: int) -> list[int]:
            return [client.add_user(name_of(first + i), "Бенчмарков")["id"] for i in range(count)]

        def drive(*args: Any) -> dict[str, Any]:
            return _drive(client.url, answers, *args, threads=send_threads)

        return {"users": users, "drive": drive}

    serve_sandbox(conn, rps_limit, commands)


def _drive(
    url: str,
    answers: queue.SimpleQueue[tuple[int, float, str]],
    plan: dict[int, list[str]],
    timeout: float,
    threads: int,
) -> dict[str, Any]:
    """Each user sends their first text; each later one as soon as the bot answered the previous."""
    while True:  # anything left over from an earlier run is not an answer to this one
        try:
            answers.get_nowait()
        except queue.Empty:
            break
    local = threading.local()
    outstanding: dict[int, tuple[int, float]] = {}

    def send(user: int, step: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = SandboxClient(url)
        outstanding[user] = (step, time.monotonic())
        client.send(user, plan[user][step])

    total = sum(len(texts) for texts in plan.values())
    records: list[tuple[int, int, float, float, str]] = []
    extra: list[tuple[int, str]] = []
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(send, user, 0) for user in plan]
        deadline = time.monotonic() + timeout
        while len(records) < total:
            try:
                peer, at, answer = answers.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                break
            pending = outstanding.pop(peer, None)
            if pending is None:
                extra.append((peer, answer))
                continue
            step, sent = pending
            records.append((peer, step, sent, at, answer))
            if step + 1 < len(plan[peer]):
                futures.append(pool.submit(send, peer, step + 1))
        time.sleep(0.3)  # a second answer to one step would show up here
        while True:
            try:
                peer, _at, answer = answers.get_nowait()
            except queue.Empty:
                break
            extra.append((peer, answer))
    for future in futures:
        future.result()
    return {"records": records, "extra": extra, "total": total}


class World(SandboxWorld):
    """The benchmark's handle on the VK-side process: the sandbox and the people writing to the bot."""

    def __init__(self, rps_limit: int, send_threads: int) -> None:
        super().__init__(world_main, rps_limit, send_threads, ask_timeout=600)


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    calls_before, calls_after = before.get("calls", {}), after.get("calls", {})
    return {
        "requests": after["requests"] - before["requests"],
        "refused": after["rate_limited"] - before["rate_limited"],
        "execute": calls_after.get("execute", 0) - calls_before.get("execute", 0),
        "sends": calls_after.get("messages.send", 0) - calls_before.get("messages.send", 0),
        "typing": calls_after.get("messages.setActivity", 0) - calls_before.get("messages.setActivity", 0),
    }


def drive_and_check(world: World, plans: dict[int, list[tuple[str, str]]], steps: list[int]) -> dict[str, Any]:
    """Drive the given steps of every user's plan; raise if any answer is missing, wrong or doubled."""
    plan = {user: [plans[user][step][0] for step in steps] for user in plans}
    before = world.ask("stats")
    with CpuSampler() as bot_cpu:  # the bot runs in this process
        result = world.ask("drive", plan, 300.0)
    after = world.ask("stats")
    records, extra = result["records"], result["extra"]
    if len(records) != result["total"] or extra:
        raise RuntimeError(f"{len(records)} of {result['total']} steps answered; unexpected messages: {extra[:5]}")
    wrong = [
        (user, answer)
        for user, step, _s, _a, answer in records
        if answer != (plans[user][steps[step]][1] or records[0][4])  # "": the same answer for everyone
    ]
    if wrong or not records[0][4]:
        raise RuntimeError(f"{len(wrong)} wrong answers, e.g. {wrong[:3]}")
    first_send = min(sent for _u, _s, sent, _a, _t in records)
    last_answer = max(at for _u, _s, _sent, at, _t in records)
    latencies = [at - sent for _u, _s, sent, at, _t in records]
    elapsed = last_answer - first_send
    return {
        "steps": len(records),
        "seconds": elapsed,
        "rate": len(records) / elapsed,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "latencies": latencies,
        "bot_cpu": bot_cpu.between(first_send, last_answer),
        **stats_delta(before, after),
    }


class CpuSampler:
    """This process's CPU seconds sampled every 20 ms on the monotonic clock (the sandbox stamps with it too)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), cpu_seconds()))
            if self._stop.wait(0.02):
                self.samples.append((time.monotonic(), cpu_seconds()))
                return

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> float:
        """CPU used from `start` to `end`, as a fraction of one core."""
        inside = [sample for sample in self.samples if start <= sample[0] <= end] or self.samples
        (first_at, first_cpu), (last_at, last_cpu) = inside[0], inside[-1]
        return (last_cpu - first_cpu) / max(last_at - first_at, 1e-9)


def bench_dialogs(users: int, workers: int, modes: list[str], send_threads: int) -> list[dict[str, Any]]:
    world = World(rps_limit=20, send_threads=send_threads)
    rows: list[dict[str, Any]] = []
    try:
        sandbox = SandboxClient(world.url)
        community = sandbox.community()
        cohorts = {mode: world.ask("users", index * users, users) for index, mode in enumerate(modes)}
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                vk={
                    "token": community["tokens"][0],
                    "group_id": community["group_id"],
                    "api_url": community["api_url"],
                },
                database={"url": f"sqlite:///{folder}/bot.db"},
                flows=FLOWS,
                engine={"workers": workers},
            )
            bot = Bot(settings)
            bot.start()
            try:
                everyone = [user for cohort in cohorts.values() for user in cohort]
                enrol(bot.database, bot.community_id, everyone)
                for mode, cohort in cohorts.items():
                    plans = {user: survey_plan(index) for index, user in enumerate(cohort)}
                    time.sleep(1.1)  # an empty limiter window, as after a quiet second
                    if mode == "burst":
                        plans = {user: [("помощь", "")] for user in cohort}  # «помощь»: one answer, the same for all
                        rows.append(
                            {
                                "name": f"burst: {users} people write «помощь» at once",
                                **drive_and_check(world, plans, [0]),
                            }
                        )
                    elif mode == "lockstep":
                        rounds = [drive_and_check(world, plans, [step]) for step in range(3)]
                        for step, row in enumerate(rounds):
                            rows.append({"name": f"lockstep, step {step + 1} ({STEP_NAMES[step]})", **row})
                        rows.append(combine("lockstep, all 3 steps (sum of the rounds)", rounds))
                    else:
                        rows.append({"name": "pipelined per user, 3 steps", **drive_and_check(world, plans, [0, 1, 2])})
            finally:
                bot.stop()
    finally:
        world.close()
    return rows


STEP_NAMES = ["«опрос» -> same question for all", "name -> same question for all", "age -> a distinct question each"]


def combine(name: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [value for row in rounds for value in row["latencies"]]
    seconds = sum(row["seconds"] for row in rounds)
    steps = sum(row["steps"] for row in rounds)
    combined = {key: sum(row[key] for row in rounds) for key in ("requests", "refused", "execute", "sends", "typing")}
    combined_cpu = sum(row["bot_cpu"] * row["seconds"] for row in rounds) / seconds
    return {
        "name": name,
        "steps": steps,
        "seconds": seconds,
        "rate": steps / seconds,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "latencies": latencies,
        "bot_cpu": combined_cpu,
        **combined,
    }


def enrol(database: Database, community_id: int, vk_ids: list[int]) -> None:
    """Members found by the start-up sync become onboarded: active in a study group, reachable."""

    def store(session) -> None:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).study_group(community_id, STUDY_GROUP)
        session.execute(
            update(Member)
            .where(Member.community_id == community_id, Member.vk_id.in_(vk_ids))
            .values(study_group_id=group.id, status="active", can_receive=True)
        )

    database.transaction(store)
    missing = database.transaction(
        lambda session: session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.community_id == community_id, Member.vk_id.in_(vk_ids), Member.status != "active")
        )
    )
    known = database.transaction(
        lambda session: session.scalar(
            select(func.count()).select_from(Member).where(Member.community_id == community_id)
        )
    )
    if missing or known < len(vk_ids):
        raise RuntimeError(f"enrolment failed: {known} members known, {missing} not active")


# --- (b) events per second in-process


def survey_cycle(index: int, step: int) -> str:
    name, age = name_of(index), age_of(index)
    return ["опрос", name, age, "отмена"][step % 4]


def bench_events(url: str, label: str, users: int, per_user: int, workers: int) -> dict[str, Any]:
    database = Database(url)
    try:
        upgrade_to_head(database.engine)
        vk_ids = [1_000_000 + i for i in range(users)]
        populate(database, COMMUNITY_ID, vk_ids)
        inbox, handler, _handle = engine_parts(database, COMMUNITY_ID)
        total = users * per_user
        events: list[IncomingEvent] = []
        for step in range(per_user):  # interleaved: everyone's first message, then everyone's second...
            for index, vk_id in enumerate(vk_ids):
                events.append(
                    parse_update(message_new(COMMUNITY_ID, vk_id, survey_cycle(index, step), len(events) + 1))
                )
        start = time.perf_counter()
        accept_all(inbox, events)
        accept_rate = total / (time.perf_counter() - start)
        row_ids = database.transaction(
            lambda session: list(session.scalars(select(ProcessedEvent.id).order_by(ProcessedEvent.id)))
        )
        assert len(row_ids) == total

        def mark(row_id: int) -> None:
            database.transaction(lambda session: InboxRepository(session, COMMUNITY_ID).mark_handled(row_id))

        def mark_all(batch: Sequence[QueuedEvent]) -> None:
            def work(session: Any) -> None:
                inbox = InboxRepository(session, COMMUNITY_ID)
                for queued in batch:
                    inbox.mark_handled(queued.row_id)

            database.transaction(work)

        marking = Calls(lambda event: mark(event.row_id))
        marking_in_batches = Calls(lambda event: mark(event.row_id), mark_all)

        def unmark() -> None:
            """Every row pending again and leased to nobody (on PostgreSQL a run's leases outlive it by 30 s)."""
            database.transaction(
                lambda session: session.execute(
                    update(ProcessedEvent).values(handled_at=None, claimed_by=None, claimed_until=None)
                )
            )

        cpu, start = cpu_seconds(), time.perf_counter()
        for row_id in row_ids:
            mark(row_id)
        elapsed = time.perf_counter() - start
        raw_serial = {"seconds": elapsed, "rate": total / elapsed, "cpu_per_event": (cpu_seconds() - cpu) / total}
        unmark()
        with StatementCounter(database) as statements:
            raw_dispatched = run_dispatcher(inbox, marking, workers, total)
        raw_dispatched["statements"] = statements.statements / total
        raw_dispatched["commits"] = statements.commits / total
        unmark()
        raw_untimed = run_dispatcher(inbox, marking, workers, total, typing=None)
        unmark()
        with StatementCounter(database) as statements:
            raw_batched = run_dispatcher(inbox, marking_in_batches, workers, total)
        raw_batched["statements"] = statements.statements / total
        raw_batched["commits"] = statements.commits / total
        unmark()
        with StatementCounter(database) as statements:
            engine = run_dispatcher(inbox, handler, workers, total)
        engine["statements"] = statements.statements / total
        engine["commits"] = statements.commits / total
        check_engine_run(database, total, users, per_user)
        return {
            "backend": label,
            "events": total,
            "users": users,
            "accept": accept_rate,
            "raw_serial": raw_serial,
            "raw_dispatched": raw_dispatched,
            "raw_untimed": raw_untimed,
            "raw_batched": raw_batched,
            "engine": engine,
        }
    finally:
        database.dispose()


class StatementCounter:
    """SQL statements and commits the database executes meanwhile (SQLAlchemy engine events)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.statements = self.commits = 0

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def check_engine_run(database: Database, total: int, users: int, per_user: int) -> None:
    """Every event handled, each answered by exactly the reply the survey gives."""

    def read(session) -> tuple[int, Counter]:  # type: ignore[no-untyped-def]
        pending = session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.handled_at.is_(None))
        )
        query = select(OutgoingMessage.text, func.count()).group_by(OutgoingMessage.text)
        texts = Counter({text_: count for text_, count in session.execute(query)})
        return pending, texts

    pending, texts = database.transaction(read)
    per_step = Counter(step % 4 for step in range(per_user))
    expected = {ASK_NAME: per_step[0] * users, ASK_AGE: per_step[1] * users, CANCELLED: per_step[3] * users}
    questions = sum(count for text_, count in texts.items() if text_.endswith(". Верно?"))
    problems = [f"{key!r}: {texts[key]} of {count}" for key, count in expected.items() if texts[key] != count]
    if questions != per_step[2] * users:
        problems.append(f"confirm questions: {questions} of {per_step[2] * users}")
    if pending or sum(texts.values()) != total or problems:
        raise RuntimeError(f"engine run is wrong: {pending} unhandled, {sum(texts.values())} replies; {problems}")


# --- (c) memory of a running engine


def memory_point(label: str, database: Database | None = None) -> tuple[str, float, int, int]:
    """RSS (MB), Python's allocated blocks, and the database connections open (each has its SQLite page cache)."""
    gc.collect()
    pool: Any = database.engine.pool if database is not None else None
    connections = pool.checkedin() + pool.checkedout() if pool is not None else 0
    return label, vm_rss_mb(), sys.getallocatedblocks(), connections


def memory_main(conn, url: str, first_vk_id: int, batches: list[tuple[str, int]], workers: int) -> None:  # type: ignore[no-untyped-def]
    """In a fresh process: RSS with the engine idle over the members, then after each batch of distinct users."""
    try:
        logging.basicConfig(level=logging.WARNING)
        points = [memory_point("engine imported, nothing opened")]
        database = Database(url)
        inbox, handler, _handle = engine_parts(database, COMMUNITY_ID)
        members = database.transaction(lambda session: session.scalar(select(func.count()).select_from(Member)))
        dispatcher = Dispatcher(inbox, handler, workers=workers, typing=no_typing)
        dispatcher.start()
        time.sleep(0.5)
        points.append(memory_point(f"dispatcher + handler running, {members:,} members, no event yet", database))
        serial, handled, next_user = 0, 0, first_vk_id
        for label, size in batches:
            events = []
            for vk_id in range(next_user, next_user + size):
                serial += 1
                events.append(parse_update(message_new(COMMUNITY_ID, vk_id, "опрос", serial)))
            next_user += size
            accept_all(inbox, events)
            del events
            handled += size
            while dispatcher.handled < handled:
                time.sleep(0.01)
            points.append(memory_point(label, database))
        gc.collect()
        kinds = (Member, Dialog, ProcessedEvent, OutgoingMessage, IncomingEvent, QueuedEvent)
        alive = Counter(type(obj).__name__ for obj in gc.get_objects() if isinstance(obj, kinds))
        dialogs = database.transaction(lambda session: session.scalar(select(func.count()).select_from(Dialog)))
        result = {
            "points": points,
            "peak": vm_rss_mb("VmHWM"),
            "alive": dict(alive),
            "dialogs": dialogs,
            "members": members,
            "idle": dispatcher.idle(),
        }
        dispatcher.stop()
        database.dispose()
        conn.send(("ok", result))
    except Exception:
        conn.send(("error", traceback.format_exc()))


def bench_memory(members: int, batch_users: int, batches_count: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/memory.db"
        database = Database(url)
        upgrade_to_head(database.engine)
        populate(database, COMMUNITY_ID, [1_000_000 + i for i in range(members)])
        database.dispose()
        warm_up = min(500, members // 10)
        batches = [(f"after {warm_up} events (warm-up, {warm_up} users)", warm_up)]
        done = warm_up
        for _ in range(batches_count):
            if done + batch_users > members:
                break
            done += batch_users
            batches.append((f"after {done:,} events from {done:,} distinct users", batch_users))
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=memory_main, args=(child, url, 1_000_000, batches, workers))
        process.start()
        if not parent.poll(1800):
            process.terminate()
            raise RuntimeError("the memory process did not answer")
        status, value = parent.recv()
        process.join(30)
        if status != "ok":
            raise RuntimeError(f"the memory process failed:\n{value}")
        value["batch_users"] = batch_users
        return value


# --- report


def dialog_lines(rows: list[dict[str, Any]], users: int, workers: int) -> list[str]:
    lines = [
        f"**(a) Dialog steps end to end** — a real `Bot` (Long Poll, SQLite, {workers} workers, one token) against",
        "the sandbox in its own process enforcing 20 requests/s; "
        f"{users} onboarded users per schedule, 3 survey steps each;",
        "latency from the user's send being issued to the answer landing in the sandbox; bot CPU: the bot "
        "process's CPU time over the run's wall time (100% = one core; the GIL lets Python use about one).",
        "",
        "| run | steps | time | steps/s | % of 500/s | p50 latency | p99 latency | bot CPU | requests | "
        "refused (6) | execute | messages.send | setActivity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['steps']} | {row['seconds']:.2f} s | {row['rate']:.0f} | "
            f"{100 * row['rate'] / PHYSICAL_LIMIT:.0f}% | {row['p50'] * MS:.0f} ms | {row['p99'] * MS:.0f} ms | "
            f"{100 * row['bot_cpu']:.0f}% | {row['requests']} | {row['refused']} | {row['execute']} | "
            f"{row['sends']} | {row['typing']} |"
        )
    return lines


def event_lines(results: list[dict[str, Any]], workers: int) -> list[str]:
    if not results:
        return []
    first = results[0]
    lines = [
        "",
        f"**(b) Events in-process**, VK replaced at the inbox — {first['events']:,} message_new events of "
        f"{first['users']:,} users (survey steps and «отмена», interleaved across users), Dispatcher with {workers} "
        "workers; replies queued in the outbox, not sent. Baselines: the same rows, each only marked handled, in a "
        "transaction of its own or (batched) in one transaction per batch the Dispatcher forms, as the engine's "
        "group commit does. CPU is this process's only (PostgreSQL's server work is not in it). Target (issue 19): "
        "2,000 events/s on SQLite, 1,000 on PostgreSQL, at most 4 SQL statements and 500 µs of CPU per event.",
        "",
        "| measure | " + " | ".join(result["backend"] for result in results) + " |",
        "| --- |" + " ---: |" * len(results),
    ]

    def row(name: str, cell: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cell(result) for result in results) + " |")

    row("inbox accept, batches of 100 with the cursor (the source's write)", lambda r: f"{r['accept']:,.0f} events/s")
    row("baseline: mark handled, serial, one thread", lambda r: f"{r['raw_serial']['rate']:,.0f} events/s")
    row(
        "baseline: mark handled through the Dispatcher (with the typing watcher, as the Bot runs it)",
        lambda r: f"{r['raw_dispatched']['rate']:,.0f} events/s",
    )
    row(
        "baseline: mark handled through the Dispatcher, no typing function (no watcher)",
        lambda r: f"{r['raw_untimed']['rate']:,.0f} events/s",
    )
    row(
        "baseline: mark handled through the Dispatcher, batched (group commit)",
        lambda r: f"{r['raw_batched']['rate']:,.0f} events/s",
    )
    row("**engine: Dispatcher + EventHandler + FSM**", lambda r: f"**{r['engine']['rate']:,.0f} events/s**")
    row("engine CPU per event (this process)", lambda r: f"{r['engine']['cpu_per_event'] * 1e6:,.0f} µs")
    row(
        "SQL statements / commits per event: engine (baseline)",
        lambda r: (
            f"{r['engine']['statements']:.1f} / {r['engine']['commits']:.1f} "
            f"({r['raw_dispatched']['statements']:.1f} / {r['raw_dispatched']['commits']:.1f}; "
            f"batched {r['raw_batched']['statements']:.1f} / {r['raw_batched']['commits']:.2f})"
        ),
    )
    row(
        "baseline CPU per event: through the Dispatcher / without the timer",
        lambda r: (
            f"{r['raw_dispatched']['cpu_per_event'] * 1e6:,.0f} µs / {r['raw_untimed']['cpu_per_event'] * 1e6:,.0f} µs"
        ),
    )
    row(
        "engine time / baseline time (through the Dispatcher; batched)",
        lambda r: (
            f"{r['raw_dispatched']['rate'] / r['engine']['rate']:.1f}x; "
            f"{r['raw_batched']['rate'] / r['engine']['rate']:.1f}x"
        ),
    )
    return lines


def memory_lines(result: dict[str, Any] | None, workers: int) -> list[str]:
    if result is None:
        return []
    lines = [
        "",
        f"**(c) Memory** — a fresh process running Dispatcher ({workers} workers) + EventHandler over SQLite with "
        f"{result['members']:,} members; each event is «опрос» from a user not seen before (it starts a dialog). "
        "Python blocks: `sys.getallocatedblocks()`; connections: open in the pool, each with SQLite's page cache "
        "(up to 2 MB by default).",
        "",
        "| moment | VmRSS | Python blocks | DB connections |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {rss:.1f} MB | {blocks:,} | {connections} |"
        for label, rss, blocks, connections in result["points"]
    ]
    last, before = result["points"][-1], result["points"][-2]
    rss_growth = (last[1] - before[1]) * 1024 / result["batch_users"] * 1000
    block_growth = (last[2] - before[2]) / result["batch_users"]
    alive = ", ".join(f"{name} {count}" for name, count in sorted(result["alive"].items())) or "none"
    lines += [
        "",
        f"Peak (VmHWM) {result['peak']:.1f} MB. Over the last batch: {rss_growth:+.0f} KB RSS per 1,000 new users, "
        f"{block_growth:+.2f} Python blocks per new user. After it: {result['dialogs']:,} dialogs in the database; "
        f"ORM rows and events alive in the heap: {alive}; dispatcher idle: {result['idle']}.",
    ]
    return lines


# --smoke: every part at a size that finishes in seconds; the figures mean nothing, the run proves the bench works.
SMOKE = {"users": 10, "events": 200, "event_users": 50, "members": 2000, "memory_users": 200, "memory_batches": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=500, help="(a) users per schedule")
    parser.add_argument(
        "--modes", default="burst,lockstep,pipelined", help="(a) schedules: burst («помощь» once), lockstep, pipelined"
    )
    parser.add_argument("--send-threads", type=int, default=4, help="(a) threads sending the users' messages")
    parser.add_argument("--events", type=int, default=10_000, help="(b) events per backend")
    parser.add_argument("--event-users", type=int, default=2_000, help="(b) distinct users")
    parser.add_argument("--members", type=int, default=100_000, help="(c) members in the database")
    parser.add_argument("--memory-users", type=int, default=4_000, help="(c) distinct users per measured batch")
    parser.add_argument("--memory-batches", type=int, default=3, help="(c) measured batches after the warm-up")
    parser.add_argument("--workers", type=int, default=8, help="dispatcher workers (settings engine.workers)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", default="dialogs,events,memory", help="parts to run; a partial run is not recorded")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parts = set(args.only.split(","))
    load_before = Path("/proc/loadavg").read_text().split()[0]
    modes = [mode for mode in args.modes.split(",") if mode]

    dialogs: list[dict[str, Any]] = []
    if "dialogs" in parts:
        dialogs = bench_dialogs(args.users, args.workers, modes, args.send_threads)
        print("\n".join(dialog_lines(dialogs, args.users, args.workers)), flush=True)
    events: list[dict[str, Any]] = []
    if "events" in parts:
        per_user = max(1, args.events // args.event_users)
        with tempfile.TemporaryDirectory() as folder:
            events.append(
                bench_events(f"sqlite:///{folder}/events.db", "SQLite", args.event_users, per_user, args.workers)
            )
        print("\n".join(event_lines(events, args.workers)), flush=True)
        if not args.skip_postgres:
            url, drop = postgres_schema(args.postgres_url)
            try:
                events.append(bench_events(url, "PostgreSQL", args.event_users, per_user, args.workers))
            finally:
                drop()
            print("\n".join(event_lines(events, args.workers)), flush=True)
    memory = None
    if "memory" in parts:
        memory = bench_memory(args.members, args.memory_users, args.memory_batches, args.workers)
        print("\n".join(memory_lines(memory, args.workers)), flush=True)

    command = " ".join([".venv/bin/python bench/engine.py", *map(shlex.quote, sys.argv[1:])])
    lines = [
        f"Command: `{command}` (1-minute load average before the run: {load_before}; the benchmark itself keeps "
        "both cores busy, so other work on the machine skews its figures)",
        "",
    ]
    lines += dialog_lines(dialogs, args.users, args.workers) if dialogs else []
    lines += event_lines(events, args.workers)
    lines += memory_lines(memory, args.workers)
    print()
    print("\n".join(lines))
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    elif parts >= {"dialogs", "events", "memory"}:
        record("Engine: dialogs, events, memory (bench/engine.py)", lines)
    else:
        print("\n(partial run: not recorded in bench/RESULTS.md)")


if __name__ == "__main__":
    main()
