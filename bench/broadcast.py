"""Broadcast delivery: one broadcast to 10,000 recipients, one token, VK's 20 requests/s enforced by the sandbox.

Issue #6 point 8. A request is one `execute` of up to 25 `messages.send` calls with up to 100 `peer_ids`
each: 2,500 copies, so N recipients need at least ceil(N / 2,500) requests, and one token can carry
20 x 2,500 = 50,000 copies/s. Targets: requests = that minimum, wall time <= 1.5x the limit N / 50,000 s.

What is measured, in one run against the same sandbox:
- the gateway: the broadcast and its N recipient rows are written in one transaction (as the confirming
  step of the dialog writes them: `BroadcastRepository.create` plus the «Ознакомлен» keyboard on the last
  part); the clock starts when that transaction has committed, then the Sender (ReplyQueue + BroadcastQueue,
  VkClient with one token at 20 requests/s) is woken, as the bot wakes it after an event; the clock stops
  when the sandbox has finished the request that carried the last copy. `--runs` times per database
  (SQLite file; PostgreSQL in a schema of its own when reachable), the median is reported;
- the floor: the same N copies as pre-built executes (no database), one thread per request, to show what
  the sandbox and HTTP alone cost on this machine;
- the seed bot's way: one `messages.send` per recipient through vk_api, paced to 20/s (the best one call
  per copy can do), on `--naive` recipients and scaled linearly to N;
- one larger gateway run on SQLite (`--large`, 100,000 by default: 40 requests, past the 20 that may
  leave in the first second), to see the sustained rate rather than a burst.
CPU time of the bot process and of the sandbox process is taken over each run, and the Sender's claim and
settle transactions are timed (through a BroadcastQueue subclass and SQLAlchemy's after_commit event, the
delivery code itself untouched), so the report shows where the time goes request by request.

The sandbox runs in a process of its own, so its CPU does not share the bot's GIL (VK is not in the bot's
process either). Its users are added straight into its state before each run (10,000 POSTs would take
most of the time budget); delivery itself goes over real HTTP through vk_api. Both processes stamp times
with time.monotonic(), one clock system-wide on Linux, so the bot's and the sandbox's moments compare.

    .venv/bin/python bench/broadcast.py [--recipients 10000] [--naive 500] [--runs 7] [--large 100000]
        [--postgres URL|""] [--smoke (every size tiny, seconds: proves the bench still runs; records nothing)]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vk_api
from _databases import postgres_reachable, postgres_schema
from _results import record
from _world import Commands, add_users_directly, serve_sandbox
from _world import World as SandboxWorld
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import flows
from fsm_bot.delivery.broadcasts import BroadcastQueue
from fsm_bot.delivery.replies import ReplyQueue
from fsm_bot.delivery.sender import Sender
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient, vk_session_for
from fsm_bot.services.broadcasts import ack_keyboard
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.models import Broadcast, BroadcastRecipient, BroadcastStatus, RecipientStatus
from fsm_bot.storage.repositories import BroadcastRepository, CommunityRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Texts
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_PEERS_PER_CALL, MessageContent, SendUnit
from fsm_bot.vk.sending import send_units

SECTION = "Broadcast: 10,000 recipients (bench/broadcast.py)"
RPS = 20
PER_REQUEST = MAX_CALLS_PER_EXECUTE * MAX_PEERS_PER_CALL  # 2,500 copies
CAPACITY = RPS * PER_REQUEST  # 50,000 copies/s on one token
SENDER_VK_ID = 1  # the headman; not a recipient
TEXT = (
    "Внимание, ИВТ-101! Завтра, 14 марта, пара по матанализу переносится с 10:10 в ауд. 305 "
    "на 13:40 в ауд. 412 (корпус Б). Контрольная остаётся в силе: при себе иметь зачётку и калькулятор. "
    "Кто не может прийти, напишите старосте до 20:00."
)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


# --- the VK side, in a process of its own


def world_main(conn, rps_limit: int) -> None:  # type: ignore[no-untyped-def]
    """The sandbox; answers the benchmark's commands over `conn` and stamps every top-level request."""
    logging.basicConfig(level=logging.WARNING)
    import fsm_bot.sandbox.api as sandbox_api

    original = sandbox_api.dispatch
    requests_seen: list[tuple[str, float, float, int]] = []  # method, start, end, copies it delivered

    def stamped(call, method, params):  # type: ignore[no-untyped-def]
        if call.inner:
            return original(call, method, params)
        before, start = call.sandbox.stats.delivered, time.monotonic()
        try:
            return original(call, method, params)
        finally:
            requests_seen.append((method, start, time.monotonic(), call.sandbox.stats.delivered - before))

    sandbox_api.dispatch = stamped

    def commands(server: SandboxServer, client: SandboxClient) -> Commands:
        def reset() -> None:
            client.reset(rps_limit=rps_limit)
            requests_seen.clear()

        return {
            "reset": reset,
            "users": lambda count: add_users_directly(server, count),
            "requests": lambda: list(requests_seen),
            "cpu": time.process_time,
            "log": client.log,
        }

    serve_sandbox(conn, rps_limit, commands)


