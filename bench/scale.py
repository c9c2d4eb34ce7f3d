"""Scale-out: `fsm-bot run --workers N` (N = 1, 2, 4) on one PostgreSQL database, behind the sandbox's callback push.

Each run starts the bot as a deployment does (tests/support/cluster.py: `python -m fsm_bot run --workers N`, callback
mode, every sandbox token, vk.rps_limit 1000 so the bot's own pacing is no cap, the engine's default lease, sweep and
leader settings) on a fresh PostgreSQL schema, against the sandbox in a process of its own with its rate limit off.
The sandbox pushes each update over a new TCP connection, 8 at a time, so the kernel spreads them over the workers.

(1) Events per second. U members (seeded straight into the database, onboarded) each write «помощь» M times: the
    bench fires the U x M sends at the sandbox's control API from a pool of threads; the sandbox pushes each as a
    message_new to the callback port. Measured from the first send: every event stored in the inbox (max
    received_at), every event handled (max handled_at of processed_event), every reply delivered (the sandbox's
    request that carried the last reply). A warm-up round (every worker gets events) comes first, unmeasured.
    Once per invocation, the push floor: the same sends pushed to a do-nothing endpoint instead of the bot.
(2) Broadcast copies per second. The headman of a group of R members (seeded straight into the database) goes
    through the «рассылка» dialog with P parts; the clock starts when he presses «Отправить» and stops when the
    sandbox has finished the request carrying the last of the R x P copies. Every copy is checked to arrive once.
(3) Where the time goes. CPU seconds (utime + stime from /proc/<pid>/stat) over each measured span: the sandbox
    process (VK and the people, including the callback push), each worker process (pids from the log's "worker N
    started (pid P)"; with N = 1 the bot process itself), the PostgreSQL backends of the bot's connections (found in
    pg_stat_activity by an application_name of their own, polled so short-lived ones count), this process (the
    people's sends and the polling), and the whole machine's busy time from /proc/stat (so the rest is other work).

    .venv/bin/python bench/scale.py [--workers 1,2,4] [--users 300 --messages 5] [--recipients 10000 --parts 3]
        [--repeats 3] [--postgres URL] [--quick] [--smoke] [--no-record] [--worker-cpu CORES] [--lanes-per-worker]

On 2 cores the workers share the machine with the sandbox, PostgreSQL and this process, so more workers cannot
do more work there whatever the engine does. --worker-cpu gives every worker process the same CPU budget of its
own (a cgroup CFS quota, bench/_cpu_budget.py; needs root), small enough to leave room for the rest: then the
budget, not the machine, limits a worker, and N workers show whether they do N workers' worth of work or get in
each other's way (leases, locks, duplicated polling). --lanes-per-worker gives each worker its share of the
load too: 8 updates in flight per worker instead of 8 in all. Such a run records a section of its own.

Each worker count runs --repeats times, interleaved, and the median run is reported. --quick is a smoke run
(1 and 2 workers once, 60 users x 3, 2,000 recipients x 1 part, ~30 s) and records nothing; --smoke is the
smallest run that still goes through every step (2 workers once, 10 users x 1, 100 recipients x 1 part) for
tests/test_benches.py, and records nothing either. Run it from the
repository root; the defaults take about 3.5 minutes on 2 cores. Workers are stopped (SIGTERM, then SIGKILL)
and the schema dropped whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import multiprocessing
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support.cluster

from _cpu_budget import CpuBudget
from _databases import postgres_reachable, postgres_schema
from _results import percentile, record
from _world import Commands, World, serve_sandbox
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from fsm_bot.delivery.sender import POLL_INTERVAL as SENDER_POLL
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.callback import CONFIRMATION_CODE, MAX_CONNECTIONS
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.services.reports import REFRESH_SECONDS as REPORT_REFRESH
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import Broadcast, BroadcastRecipient, Member, ProcessedEvent, Role
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.storage.types import utcnow
from tests.support.cluster import Cluster, free_port
from tests.support.waiting import wait_until

SECTION = "Scale-out (bench/scale.py)"
BUDGET_SECTION = "Scale-out, each worker on a CPU budget of its own (bench/scale.py --worker-cpu)"
LANES = 8  # updates the sandbox pushes at once
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
HELP = "помощь"
BROADCAST_GROUP, PEOPLE_GROUP = "ИВТ-101", "ИВТ-102"
PART = "Часть {n}: сессия начинается 10 января, расписание экзаменов у старост, допуски до 28 декабря."
SEND_THREADS = 16
POLL = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
REPORT_WAIT = 2 * REPORT_REFRESH + 10  # seconds after the last copy for the report to say the delivery is over
# A deployment's engine settings (tests/support/cluster.py shortens them for its kill -9 tests).
ENGINE = {"lease_seconds": 30, "leader_check_seconds": 2.0, "sweep_seconds": 30}
RPS_LIMIT = 1000  # the highest vk.rps_limit: with the sandbox's limit off, the bot's pacing is no cap either

log = logging.getLogger("bench.scale")


# --- the VK side, in a process of its own


def world_main(conn) -> None:  # type: ignore[no-untyped-def]
    """The sandbox, rate limit off; stamps each top-level API request with the copies it delivered to watched peers."""
    logging.basicConfig(level=logging.WARNING)
    import fsm_bot.sandbox.api as sandbox_api

    original = sandbox_api.dispatch
    stamps: list[tuple[str, float, float, int, int]] = []  # method, start, end, delivered, delivered to watched
    watched: dict[str, Any] = {"peers": frozenset(), "hits": 0}

    def stamped(call, method, params):  # type: ignore[no-untyped-def]
        if call.inner:
            return original(call, method, params)
        mailbox, stats = call.sandbox.mailbox, call.sandbox.stats
        logged, delivered, start = len(mailbox.log), stats.delivered, time.monotonic()
        try:
            return original(call, method, params)
        finally:
            peers = watched["peers"]
            hits = sum(1 for entry in mailbox.log[logged:] if entry["peer_id"] in peers)
            watched["hits"] += hits
            stamps.append((method, start, time.monotonic(), stats.delivered - delivered, hits))

    sandbox_api.dispatch = stamped

    def commands(server: SandboxServer, client: SandboxClient) -> Commands:
        def reset() -> None:
            client.reset(rps_limit=None)
            stamps.clear()
            watched.update(peers=frozenset(), hits=0)

        def users(count: int) -> list[int]:
            """Straight into the state, before the bot runs: 10,000 POSTs would take long."""
            directory = server.sandbox.directory
            return [directory.add_user(f"Имя{i}", f"Студент{i:05d}").id for i in range(count)]

        def watch(peers: Iterable[int]) -> None:
            watched.update(peers=frozenset(peers), hits=0)

        def progress() -> dict[str, int]:
            state = server.sandbox
            server_ = state.callbacks.first()
            return {
                "hits": watched["hits"],
                "delivered": state.stats.delivered,
                "pushed": server_.delivered if server_ else 0,
                "dropped": server_.dropped if server_ else 0,
                "retries": server_.retries if server_ else 0,
            }

        def stamps_since(since: float) -> list[tuple[str, float, float, int, int]]:
            return [stamp for stamp in list(stamps) if stamp[1] >= since]

        def copies() -> dict[int, int]:  # how many copies each watched peer got: {copies: peers}
            peers = watched["peers"]
            log = list(server.sandbox.mailbox.log)
            per_peer = Counter(entry["peer_id"] for entry in log if entry["peer_id"] in peers)
            return dict(Counter(per_peer[peer] for peer in peers))

        return {
            "reset": reset,
            "users": users,
            "watch": watch,
            "progress": progress,
            "stamps": stamps_since,
            "copies": copies,
        }

    serve_sandbox(conn, None, commands)


def null_endpoint_main(port: int) -> None:
    """A callback endpoint that does nothing (for the push floor): the confirmation code, then «ok» to everything."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def handle(request):  # type: ignore[no-untyped-def]
        update = await request.json()
        return PlainTextResponse(CONFIRMATION_CODE if update.get("type") == "confirmation" else "ok")

    app = Starlette(routes=[Route("/callback", handle, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning", lifespan="off")


def push_floor(world: World, users: int, messages: int) -> dict[str, Any]:
    """The same sends pushed to a do-nothing endpoint in a process of its own: what the sandbox's push can do."""
    world.ask("reset")
    people = world.ask("users", users)
    port = free_port()
    endpoint = multiprocessing.get_context("spawn").Process(target=null_endpoint_main, args=(port,), daemon=True)
    endpoint.start()
    sandbox = SandboxClient(world.url)
    try:
        url = f"http://127.0.0.1:{port}/callback"
        wait_until(lambda: _listening(port), 30, "the do-nothing endpoint")
        sandbox.set_callback(url, "floor", connections=8, keep_alive=False)
        wait_for(lambda: sandbox.community()["callback"]["status"] == "ok", 20, "its confirmation")
        client, count = People(world.url), users * messages
        sends = [user for _ in range(messages) for user in people]
        pushed_before = world.ask("progress")["pushed"]
        sandbox_before, endpoint_before = proc_ticks(world.process.pid) or 0, proc_ticks(endpoint.pid) or 0
        started = time.monotonic()
        with ThreadPoolExecutor(SEND_THREADS) as pool:
            list(pool.map(lambda user: client.send(user, HELP), sends))
        wait_for(lambda: world.ask("progress")["pushed"] - pushed_before >= count, 120, f"{count} updates pushed")
        elapsed = time.monotonic() - started
        return {
            "events": count,
            "pushed": elapsed,
            "sandbox_cpu": ((proc_ticks(world.process.pid) or 0) - sandbox_before) / CLOCK_TICKS,
            "endpoint_cpu": ((proc_ticks(endpoint.pid) or 0) - endpoint_before) / CLOCK_TICKS,
        }
    finally:
        with contextlib.suppress(Exception):
            sandbox.set_callback(None)
        endpoint.terminate()
        endpoint.join(10)
        if endpoint.is_alive():
            endpoint.kill()
            endpoint.join(5)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- CPU accounting


def proc_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks; None when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> int:
    """Busy clock ticks of all CPUs together (user, nice, system, irq, softirq, steal)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq + steal


class CpuMeter:
    """Clock ticks of named processes plus the PostgreSQL backends whose application_name is ours.

    A background thread polls pg_stat_activity and /proc every 0.25 s so a backend that ends between two snapshots
    still counts up to its last poll; `snapshot()` polls at once and returns {(role, pid): ticks}."""

    def __init__(self, admin_url: str, application_name: str) -> None:
        self.engine = create_engine(admin_url, pool_size=1, max_overflow=0)
        self.application_name = application_name
        self.processes: dict[int, str] = {}  # pid -> role ("sandbox", "worker 0", ...)
        self.last: dict[tuple[str, int], int] = {}
        self.pg_readable = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()

    def watch(self, pid: int, role: str) -> None:
        with self._lock:
            self.processes[pid] = role

    def _backends(self) -> list[int]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": self.application_name},
                ).scalars()
            )

    def poll(self) -> None:
        with self._lock:
            processes = dict(self.processes)
        seen = {(role, pid): proc_ticks(pid) for pid, role in processes.items()}
        try:
            backends = self._backends()
        except Exception:
            log.warning("pg_stat_activity could not be read", exc_info=True)
            backends = []
        for pid in backends:
            ticks = proc_ticks(pid)
            if ticks is None and Path(f"/proc/{pid}").exists():
                self.pg_readable = False
            seen[("postgres", pid)] = ticks
        with self._lock:
            for key, ticks in seen.items():
                if ticks is not None:
                    self.last[key] = ticks

    def snapshot(self) -> dict[tuple[str, int], int]:
        self.poll()
        with self._lock:
            return dict(self.last)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            with contextlib.suppress(Exception):
                self.poll()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.engine.dispose()


class Span:
    """One measured span: wall time, CPU seconds per role, the machine's busy CPU seconds."""

    def __init__(self, meter: CpuMeter) -> None:
        self.meter = meter
        self.wall_start = time.monotonic()
        self.machine_start = machine_ticks()
        self.own_start = self._own()
        self.start = meter.snapshot()

    @staticmethod
    def _own() -> float:
        times = os.times()
        return times.user + times.system

    def close(self) -> dict[str, Any]:
        end = self.meter.snapshot()
        own = self._own() - self.own_start
        machine = (machine_ticks() - self.machine_start) / CLOCK_TICKS
        wall = time.monotonic() - self.wall_start
        by_role: dict[str, float] = Counter()
        for key, ticks in end.items():
            by_role[key[0]] += (ticks - self.start.get(key, 0)) / CLOCK_TICKS
        return {"wall": wall, "roles": dict(by_role), "bench": own, "machine": machine}


# --- the database


def schema_urls(server_url: str) -> tuple[str, str, str, Callable[[], None]]:
    """A fresh schema: the bot's URL, this process's URL, the bot's application_name, a drop.

    Each URL names its connections (application_name), so the bot's PostgreSQL backends can be
    told apart in pg_stat_activity when their CPU is counted."""
    schema_url, drop = postgres_schema(server_url)
    tag = uuid.uuid4().hex[:10]
    application_name = f"bench_scale_bot_{tag}"

    def url(name: str) -> str:
        return make_url(schema_url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)

    return url(application_name), url(f"bench_scale_meter_{tag}"), application_name, drop


def seed(database_url: str, community_id: int, headman: int, students: list[int], people: list[int]) -> None:
    """Onboarded members in bulk: the headman and `students` in ИВТ-101, `people` in ИВТ-102 (as
    tests/broadcast/test_crash.py: seed makes them, but with one INSERT for thousands)."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def fill(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        communities.ensure(community_id)
        broadcast_group = communities.study_group(community_id, BROADCAST_GROUP)
        people_group = communities.study_group(community_id, PEOPLE_GROUP)
        now = utcnow()
        rows = [(headman, broadcast_group.id, Role.HEADMAN.value)]
        rows += [(vk_id, broadcast_group.id, Role.STUDENT.value) for vk_id in students]
        rows += [(vk_id, people_group.id, Role.STUDENT.value) for vk_id in people]
        for start in range(0, len(rows), 5000):
            session.execute(
                insert(Member),
                [
                    {
                        "community_id": community_id,
                        "vk_id": vk_id,
                        "first_name": f"Имя{n}",
                        "last_name": f"Студент{n:05d}",
                        "role": role,
                        "study_group_id": group_id,
                        "status": "active",
                        "can_receive": True,
                        "is_member": True,
                        "joined_at": now,
                        "updated_at": now,
                    }
                    for n, (vk_id, group_id, role) in enumerate(rows[start : start + 5000], start)
                ],
            )

    database.transaction(fill)
    database.dispose()


# --- the people


class People:
    """Control-API clients, one per thread (a requests.Session is not to be shared)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = threading.local()

    def client(self) -> SandboxClient:
        found = getattr(self.local, "client", None)
        if found is None:
            found = self.local.client = SandboxClient(self.url, timeout=30)
        return found

    def send(self, user: int, message: str) -> tuple[str, datetime.datetime]:
        """The user writes; the update's event_id and when the sandbox had taken the message."""
        return self.client().send(user, message)["event_id"], utcnow()


def bot_messages(sandbox: SandboxClient, user: int, since: int | None = None) -> list[dict]:
    return [message for message in sandbox.messages(user, since) if message["from"] == "bot"]


def say(sandbox: SandboxClient, user: int, message: str, expect: int = 1) -> list[dict]:
    before = sandbox.messages(user)
    sandbox.send(user, message)
    return sandbox.wait_for_messages(user, expect, since=before[-1]["id"] if before else None, timeout=30)


def press(sandbox: SandboxClient, user: int, message: dict, label: str, expect: int = 1) -> list[dict]:
    since = sandbox.messages(user)[-1]["id"]
    sandbox.press(user, message["id"], label)
    return sandbox.wait_for_messages(user, expect, since=since, timeout=30)


def report_text(sandbox: SandboxClient, headman: int) -> str:
    reports = [m["text"] for m in bot_messages(sandbox, headman) if m["text"].startswith("📣 Рассылка №")]
    return reports[-1] if reports else ""


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    return wait_until(condition, timeout, what, interval=POLL)


def done_at(stamps: list[tuple[str, float, float, int, int]], target: int) -> tuple[float | None, int]:
    """The end of the request whose copies to watched peers brought the total to `target`, and the requests
    that delivered any copy to them."""
    total, carrying = 0, 0
    for _method, _start, end, _delivered, hits in sorted(stamps, key=lambda stamp: stamp[2]):
        if hits:
            carrying += 1
            total += hits
            if total >= target:
                return end, carrying
    return None, carrying


# --- one run: N workers, a fresh schema, a fresh sandbox


class Run:
    def __init__(self, world: World, server_url: str, workers: int, args: argparse.Namespace, folder: Path) -> None:
        self.world = world
        self.server_url = server_url
        self.workers = workers
        self.args = args
        self.folder = folder / f"workers{workers}"
        self.folder.mkdir(parents=True)
        self.sandbox = SandboxClient(world.url, timeout=30)
        self.cluster: Cluster | None = None
        self.pids: dict[int, str] = {}
        self.meter: CpuMeter | None = None
        self.budget = CpuBudget(args.worker_cpu) if args.worker_cpu else None

    def execute(self) -> dict[str, Any]:
        bot_url, meter_url, application_name, drop = schema_urls(self.server_url)
        self.bench_url = meter_url
        try:
            self.meter = CpuMeter(meter_url, application_name)
            self.meter.watch(self.world.process.pid, "sandbox")
            try:
                result = self._execute(bot_url)
                result["pg_readable"] = (
                    self.meter.pg_readable and result["events"]["cpu"]["roles"].get("postgres", 0) > 0
                )
                return result
            finally:
                self._stop_cluster()
                self.meter.close()
                if self.budget is not None:
                    self.budget.close()
        finally:
            drop()

    def _execute(self, bot_url: str) -> dict[str, Any]:
        args = self.args
        warmups = 8 * self.workers
        self.world.ask("reset")
        users = self.world.ask("users", 1 + args.recipients + warmups + args.users)
        headman, students = users[0], users[1 : 1 + args.recipients]
        warm, people = users[1 + args.recipients : 1 + args.recipients + warmups], users[-args.users :]
        started = time.monotonic()
        seed(self.bench_url, self.sandbox.group_id, headman, students, warm + people)
        seeded = time.monotonic() - started
        self.cluster = Cluster(
            self.sandbox, bot_url, self.folder, self.workers, engine=ENGINE, vk={"rps_limit": RPS_LIMIT}
        )
        started = time.monotonic()
        self.cluster.start(connections=self.lanes)
        self._watch_processes()
        if self.budget is not None:
            for pid in self.pids:
                self.budget.limit(pid)
        # The scheduler's leader syncs the members from VK at once (10,000 profiles): let it finish first.
        wait_for(lambda: "members synced" in self.cluster.text(), 120, "the first member sync")
        ready = time.monotonic() - started
        result: dict[str, Any] = {"workers": self.workers, "seeded": seeded, "ready": ready}
        result["per_reply"] = self._warm_up(warm)
        result["events"] = self._events(people, result["per_reply"])
        result["broadcast"] = self._broadcast(headman, students)
        result["restarts"] = self._restarts()
        return result

    @property
    def lanes(self) -> int:
        """Updates the sandbox keeps in flight: 8, or 8 per worker (each its share of the load) with
        --lanes-per-worker, at most the sandbox's 16."""
        return min(MAX_CONNECTIONS, LANES * self.workers) if self.args.lanes_per_worker else LANES

    def _watch_processes(self) -> None:
        assert self.cluster is not None and self.cluster.process is not None and self.meter is not None
        if self.workers == 1:
            self.pids = {self.cluster.process.pid: "worker 0"}
        else:
            self.pids = {pid: f"worker {index}" for index, pid in sorted(self.cluster.worker_pids().items())}
            self.meter.watch(self.cluster.process.pid, "supervisor")
        for pid, role in self.pids.items():
            self.meter.watch(pid, role)

    def _restarts(self) -> list[str]:
        assert self.cluster is not None
        now = {pid for pid in self.cluster.worker_pids().values()} if self.workers > 1 else set(self.pids)
        return [f"{role} (pid {pid})" for pid, role in self.pids.items() if pid not in now]

    def _warm_up(self, warm: list[int]) -> int:
        """Every worker handles a few events and sends a few replies; returns bot messages per «помощь»."""
        people = People(self.world.url)
        self.world.ask("watch", warm)
        with ThreadPoolExecutor(SEND_THREADS) as pool:
            list(pool.map(lambda user: people.send(user, HELP), warm))
        wait_for(lambda: self.world.ask("progress")["hits"] >= len(warm), 60, "the warm-up replies")
        time.sleep(0.5)  # a reply of several messages has all of them out by now
        hits = self.world.ask("progress")["hits"]
        if hits % len(warm):
            raise RuntimeError(f"{hits} bot messages to {len(warm)} warm-up users: not the same number each")
        return hits // len(warm)

    def _events(self, people: list[int], per_reply: int) -> dict[str, Any]:
        assert self.meter is not None
        args = self.args
        count = len(people) * args.messages
        replies = count * per_reply
        client = People(self.world.url)
        database = Database(self.bench_url)
        try:
            handled_before = self._handled(database)
            self.world.ask("watch", people)
            sends = [user for _ in range(args.messages) for user in people]  # round by round
            t0_wall = utcnow()
            span = Span(self.meter)
            t0 = span.wall_start
            with ThreadPoolExecutor(SEND_THREADS) as pool:
                sent_at = dict(pool.map(lambda user: client.send(user, HELP), sends))
            sent = time.monotonic() - t0
            wait_for(lambda: self._handled(database) - handled_before >= count, 300, f"{count} events handled")
            wait_for(lambda: self.world.ask("progress")["hits"] >= replies, 300, f"{replies} replies delivered")
            cpu = span.close()
            progress = self.world.ask("progress")
            replies_at, carrying = done_at(self.world.ask("stamps", t0), replies)
            rows = database.transaction(
                lambda session: session.execute(
                    select(
                        ProcessedEvent.event_id,
                        ProcessedEvent.received_at,
                        ProcessedEvent.handled_at,
                        ProcessedEvent.claimed_by,
                    ).where(ProcessedEvent.user_id.in_(people))
                ).all()
            )
        finally:
            database.dispose()
        if len(rows) != count:
            raise RuntimeError(f"{len(rows)} inbox rows for {count} sends")
        pushed = [(received - sent_at[event_id]).total_seconds() for event_id, received, _, _ in rows]
        queued = [(handled - received).total_seconds() for _, received, handled, _ in rows]
        by_worker = Counter(self._role_of(claimed_by) for _, _, _, claimed_by in rows)
        return {
            "events": count,
            "replies": replies,
            "sent": sent,
            "accepted": (max(received for _, received, _, _ in rows) - t0_wall).total_seconds(),
            "handled": (max(handled for _, _, handled, _ in rows) - t0_wall).total_seconds(),
            "delivered": replies_at - t0 if replies_at is not None else float("nan"),
            "requests": carrying,
            "push_p50": percentile(pushed, 0.5),
            "push_p99": percentile(pushed, 0.99),
            "queue_p50": percentile(queued, 0.5),
            "queue_p99": percentile(queued, 0.99),
            "by_worker": dict(sorted(by_worker.items())),
            "push_retries": progress["retries"],
            "push_dropped": progress["dropped"],
            "cpu": cpu,
        }

    def _role_of(self, claimed_by: str | None) -> str:
        pid = int(claimed_by.rsplit(":", 1)[1]) if claimed_by else 0
        return self.pids.get(pid, f"pid {pid}")

    @staticmethod
    def _handled(database: Database) -> int:
        return database.transaction(
            lambda session: session.scalar(select(func.count(ProcessedEvent.handled_at)))  # counts non-null only
        )

    def _broadcast(self, headman: int, students: list[int]) -> dict[str, Any]:
        assert self.meter is not None
        parts = self.args.parts
        copies = len(students) * parts
        say(self.sandbox, headman, "рассылка")
        for n in range(parts):
            added = say(self.sandbox, headman, PART.format(n=n + 1))[-1]
        [who] = press(self.sandbox, headman, added, "Готово")
        [options] = press(self.sandbox, headman, who, f"Моей группе ({BROADCAST_GROUP})")
        confirm = press(self.sandbox, headman, options, "Далее", expect=parts + 2)[-1]  # preview, parts, count
        self.world.ask("watch", students)
        span = Span(self.meter)
        t0 = span.wall_start
        self.sandbox.press(headman, confirm["id"], "Отправить")
        wait_for(lambda: self.world.ask("progress")["hits"] >= copies, 300, f"{copies} copies delivered")
        cpu = span.close()
        last_at, carrying = done_at(self.world.ask("stamps", t0), copies)
        database = Database(self.bench_url)
        try:  # the press is the headman's latest event: which worker handled it (and so created the broadcast)
            pressed_by = database.transaction(
                lambda session: session.scalar(
                    select(ProcessedEvent.claimed_by)
                    .where(ProcessedEvent.user_id == headman)
                    .order_by(ProcessedEvent.id.desc())
                    .limit(1)
                )
            )
        finally:
            database.dispose()
        reported, stale = None, None
        try:
            wait_for(lambda: "Доставка завершена." in report_text(self.sandbox, headman), REPORT_WAIT, "the report")
            reported = time.monotonic() - t0
        except AssertionError:  # a bot bug, noted in the report rather than ending the benchmark
            stale = self._stale_report(headman)
        time.sleep(1.0)  # a copy sent twice would be in the log by now
        per_peer = self.world.ask("copies")
        if per_peer != {parts: len(students)}:
            raise RuntimeError(f"copies per recipient {per_peer}, wanted {parts} each for {len(students)}")
        if reported is not None and f"Доставлено: {len(students)}" not in report_text(self.sandbox, headman):
            raise RuntimeError(f"the report says: {report_text(self.sandbox, headman)!r}")
        return {
            "copies": copies,
            "last_copy": last_at - t0 if last_at is not None else float("nan"),
            "requests": carrying,
            "reported": reported,
            "stale_report": stale,
            "pressed_by": self._role_of(pressed_by),
            "cpu": cpu,
        }

    def _stale_report(self, headman: int) -> str:
        """What the headman's report says, and the broadcast's row, when it never said the delivery was over."""
        database = Database(self.bench_url)
        try:
            status, dirty = database.transaction(
                lambda session: session.execute(
                    select(Broadcast.status, Broadcast.report_dirty).order_by(Broadcast.id.desc()).limit(1)
                ).one()
            )
            pending = database.transaction(
                lambda session: session.scalar(
                    select(func.count()).where(BroadcastRecipient.status.in_(["pending", "sending"]))
                )
            )
        finally:
            database.dispose()
        lines = report_text(self.sandbox, headman).splitlines()
        found = (
            f"{REPORT_WAIT:.0f} s after the last copy the report still read «{' | '.join(lines[1:])}» while the "
            f"database had {pending} recipient(s) pending, broadcast status {status}, report_dirty {dirty}"
        )
        if not pending and not dirty:
            found += (
                " — a lost update: a report refresh read the tally before the last settle committed and cleared "
                "report_dirty after it, so no later refresh edits the report"
            )
        return found

    def _stop_cluster(self) -> None:
        """Stop the supervisor and its workers whatever happened; SIGKILL what does not stop in time."""
        cluster = self.cluster
        if cluster is None or cluster.process is None:
            return
        try:
            cluster.stop()
        except Exception:
            log.warning("stopping the cluster failed; stopping its processes directly", exc_info=True)
        process = cluster.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for pid in self.pids:  # workers left behind by a supervisor that was killed
            if proc_ticks(pid) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


# --- the report


def events_rate(result: dict[str, Any]) -> float:
    return result["events"]["events"] / result["events"]["handled"]


def copies_rate(result: dict[str, Any]) -> float:
    return result["broadcast"]["copies"] / result["broadcast"]["last_copy"]


def median_run(runs: list[dict[str, Any]], rate_of: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """The run whose rate is the median (the lower middle one of an even number)."""
    return sorted(runs, key=rate_of)[(len(runs) - 1) // 2]


def rate_cell(runs: list[dict[str, Any]], rate_of: Callable[[dict[str, Any]], float]) -> str:
    rates = [rate_of(run) for run in runs]
    middle = rate_of(median_run(runs, rate_of))
    return f"**{middle:,.0f}**" + (f" ({min(rates):,.0f}–{max(rates):,.0f})" if len(rates) > 1 else "")


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def cores(cpu: float, wall: float) -> str:
    return f"{cpu:.2f} s ({cpu / wall:.2f})" if wall > 0 else f"{cpu:.2f} s"


def worker_cpu(roles: dict[str, float]) -> list[float]:
    return [value for _, value in sorted((role, value) for role, value in roles.items() if role.startswith("worker"))]


def usage(cpu: dict[str, Any]) -> dict[str, float]:
    """CPU seconds over the span, per part (bot: the workers and the supervisor; other: the machine's rest)."""
    roles = cpu["roles"]
    found = {
        "sandbox": roles.get("sandbox", 0.0),
        "bot": sum(worker_cpu(roles)) + roles.get("supervisor", 0.0),
        "postgres": roles.get("postgres", 0.0),
        "bench": cpu["bench"],
        "machine": cpu["machine"],
        "busiest worker": max(worker_cpu(roles), default=0.0),
    }
    found["other"] = max(0.0, found["machine"] - sum(found[part] for part in ("sandbox", "bot", "postgres", "bench")))
    return found


def cpu_row(workers: int, label: str, cpu: dict[str, Any], items: int, unit: str, scale: float) -> str:
    use, wall = usage(cpu), cpu["wall"]
    each = " / ".join(f"{value:.2f}" for value in worker_cpu(cpu["roles"]))
    return (
        f"| {workers} | {label} | {seconds(wall)} | {cores(use['sandbox'], wall)} | {cores(use['bot'], wall)} "
        f"| {each} | {cores(use['postgres'], wall)} | {cores(use['bench'], wall)} "
        f"| {cores(use['machine'], wall)}, {use['machine'] / wall / CORES:.0%} | {use['other']:.2f} s "
        f"| {use['machine'] / items * scale:,.0f} {unit} | {use['bot'] / items * scale:,.0f} {unit} "
        f"| {use['postgres'] / items * scale:,.0f} {unit} |"
    )


def arrow(values: Iterable[float], form: str) -> str:
    return " → ".join(format(value, form) for value in values)


def events_verdict(runs: dict[int, list[dict[str, Any]]], budget: float | None = None) -> str:
    counts = sorted(runs)
    chosen = {n: median_run(runs[n], events_rate) for n in counts}
    count = {n: chosen[n]["events"]["events"] for n in counts}
    use = {n: usage(chosen[n]["events"]["cpu"]) for n in counts}
    wall = {n: chosen[n]["events"]["cpu"]["wall"] for n in counts}
    rates = {n: events_rate(chosen[n]) for n in counts}

    def per_event(part: str) -> list[float]:
        return [use[n][part] / count[n] * 1000 for n in counts]

    text = (
        f"**Events.** {', '.join(f'{n} worker(s) {rates[n]:,.0f}/s' for n in counts)} "
        f"({rates[counts[-1]] / rates[counts[0]]:.2f}x from {counts[0]} to {counts[-1]}). Machine busy "
        f"{arrow((use[n]['machine'] / wall[n] / CORES for n in counts), '.0%')}; CPU per event over the whole machine "
        f"{arrow(per_event('machine'), '.1f')} ms, of which the bot {arrow(per_event('bot'), '.1f')} ms, PostgreSQL "
        f"{arrow(per_event('postgres'), '.1f')} ms, the sandbox {arrow(per_event('sandbox'), '.1f')} ms, this process "
        f"{arrow(per_event('bench'), '.1f')} ms: {CORES} cores could carry at most "
        f"{arrow((CORES * 1000 / value for value in per_event('machine')), ',.0f')} events/s."
    )
    first, last = counts[0], counts[-1]
    busy = use[last]["machine"] / wall[last] / CORES
    share = use[last]["bot"] / use[last]["machine"]
    if busy >= 0.85:
        text += (
            f" **The ceiling is the {CORES}-core machine**: with {last} workers it is {busy:.0%} busy, and more "
            f"workers raised the CPU an event costs ({arrow(per_event('bot'), '.1f')} ms in the bot) "
            + (
                "rather than the rate"
                if rates[last] <= 1.1 * rates[first]
                else f"while the rate rose only {rates[last] / rates[first]:.2f}x"
            )
            + f"; the bot's processes are the largest consumer ({share:.0%} of the machine's CPU with {last} workers)."
        )
    single = use[first]["busiest worker"] / wall[first]
    if first == 1 and single >= 0.75:
        text += (
            f" With one worker its process used {single:.2f} cores, close to the one core a Python process can use "
            "(one GIL for the callback endpoint, 8 handler threads and the sender): that is the 1-worker limit."
        )
    sandbox = max(use[n]["sandbox"] / wall[n] for n in counts)
    if budget:
        each = [use[n]["busiest worker"] / wall[n] for n in counts]
        text += (
            f" Each worker had {budget:g} cores of its own (a cgroup quota) and its busiest used "
            f"{arrow(each, '.2f')} of them: "
            + (
                "the budget is what limits a worker, so the rate shows how many workers' worth of work gets done. "
                if min(each) >= 0.9 * budget
                else "a worker did not use its whole budget, so something else limits the rate too. "
            )
            + f"Bot CPU per event {arrow(per_event('bot'), '.1f')} ms: what more workers cost in contention."
        )
        if 1 in rates and 2 in rates:
            ratio = rates[2] / rates[1]
            text += (
                f" Target (issue 19), 2 workers at least 1.6x one: {ratio:.2f}x, "
                f"**{'met' if ratio >= 1.6 else 'not met'}**."
            )
    elif sandbox >= 0.9:
        text += f" The sandbox reached {sandbox:.2f} cores: it is a ceiling of its own (one Python process)."
    elif busy < 0.85:
        text += (
            f" No part is saturated (the sandbox at most {sandbox:.2f} cores, the machine {busy:.0%} busy): the "
            "limit is latency (the push's 8 connections, commits, polls)."
        )
    push = [chosen[n]["events"]["push_p50"] for n in counts]
    queue = [chosen[n]["events"]["queue_p50"] for n in counts]
    text += (
        f" Where events wait: push time p50 {arrow(push, '.2f')} s (in the sandbox's queue: each POST waits for the "
        f"event's commit in a busy worker), queue time p50 {arrow(queue, '.2f')} s (stored, not yet handled)."
    )
    return text


def broadcast_verdict(runs: dict[int, list[dict[str, Any]]]) -> str:
    counts = sorted(runs)
    chosen = {n: median_run(runs[n], copies_rate) for n in counts}
    copies = {n: chosen[n]["broadcast"]["copies"] for n in counts}
    use = {n: usage(chosen[n]["broadcast"]["cpu"]) for n in counts}
    wall = {n: chosen[n]["broadcast"]["cpu"]["wall"] for n in counts}
    rates = {n: copies_rate(chosen[n]) for n in counts}

    def per_copy(part: str) -> list[float]:
        return [use[n][part] / copies[n] * 1e6 for n in counts]

    busy = max(use[n]["machine"] / wall[n] / CORES for n in counts)
    text = (
        f"**Broadcast.** {', '.join(f'{n} worker(s) {rates[n]:,.0f} copies/s' for n in counts)}. CPU per copy over "
        f"the whole machine {arrow(per_copy('machine'), '.0f')} µs (bot {arrow(per_copy('bot'), '.0f')}, PostgreSQL "
        f"{arrow(per_copy('postgres'), '.0f')}, sandbox {arrow(per_copy('sandbox'), '.0f')}); the machine at most "
        f"{busy:.0%} busy."
    )

    def presser(n: int) -> float:
        """CPU seconds of the worker that handled «Отправить» (created the broadcast, woke its own Sender)."""
        return chosen[n]["broadcast"]["cpu"]["roles"].get(chosen[n]["broadcast"]["pressed_by"], 0.0)

    several = [n for n in counts if n > 1]
    if several:
        text += (
            f" With several workers, the one that handled «Отправить» used "
            f"{arrow((presser(n) / max(use[n]['bot'], 1e-9) for n in several), '.0%')} of the workers' CPU: the "
            f"others see the broadcast only at their Sender's next look at the outbox (every {SENDER_POLL:.0f} s; no "
            f"wake-up crosses processes), and the delivery is over in {arrow((wall[n] for n in several), '.1f')} s."
        )
    if busy < 0.85:
        requests = {n: chosen[n]["broadcast"]["requests"] for n in counts}
        text += (
            " **The ceiling is the one process that delivers**, not the machine: its Sender claims the 2,500-copy "
            "batches one after another on one thread (a claim transaction before each request), so a request left "
            f"every {arrow((chosen[n]['broadcast']['last_copy'] / requests[n] * 1000 for n in counts), '.0f')} ms on "
            f"average, and that process ran at {arrow((presser(n) / wall[n] for n in counts), '.2f')} cores."
        )
    else:
        text += f" **The ceiling is the {CORES}-core machine.**"
    return text


def push_floor_line(floor: dict[str, Any], best: float) -> str:
    rate_ = floor["events"] / floor["pushed"]
    line = (
        f"Push floor: the same {floor['events']:,} sends, pushed the same way to a do-nothing endpoint (answers «ok», "
        f"stores nothing; a process of its own) instead of the bot, were all pushed {floor['pushed']:.2f} s after the "
        f"first send = {rate_:,.0f} updates/s, the sandbox using {floor['sandbox_cpu']:.2f} s of CPU "
        f"({floor['sandbox_cpu'] / floor['pushed']:.2f} cores)"
    )
    if rate_ >= 2 * best:
        return line + f": {rate_ / best:.1f}x the bot's best, so the sandbox's push is not what holds the bot back."
    return line + f": only {rate_ / best:.1f}x the bot's best, so the push itself is close to being a limit."


def report(
    runs: dict[int, list[dict[str, Any]]], floor: dict[str, Any], args: argparse.Namespace, command: str, loads: tuple
) -> list[str]:
    counts = sorted(runs)
    repeats = min(len(found) for found in runs.values())
    first = runs[counts[0]][0]
    lines = [
        f"Command: `{command}` (1-minute load average {loads[0]:.2f} before, {loads[1]:.2f} after, mostly this "
        "benchmark's own processes; the «other» column below shows what else used the CPU during the spans)",
        "",
        f"Machine: {CORES} CPUs ({cpu_model()}), Python {platform.python_version()}; PostgreSQL, the sandbox, the bot "
        "and this process all share it. Each run: `python -m fsm_bot run --workers N` (tests/support/cluster.py; with "
        f"N = 1 one process, no supervisor) on a fresh schema, callback mode, {args.tokens} tokens at vk.rps_limit "
        f"{RPS_LIMIT}, engine defaults (8 handler threads per process, lease 30 s); the sandbox in a process of its "
        "own, rate limit off, pushing each update over a new TCP connection with "
        + (
            f"{LANES} in flight per worker (at most {MAX_CONNECTIONS})"
            if args.lanes_per_worker
            else f"{LANES} in flight"
        )
        + ", so the kernel spreads them over the workers. "
        + (
            f"Each worker process in a cgroup of its own with a CFS quota of {args.worker_cpu:g} cores: the "
            "workers' speed measured on CPU of their own, as with a core per worker, not on what the sandbox, "
            f"PostgreSQL and this process leave of {CORES} cores. "
            if args.worker_cpu
            else ""
        )
        + f"{repeats} run(s) per worker count, interleaved (1, 2, 4, 1, 2, 4, ...); each row is "
        "the median run by rate, min–max of the rate in brackets.",
        "",
        f"**(1) Events**: {args.users} onboarded members each write «{HELP}» {args.messages} times "
        f"({args.users * args.messages:,} message_new events, after a warm-up of 8 per worker), sent by this process "
        f"from {SEND_THREADS} threads through the sandbox's control API; each answer is {first['per_reply']} "
        "message(s). From the first send: «stored», the last event committed to the inbox (received_at); «handled», "
        "the last handled_at (the rate is events / this); «replies out», the sandbox finished the request carrying "
        "the last reply. Per event: push time, the sandbox took the message → stored; queue time, stored → handled.",
        "",
        "| workers | events | sends issued | stored | handled | events/s | replies out | replies/s | requests with "
        "replies | push time p50 / p99 | queue time p50 / p99 | events handled per worker |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n in counts:
        result = median_run(runs[n], events_rate)
        events = result["events"]
        lines.append(
            f"| {n} | {events['events']:,} | {seconds(events['sent'])} | {seconds(events['accepted'])} "
            f"| {seconds(events['handled'])} | {rate_cell(runs[n], events_rate)} | {seconds(events['delivered'])} "
            f"| {events['replies'] / events['delivered']:,.0f} | {events['requests']} "
            f"| {events['push_p50'] * 1000:,.0f} / {events['push_p99'] * 1000:,.0f} ms "
            f"| {events['queue_p50'] * 1000:,.0f} / {events['queue_p99'] * 1000:,.0f} ms "
            f"| {' / '.join(str(value) for value in events['by_worker'].values())} |"
        )
    lines += [
        "",
        push_floor_line(floor, max(events_rate(result) for found in runs.values() for result in found)),
    ]
    lines += [
        "",
        f"**(2) Broadcast**: the headman goes through «рассылка» with {args.parts} part(s) to his group of "
        f"{args.recipients:,} members (seeded into the database) = {args.recipients * args.parts:,} copies, at least "
        f"{-(-args.recipients * args.parts // 2500)} requests of 2,500. From the «Отправить» press: «last copy», the "
        "sandbox finished the request carrying it (the rate is copies / this); «report final», the headman's report "
        f"reads «Доставка завершена.» (polled; every process refreshes reports every {REPORT_REFRESH:.0f} s, so this "
        "is mostly that phase). Every run checked each recipient got each part exactly once.",
        "",
        "| workers | copies | last copy | copies/s | requests with copies | report final |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in counts:
        result = median_run(runs[n], copies_rate)
        broadcast = result["broadcast"]
        lines.append(
            f"| {n} | {broadcast['copies']:,} | {seconds(broadcast['last_copy'])} | {rate_cell(runs[n], copies_rate)} "
            f"| {broadcast['requests']} "
            f"| {seconds(broadcast['reported']) if broadcast['reported'] is not None else 'never (stale)'} |"
        )
    lines += [
        "",
        "**(3) Where the time goes** (the median runs above): CPU seconds over each span (events: first send to last "
        "reply; broadcast: press to last copy; each ends at the poll that saw it) and, in brackets, cores used on "
        "average. Bot: the workers (and the supervisor), each worker also apart; PostgreSQL: the backends of the "
        "bot's connections (pg_stat_activity by application_name; the server's background processes are not in it); "
        f"bench: this process (the people's sends, the polling); machine: busy time of all {CORES} CPUs from "
        "/proc/stat and % of the machine; other: machine minus the rest (other work, the kernel, PostgreSQL's "
        "background). Per event / per copy: machine, bot, PostgreSQL.",
        "",
        "| workers | span | wall | sandbox | bot | per worker | PostgreSQL | bench | machine | other | machine per "
        "item | bot per item | PostgreSQL per item |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in counts:
        events = median_run(runs[n], events_rate)["events"]
        broadcast = median_run(runs[n], copies_rate)["broadcast"]
        lines.append(cpu_row(n, "events", events["cpu"], events["events"], "ms", 1000))
        lines.append(cpu_row(n, "broadcast", broadcast["cpu"], broadcast["copies"], "µs", 1e6))
    lines += ["", events_verdict(runs, args.worker_cpu), "", broadcast_verdict(runs)]
    notes = []
    for n in counts:
        for result in runs[n]:
            events = result["events"]
            if events["push_retries"] or events["push_dropped"]:
                notes.append(
                    f"{n} worker(s): the push retried {events['push_retries']} and dropped {events['push_dropped']} "
                    "update(s)"
                )
            if result["broadcast"]["stale_report"]:
                notes.append(f"{n} worker(s), run {result['repeat']}: {result['broadcast']['stale_report']}")
            if result["restarts"]:
                notes.append(f"{n} worker(s): restarted during the run: {', '.join(result['restarts'])}")
    setup = ", ".join(f"{n}: {statistics.median(r['ready'] for r in runs[n]):.1f} s" for n in counts)
    lines += [
        "",
        f"Not measured: seeding {args.recipients + args.users:,} members took "
        f"{statistics.median(r['seeded'] for found in runs.values() for r in found):.1f} s; start to every worker "
        f"running and the leader's first member sync done, by workers: {setup}.",
    ]
    if not all(result["pg_readable"] for found in runs.values() for result in found):
        notes.append("the PostgreSQL backends' CPU could not be read from /proc in some runs: their column is too low")
    if notes:
        lines.append("Notes: " + "; ".join(notes) + ".")
    return lines


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def worker_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts like 1,2,4")
    return counts


QUICK = {"workers": [1, 2], "users": 60, "messages": 3, "recipients": 2000, "parts": 1, "repeats": 1}
SMOKE = {"workers": [2], "users": 10, "messages": 1, "recipients": 100, "parts": 1, "repeats": 1}
FULL = {"workers": [1, 2, 4], "users": 300, "messages": 5, "recipients": 10_000, "parts": 3, "repeats": 3}


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=worker_counts, default=None, help="worker counts to run (default 1,2,4)")
    parser.add_argument("--users", type=int, default=None, help="members who write (default 300)")
    parser.add_argument("--messages", type=int, default=None, help="«помощь» per member (default 5)")
    parser.add_argument("--recipients", type=int, default=None, help="broadcast recipients (default 10000)")
    parser.add_argument("--parts", type=int, default=None, help="broadcast parts (default 3)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per worker count (default 3)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL server URL (a schema of its own)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run; records nothing")
    parser.add_argument("--smoke", action="store_true", help="the smallest run through every step; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument(
        "--worker-cpu",
        type=float,
        default=None,
        help="cores each worker process may use (a cgroup CFS quota; needs root): scaling measured on the workers' "
        "own CPU, as on a machine with a core per worker, not on what the sandbox and PostgreSQL leave of 2 cores",
    )
    parser.add_argument(
        "--lanes-per-worker", action="store_true", help="8 updates in flight per worker (at most 16), not 8 in all"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # SIGTERM (and Ctrl+C) unwind through the finally blocks: the workers stopped, the schema dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.worker_cpu:
        unavailable = CpuBudget(args.worker_cpu).available()
        if unavailable:
            print(f"--worker-cpu cannot be used here: {unavailable}", file=sys.stderr)
            return 1
    problem = postgres_reachable(args.postgres)
    if problem:
        print(f"PostgreSQL at {args.postgres} is not reachable: {problem}", file=sys.stderr)
        return 1

    loads = [os.getloadavg()[0]]
    runs: dict[int, list[dict[str, Any]]] = {}
    world = World(world_main)
    try:
        args.tokens = len(SandboxClient(world.url).community()["tokens"])
        print("--- push floor: the sandbox pushing to a do-nothing endpoint", flush=True)
        floor = push_floor(world, args.users, args.messages)
        print(f"    {floor['events']} updates pushed in {floor['pushed']:.2f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
            for repeat in range(args.repeats):
                for workers in args.workers:
                    print(f"--- {workers} worker(s), run {repeat + 1} of {args.repeats}", flush=True)
                    run = Run(world, args.postgres, workers, args, Path(folder) / f"run{repeat + 1}")
                    try:
                        result = run.execute()
                    except Exception:
                        logs = run.folder / "workers.log"
                        if logs.exists():
                            print(logs.read_text(encoding="utf-8")[-4000:], file=sys.stderr)
                        raise
                    result["repeat"] = repeat + 1
                    runs.setdefault(workers, []).append(result)
                    events, broadcast = result["events"], result["broadcast"]
                    print(
                        f"    events: {events['events']} handled in {events['handled']:.2f} s "
                        f"({events_rate(result):,.0f}/s), replies out at {events['delivered']:.2f} s; broadcast: "
                        f"{broadcast['copies']} copies in {broadcast['last_copy']:.2f} s "
                        f"({copies_rate(result):,.0f}/s)" + ("; STALE REPORT" if broadcast["stale_report"] else ""),
                        flush=True,
                    )
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        world.close()
    loads.append(os.getloadavg()[0])

    command = ".venv/bin/python bench/scale.py" + (" --smoke" if args.smoke else " --quick" if args.quick else "")
    for key, value in sizes.items():
        if getattr(args, key) != value:
            shown = getattr(args, key)
            command += f" --{key} {','.join(map(str, shown)) if isinstance(shown, list) else shown}"
    if args.postgres != DEFAULT_POSTGRES:
        command += f" --postgres {shlex.quote(args.postgres)}"
    if args.worker_cpu:
        command += f" --worker-cpu {args.worker_cpu:g}"
    if args.lanes_per_worker:
        command += " --lanes-per-worker"
    lines = report(runs, floor, args, command, tuple(loads))
    print()
    print("\n".join(lines))
    if args.smoke or args.quick or args.no_record:
        print("\n(not recorded: --smoke / --quick / --no-record)")
    else:
        section = BUDGET_SECTION if args.worker_cpu else SECTION
        record(section, lines)
        print(f"\nrecorded in bench/RESULTS.md, section «{section}» ({datetime.date.today().isoformat()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