class World(SandboxWorld):
    """The benchmark's handle on the sandbox process."""

    def __init__(self, rps_limit: int) -> None:
        super().__init__(world_main, rps_limit, ask_timeout=120)
        self.community()


def delivery_check(world: World, recipients: Sequence[int]) -> dict[str, Any]:
    """The sandbox's counters and whether its delivery log holds every recipient exactly once."""
    stats = world.ask("stats")
    copies = Counter(entry["peer_id"] for entry in world.ask("log"))
    expected = set(recipients)
    return {
        "stats": stats,
        "exactly_once": set(copies) == expected and all(count == 1 for count in copies.values()),
        "log_copies": sum(copies.values()),
        "missing": len(expected - set(copies)),
        "repeated": sum(count > 1 for count in copies.values()),
    }


# --- the bot side: timing the Sender's transactions without touching it


class Stamps:
    """When each claim and settle transaction of the broadcast queue started and committed."""

    def __init__(self, expected: int) -> None:
        self.local = threading.local()
        self.events: list[tuple[str, float, float, int]] = []  # kind, start, committed, copies
        self.lock = threading.Lock()
        self.expected = expected
        self.settled = 0
        self.done = threading.Event()  # every expected copy's settle has committed

    def begin(self, kind: str, copies: int = 0) -> None:
        self.local.pending = (kind, time.monotonic(), copies)

    def set_copies(self, copies: int) -> None:
        kind, start, _ = self.local.pending
        self.local.pending = (kind, start, copies)

    def after_commit(self, _session: Session) -> None:
        pending = getattr(self.local, "pending", None)
        if pending is not None:
            self.local.pending = None
            with self.lock:
                self.events.append((pending[0], pending[1], time.monotonic(), pending[2]))
                if pending[0] == "settle":
                    self.settled += pending[2]
                    if self.settled >= self.expected:
                        self.done.set()


class TimedBroadcastQueue(BroadcastQueue):
    """BroadcastQueue as is; it only notes when its transactions start (commits come from a session event)."""

    def __init__(self, community_id: int, stamps: Stamps) -> None:
        super().__init__(community_id)
        self.stamps = stamps

    def claim(self, session, busy_peers, lease_until):  # type: ignore[no-untyped-def]
        self.stamps.begin("claim")
        claimed, more = super().claim(session, busy_peers, lease_until)
        self.stamps.set_copies(sum(len(item.row_ids) for item in claimed))
        return claimed, more

    def settle(self, session, claimed, results, retry_at):  # type: ignore[no-untyped-def]
        self.stamps.begin("settle", sum(len(item.row_ids) for item in claimed))
        return super().settle(session, claimed, results, retry_at)


def create_broadcast(session: Session, community_id: int, recipients: Sequence[int], ack_label: str) -> int:
    """What the confirming step writes: the broadcast, its recipient rows, the ack button on the last part."""
    repository = BroadcastRepository(session, community_id)
    broadcast = repository.create(
        SENDER_VK_ID,
        "group",
        "ИВТ-101",
        [{"text": TEXT}],
        True,
        [(vk_id, f"Бенчмарков Студент{index}") for index, vk_id in enumerate(recipients)],
        utcnow() + timedelta(hours=3),
    )
    final = dict(broadcast.parts[-1])
    final["keyboard"] = ack_keyboard(ack_label, broadcast.id)
    broadcast.parts = [*broadcast.parts[:-1], final]
    return broadcast.id


def settled(database: Database, broadcast_id: int) -> tuple[str, int]:
    def read(session: Session) -> tuple[str, int]:
        status = session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        sent = session.scalar(
            select(func.count())
            .select_from(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == RecipientStatus.SENT.value,
            )
        )
        return str(status), int(sent or 0)

    return database.transaction(read)


def bench_gateway(world: World, database_url: str, count: int, ack_label: str) -> dict[str, Any]:
    recipients = world.fresh(count)
    database = Database(database_url)
    upgrade_to_head(database.engine)
    community_id = world.group_id
    database.transaction(lambda session: CommunityRepository(session).ensure(community_id))
    stamps = Stamps(count)
    event.listen(Session, "after_commit", stamps.after_commit)
    client = VkClient([world.token], world.api_url, rps_limit=RPS)
    sender = Sender(database, client, [ReplyQueue(community_id), TimedBroadcastQueue(community_id, stamps)])
    try:
        sender.start()
        time.sleep(0.5)  # the loop is idle, waiting for a wake-up, as in a running bot
        sandbox_cpu = world.ask("cpu")
        begun = time.monotonic()
        broadcast_id = database.transaction(lambda s: create_broadcast(s, community_id, recipients, ack_label))
        start = time.monotonic()  # the confirming commit
        bot_cpu = time.process_time()
        sender.wake()
        if not stamps.done.wait(120):  # no polling: it would take the GIL and the database from the Sender
            raise RuntimeError(f"the broadcast is not settled after 120 s: {settled(database, broadcast_id)}")
        bot_cpu = time.process_time() - bot_cpu
        sandbox_cpu = world.ask("cpu") - sandbox_cpu
    finally:
        sender.stop()
        event.remove(Session, "after_commit", stamps.after_commit)
    status, sent = settled(database, broadcast_id)
    database.dispose()
    seen = world.ask("requests")
    check = delivery_check(world, recipients)
    if status != BroadcastStatus.DONE.value or sent != count or not check["exactly_once"]:
        raise RuntimeError(f"broadcast went wrong: {status}, {sent} rows sent of {count}; {check}")
    carrying = [r for r in seen if r[3] > 0]
    claims = sorted(e for e in stamps.events if e[0] == "claim")
    settles = sorted(e for e in stamps.events if e[0] == "settle")
    return {
        "create": start - begun,
        "wall": max(r[2] for r in carrying) - start,
        "settled": max(e[2] for e in settles) - start,
        "requests": check["stats"]["requests"],
        "check": check,
        "bot_cpu": bot_cpu,
        "sandbox_cpu": sandbox_cpu,
        "timeline": {
            "claims": [(e[1] - start, e[2] - start, e[3]) for e in claims],
            "requests": [(r[0], r[1] - start, r[2] - start, r[3]) for r in seen],
            "settles": [(e[1] - start, e[2] - start, e[3]) for e in settles],
        },
    }


def bench_floor(world: World, count: int, ack_label: str) -> dict[str, Any]:
    """The same copies as pre-built executes from one thread per request: the sandbox and HTTP alone."""
    recipients = world.fresh(count)
    content = MessageContent(TEXT, ack_keyboard(ack_label, 1))
    units = [
        SendUnit(tuple(recipients[i : i + MAX_PEERS_PER_CALL]), 1_000_000 + i, content)
        for i in range(0, count, MAX_PEERS_PER_CALL)
    ]
    requests = [units[i : i + MAX_CALLS_PER_EXECUTE] for i in range(0, len(units), MAX_CALLS_PER_EXECUTE)]
    client = VkClient([world.token], world.api_url, rps_limit=RPS, connections_per_token=len(requests))
    time.sleep(1.1)  # the sandbox's one-second window is empty
    sandbox_cpu = world.ask("cpu")
    start, bot_cpu = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(len(requests)) as pool:
        results = list(pool.map(lambda batch: send_units(client, batch), requests))
    returned, bot_cpu = time.monotonic() - start, time.process_time() - bot_cpu
    sandbox_cpu = world.ask("cpu") - sandbox_cpu
    failed = sum(1 for batch in results for unit in batch for peer in unit if peer.outcome.name != "SENT")
    seen = world.ask("requests")
    check = delivery_check(world, recipients)
    if failed or not check["exactly_once"]:
        raise RuntimeError(f"floor run went wrong: {failed} failed; {check}")
    return {
        "wall": max(r[2] for r in seen if r[3] > 0) - start,
        "returned": returned,
        "requests": check["stats"]["requests"],
        "check": check,
        "bot_cpu": bot_cpu,
        "sandbox_cpu": sandbox_cpu,
    }


def bench_naive(world: World, count: int, ack_label: str) -> dict[str, Any]:
    """The seed bot's way: one messages.send per recipient, paced to 20/s (vk_api's own 0.34 s pause off)."""
    recipients = world.fresh(count)
    vk = vk_api.VkApi(token=world.token, session=vk_session_for(world.url), api_version="5.199")
    vk.RPS_DELAY = 0
    limiter = RateLimiter(RPS)
    keyboard = ack_keyboard(ack_label, 1)
    time.sleep(1.1)
    start = time.monotonic()
    for index, user in enumerate(recipients):
        limiter.acquire()
        vk.method("messages.send", {"peer_id": user, "message": TEXT, "keyboard": keyboard, "random_id": index + 1})
    seen = world.ask("requests")
    check = delivery_check(world, recipients)
    if not check["exactly_once"]:
        raise RuntimeError(f"naive run went wrong: {check}")
    return {"wall": max(r[2] for r in seen if r[3] > 0) - start, "requests": check["stats"]["requests"], "check": check}


# --- the report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def timeline_lines(run: dict[str, Any]) -> list[str]:
    """The median run, request by request: when its rows were claimed, sent, delivered and settled."""
    timeline = run["timeline"]
    executes = [r for r in timeline["requests"] if r[3] > 0]

    def span(items: list, index: int, first: int, last: int) -> str:
        return f"{items[index][first] * 1000:.0f}–{items[index][last] * 1000:.0f}" if index < len(items) else ""

    lines = [
        "| request | claim transaction | copies claimed | at the sandbox | copies delivered | settle transaction |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    claims, settles = timeline["claims"], timeline["settles"]
    for index in range(max(len(claims), len(executes), len(settles))):
        claimed = f"{claims[index][2]:,}" if index < len(claims) else ""
        delivered = f"{executes[index][3]:,}" if index < len(executes) else ""
        lines.append(
            f"| {index + 1} | {span(claims, index, 0, 1)} | {claimed} | {span(executes, index, 1, 2)} | {delivered} | "
            f"{span(settles, index, 0, 1)} |"
        )
    return lines


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]


def joined(values: list[Any]) -> str:
    return "/".join(str(value) for value in values)


def run_gateway(world: World, backend: str, folder: str, name: str, postgres: str, count: int, label: str) -> dict:
    if backend == "SQLite":
        url, drop = f"sqlite:///{folder}/{name}.db", (lambda: None)
    else:
        url, drop = postgres_schema(postgres)
    try:
        run = bench_gateway(world, url, count, label)
    finally:
        drop()
    print(
        f"{backend} {name}: wall {ms(run['wall'])}, settled {ms(run['settled'])}, {run['requests']} requests, "
        f"bot CPU {ms(run['bot_cpu'])}, sandbox CPU {ms(run['sandbox_cpu'])}",
        file=sys.stderr,
    )
    return run


def gateway_row(name: str, runs: list[dict[str, Any]], count: int) -> str:
    minimum, limit = math.ceil(count / PER_REQUEST), count / CAPACITY
    walls = [run["wall"] for run in runs]
    wall = statistics.median(walls)
    spread = f" ({ms(min(walls))}–{ms(max(walls))})" if len(runs) > 1 else ""
    return (
        f"| {name} | {count:,} | {joined(sorted({run['requests'] for run in runs}))} ({minimum}) | "
        f"**{ms(wall)}**{spread} | {wall / limit:.2f}x | {ms(statistics.median(run['settled'] for run in runs))} | "
        f"{ms(statistics.median(run['bot_cpu'] for run in runs))} / "
        f"{ms(statistics.median(run['sandbox_cpu'] for run in runs))} | "
        f"{sum(run['check']['stats']['rate_limited'] for run in runs)} |"
    )


# --smoke: sizes that finish in seconds; the figures mean nothing, the run proves the bench works.
SMOKE = {"recipients": 100, "naive": 5, "runs": 1, "large": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=500, help="recipients for the one-send-per-copy baseline")
    parser.add_argument("--runs", type=int, default=7, help="gateway runs per database (the median is reported)")
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help='PostgreSQL server URL (a schema of its own); "" to skip'
    )
    parser.add_argument(
        "--large", type=int, default=100_000, help="recipients of one more SQLite run past one second's budget; 0: none"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    logging.basicConfig(level=logging.WARNING)
    count = args.recipients
    minimum, limit = math.ceil(count / PER_REQUEST), count / CAPACITY
    ack_label = Texts.load("ru", [Path(flows.__file__).parent / "locales"])("broadcast.ack_button")

    postgres_note = postgres_reachable(args.postgres) if args.postgres else 'not asked for (--postgres "")'
    backends = ["SQLite"] + (["PostgreSQL"] if postgres_note is None else [])
    load_before = os.getloadavg()[0]
    world = World(RPS)
    gateway: dict[str, list[dict[str, Any]]] = {}
    large = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            for backend in backends:
                gateway[backend] = [
                    run_gateway(world, backend, folder, f"run{i + 1}", args.postgres, count, ack_label)
                    for i in range(args.runs)
                ]
            if args.large:
                large = run_gateway(world, "SQLite", folder, "large", args.postgres, args.large, ack_label)
        floor = [bench_floor(world, count, ack_label) for _ in range(args.runs)]
        naive = bench_naive(world, args.naive, ack_label)
    finally:
        world.close()
    load_after = os.getloadavg()[0]

    command = f"`.venv/bin/python bench/broadcast.py --recipients {count} --naive {args.naive} --runs {args.runs}"
    command += f" --large {args.large}"
    command += f' --postgres "{args.postgres}"`' if args.postgres != DEFAULT_POSTGRES else "`"
    naive_scaled = naive["wall"] * count / args.naive
    naive_requests = naive["requests"] * count // args.naive
    floor_wall = statistics.median(run["wall"] for run in floor)
    medians = {backend: statistics.median(run["wall"] for run in runs) for backend, runs in gateway.items()}
    best = {backend: min(run["wall"] for run in runs) for backend, runs in gateway.items()}
    requests_met = all(run["requests"] == minimum for runs in gateway.values() for run in runs)
    lines = [
        f"Command: {command} (1-minute load average {load_before:.2f} before, {load_after:.2f} after: other work on "
        "the machine skews these figures)",
        "",
        f"One broadcast (one part of {len(TEXT)} characters with the «Ознакомлен» keyboard) to {count:,} recipients "
        f"who allow messages; one token; the sandbox, in a process of its own, enforces {RPS} requests/s. A request is "
        f"one `execute` of up to {MAX_CALLS_PER_EXECUTE} `messages.send` x {MAX_PEERS_PER_CALL} `peer_ids` = "
        f"{PER_REQUEST:,} copies, so the minimum is ceil({count:,} / {PER_REQUEST:,}) = {minimum} requests.",
        "",
        f"**The limit** is N / {CAPACITY:,} copies/s ({RPS} requests/s x {PER_REQUEST:,}) = {ms(limit)}, the "
        "sustained rate of one token. VK counts requests per second, so up to 20 requests may leave at once: for "
        f"{minimum} requests the rate limit makes nobody wait, and {ms(limit)} is a yardstick rather than a wall "
        "that the rate limit builds; what takes the time is building, carrying and processing the requests. The "
        "«floor» row measures the sandbox and HTTP alone on this machine (the same copies as pre-built executes, no "
        "database), which no sender can beat here. **Wall time** runs from the commit of the transaction that "
        "created the broadcast to the moment the sandbox finished the request carrying the last copy; «settled» is "
        "when the last settle transaction committed (every recipient row `sent`). Median of the runs, min–max in "
        "brackets. CPU: this process (the bot side) / the sandbox process, over the same span.",
        "",
        "| sender | recipients | requests (min) | wall time | x limit | settled in the DB | CPU bot / sandbox "
        "| refused (6) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, runs in gateway.items():
        lines.append(gateway_row(f"gateway, {backend} ({len(runs)} runs)", runs, count))
    floor_walls = [run["wall"] for run in floor]
    floor_cpu = (
        f"{ms(statistics.median(run['bot_cpu'] for run in floor))} / "
        f"{ms(statistics.median(run['sandbox_cpu'] for run in floor))}"
    )
    lines.append(
        f"| floor: {minimum} pre-built executes, one thread each, no DB ({len(floor)} runs) | {count:,} | "
        f"{joined(sorted({run['requests'] for run in floor}))} ({minimum}) | {ms(floor_wall)} "
        f"({ms(min(floor_walls))}–{ms(max(floor_walls))}) | {floor_wall / limit:.2f}x | – | {floor_cpu} | "
        f"{sum(run['check']['stats']['rate_limited'] for run in floor)} |"
    )
    lines.append(
        f"| seed bot: one `messages.send` per copy, paced to {RPS}/s | {args.naive:,} | {naive['requests']} "
        f"({math.ceil(args.naive / PER_REQUEST)}) | {naive['wall']:.1f} s | – | – | – | "
        f"{naive['check']['stats']['rate_limited']} |"
    )
    lines.append(
        f"| seed bot, scaled linearly to {count:,} | {count:,} | {naive_requests:,} ({minimum}) | "
        f"{naive_scaled:,.0f} s | {naive_scaled / limit:,.0f}x | – | – | – |"
    )
    if large is not None:
        lines.append(gateway_row(f"gateway, SQLite, {args.large:,} recipients (1 run)", [large], args.large))
    lines += [
        "",
        "**Targets** (issue #6): requests = the minimum: "
        + ("**met**" if requests_met else "**NOT met**")
        + " ("
        + ", ".join(f"{b} {joined([r['requests'] for r in runs])}" for b, runs in gateway.items())
        + f" vs {minimum}). Wall <= 1.5x the limit ({ms(1.5 * limit)}): "
        + "; ".join(
            f"{backend} {ms(wall)} = {wall / limit:.2f}x, "
            + ("**met**" if wall <= 1.5 * limit else "**NOT met**")
            + f" (best run {ms(best[backend])} = {best[backend] / limit:.2f}x)"
            for backend, wall in medians.items()
        )
        + f". The floor alone is {floor_wall / limit:.2f}x the limit on this machine, so the bot's own share of the "
        "wall time is " + ", ".join(f"{backend} {ms(wall - floor_wall)}" for backend, wall in medians.items()) + ".",
        f"The seed bot's way (one call per copy) would take {naive_scaled:,.0f} s and {naive_requests:,} requests for "
        f"{count:,} recipients: {naive_scaled / medians['SQLite']:,.0f}x the gateway's wall time on SQLite.",
        "Bot CPU per copy (this process, median run): "
        + ", ".join(
            f"{b} {statistics.median(r['bot_cpu'] for r in runs) / count * 1e6:.0f} µs" for b, runs in gateway.items()
        )
        + f"; the floor's HTTP and JSON alone {statistics.median(r['bot_cpu'] for r in floor) / count * 1e6:.0f} µs. "
        f"At {CAPACITY:,} copies/s that would be "
        + ", ".join(
            f"{statistics.median(r['bot_cpu'] for r in runs) / count * CAPACITY:.1f} cores ({b})"
            for b, runs in gateway.items()
        )
        + ", in one process whose Python runs on one core at a time.",
        *(
            [
                f"Past one second's budget: {args.large:,} recipients took {large['wall']:.2f} s = "
                f"{args.large / large['wall']:,.0f} copies/s ({args.large / large['wall'] / CAPACITY:.0%} of "
                f"{CAPACITY:,}/s; the limit is {args.large / CAPACITY:.1f} s), {large['requests']} requests, "
                f"bot CPU {large['bot_cpu']:.1f} s; median claim transaction "
                f"{ms(statistics.median(c[1] - c[0] for c in large['timeline']['claims'] if c[2]))}, the claims one "
                "after another on the Sender's loop thread."
            ]
            if large is not None
            else []
        ),
        "",
        "**Sandbox stats** per run (every run also checks the delivery log: each recipient exactly once): "
        + "; ".join(
            f"{backend}: delivered {joined([r['check']['stats']['delivered'] for r in runs])}, "
            f"deduplicated {joined([r['check']['stats']['deduplicated'] for r in runs])}, "
            f"exactly once: {'yes' if all(r['check']['exactly_once'] for r in runs) else 'NO'}"
            for backend, runs in gateway.items()
        )
        + f"; calls in one run: {median_run(gateway['SQLite'])['check']['stats']['calls']}.",
        f"Creating the broadcast (the confirming transaction with {count:,} recipient rows, before the clock starts): "
        + ", ".join(f"{b} {ms(statistics.median(r['create'] for r in runs))}" for b, runs in gateway.items())
        + ".",
    ]
    if postgres_note:
        lines.append(f"PostgreSQL skipped: {postgres_note}.")
    for backend, runs in gateway.items():
        lines += ["", f"Median {backend} run, ms from the confirming commit (a transaction: start–commit):", ""]
        lines += timeline_lines(median_run(runs))
    print("\n".join(lines))
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    else:
        record(SECTION, lines)


if __name__ == "__main__":
    main()
