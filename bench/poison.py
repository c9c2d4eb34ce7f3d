"""What a poisoned event costs the others (target: nothing measurable).

Since 38a035b a statement the database refuses (IntegrityError, DataError) ends its event at once with the
error-id apology, and an error of an outage's class (OperationalError) is tried again with backoff and set aside
after 5 tries if the database answers meanwhile. Between those tries the event waits on a timer with its worker
back in the pool (b6cb92a; before, the wait was in the worker thread and 8 such people held 89% of the pool).
This benchmark measures what the people who did nothing wrong see meanwhile.

A real `Bot` (Long Poll, durable inbox, 8 workers, reply outbox and Sender, one token) against the sandbox in a
process of its own (bench/_world.py) enforcing VK's 20 requests/s; the flows of tests/engine/sample_flows.py are in
its settings: `survey` («опрос»), `refused` («испорти»: an INSERT that breaks a primary key, IntegrityError on
both backends) and `stuck` («зависни»: an OperationalError every time — PostgreSQL cancels the statement,
SQLite finds its file locked — while the database answers everyone else). Three runs in the same process, each
with people of its own, all onboarded:
  (a) baseline: N bystanders each write «опрос» once, their sends spread evenly over `--spread` seconds;
  (b) the same while P people write «испорти», each again `--pause` seconds after the apology for the last one
      arrived (a person told "try again" who does), from `--lead` seconds before the first bystander until the
      last bystander was answered (their last events are answered before the next run);
  (c) the same with «зависни».
Latency is from issuing a bystander's send (the sandbox plays the people) to «Как вас зовут?» landing in their
conversation; both processes stamp with time.monotonic(), one clock system-wide on Linux. Every answer is
checked (the question to each bystander once, the apology to each poisoned event once, nothing else).
How long a poisoned event held a worker is the sum of its tries, each timed around `Dispatcher._handle_once`
(wrapped in this process only; the dispatcher itself is untouched), the
transactions `Database.transaction` began again counted from its log lines; the pool share is the poisoned
events' worker time while the bystanders wrote, over workers x that span. SQLite (a file) and PostgreSQL (a
schema of its own, dropped afterwards).

    .venv/bin/python bench/poison.py [--bystanders 200] [--spread 10] [--poisoners 8] [--lead 3] [--pause 1]
        [--workers 8] [--postgres-url URL | --skip-postgres] [--smoke (tiny sizes; prints, records nothing)]

Run it from the repository root (the flows live in tests/engine/sample_flows.py). Defaults take about 2 minutes.
"""

from __future__ import annotations

import argparse
import logging
import queue
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.engine.sample_flows

from _databases import postgres_schema
from _results import percentile, record
from _world import Commands, World, serve_sandbox, stamp_bot_answers
from sqlalchemy import func, select, update

from fsm_bot.config import DEFAULT_FLOWS, Settings
from fsm_bot.engine.dispatcher import MAX_ATTEMPTS, Dispatcher
from fsm_bot.engine.inbox import QueuedEvent
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import Member
from fsm_bot.storage.repositories import CommunityRepository

SAMPLE = "tests.engine.sample_flows"
FLOWS = [*DEFAULT_FLOWS, f"{SAMPLE}:survey", f"{SAMPLE}:refused", f"{SAMPLE}:stuck"]
RUNS = [("(a) baseline", None), ("(b) «испорти» (refused)", "испорти"), ("(c) «зависни» (stuck)", "зависни")]
ASK_NAME = "Как вас зовут?"
STUDY_GROUP = "ИВТ-101"
RPS = 20
MS = 1000.0
SECTION = "Poisoned events: what they cost the others (bench/poison.py)"
# --smoke: sizes that finish in seconds; the figures mean nothing, the run proves the bench works.
SMOKE = {"bystanders": 10, "spread": 1.0, "poisoners": 2, "lead": 0.5, "pause": 0.2}

log = logging.getLogger("bench.poison")


# --- the VK side, in a process of its own


def world_main(conn, rps_limit: int, send_threads: int) -> None:  # type: ignore[no-untyped-def]
    """The sandbox and the people; answers the benchmark's commands over `conn`."""
    logging.basicConfig(level=logging.WARNING)
    answers = stamp_bot_answers()

    def commands(_server: SandboxServer, client: SandboxClient) -> Commands:
        def users(count: int) -> list[int]:
            return [client.add_user(f"Студент{i}", "Бенчмарков")["id"] for i in range(count)]

        def drive(*args: Any) -> Any:
            return People(client.url, answers, send_threads).drive(*args)

        return {"users": users, "drive": drive}

    serve_sandbox(conn, rps_limit, commands)


class People:
    """Bystanders writing «опрос» on a schedule while poisoners repeat their text, each after their last answer."""

    def __init__(self, url: str, answers: queue.SimpleQueue[tuple[int, float, str]], threads: int) -> None:
        self.url = url
        self.answers = answers
        self.threads = threads
        self.local = threading.local()
        self.lock = threading.Lock()
        self.waiting: dict[int, float] = {}  # person -> when their unanswered message was sent

    def send(self, user: int, text: str) -> None:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = SandboxClient(self.url)
        with self.lock:
            self.waiting[user] = time.monotonic()
        client.send(user, text)

    def answered(self, user: int) -> float | None:
        with self.lock:
            return self.waiting.pop(user, None)

    def drive(
        self, bystanders: list[int], poisoners: list[int], poison: str | None, pace: dict[str, float]
    ) -> dict[str, Any]:
        """`pace`: spread (s over which the bystanders write), lead (s of poisoning before the first of them),
        pause (s a poisoner waits after an apology before writing again), timeout (s to wait for answers)."""
        while True:  # anything left over from an earlier run is no answer to this one
            try:
                self.answers.get_nowait()
            except queue.Empty:
                break
        watched, poisoning = set(bystanders), set(poisoners) if poison else set()
        stop_poison = threading.Event()
        records: list[tuple[int, float, float, str]] = []
        poisoned: list[tuple[int, float, float, str]] = []
        extra: list[tuple[int, str]] = []
        timers: list[threading.Timer] = []

        def again(peer: int) -> None:
            if not stop_poison.is_set():
                futures.append(pool.submit(self.send, peer, poison))

        def take(deadline: float) -> bool:
            """One answer sorted to its sender; False when none came before the deadline."""
            try:
                peer, at, text = self.answers.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                return False
            sent = self.answered(peer) if peer in watched or peer in poisoning else None
            if sent is None:
                extra.append((peer, text))
            elif peer in watched:
                records.append((peer, sent, at, text))
            else:
                poisoned.append((peer, sent, at, text))
                if not stop_poison.is_set():
                    timers.append(threading.Timer(pace["pause"], again, (peer,)))
                    timers[-1].start()
            return True

        with ThreadPoolExecutor(self.threads) as pool:
            futures = [pool.submit(self.send, user, poison) for user in poisoning]
            start = time.monotonic() + (pace["lead"] if poisoning else 0.0)

            def schedule() -> None:
                for index, user in enumerate(bystanders):
                    time.sleep(max(0.0, start + index * pace["spread"] / len(bystanders) - time.monotonic()))
                    futures.append(pool.submit(self.send, user, "опрос"))

            scheduler = threading.Thread(target=schedule, name="bystanders", daemon=True)
            scheduler.start()
            deadline = start + pace["spread"] + pace["timeout"]
            while len(records) < len(bystanders) and take(deadline):
                pass
            stop_poison.set()
            scheduler.join()
            for timer in timers:
                timer.cancel()
                timer.join()
            for future in list(futures):
                future.result()  # every message sent, so each one still unanswered is in self.waiting
        deadline = time.monotonic() + pace["timeout"]
        while self.waiting_for(poisoning) and take(deadline):
            pass  # the poisoners' last events are answered before the next run starts
        time.sleep(0.3)  # a second answer to one message would show up here
        while take(time.monotonic()):
            pass
        unanswered = [user for user in bystanders if user in self.waiting]
        return {
            "records": records,
            "poisoned": poisoned,
            "extra": extra,
            "unanswered": unanswered,
        }

    def waiting_for(self, users: set[int]) -> bool:
        with self.lock:
            return any(user in self.waiting for user in users)


class Sandbox(World):
    def __init__(self, send_threads: int) -> None:
        super().__init__(world_main, RPS, send_threads, ask_timeout=600)


# --- the bot side: this process


class Holds:
    """How long each event held a worker and how often the handler ran it: each try, `Dispatcher._handle_once`,
    timed in this process only. Between tries an event waits on a timer, holding no worker."""

    def __init__(self) -> None:
        self.tries: list[tuple[int | None, int, float, float]] = []  # user, row id, start, end
        self._lock = threading.Lock()

    def install(self) -> None:
        handle_once = Dispatcher._handle_once

        def timed(dispatcher: Dispatcher, event: QueuedEvent) -> float | None:
            start = time.monotonic()
            try:
                return handle_once(dispatcher, event)
            finally:
                with self._lock:
                    self.tries.append((event.user_id, event.row_id, start, time.monotonic()))

        Dispatcher._handle_once = timed  # type: ignore[method-assign]

    def of(self, users: set[int]) -> list[tuple[list[tuple[float, float]], int]]:
        """Per event of `users`: the spans it held a worker, and how many tries it took."""
        by_event: dict[int, list[tuple[float, float]]] = defaultdict(list)
        with self._lock:
            for user, row_id, start, end in self.tries:
                if user in users:
                    by_event[row_id].append((start, end))
        return [(spans, len(spans)) for spans in by_event.values()]


class Retries(logging.Handler):
    """Counts the retries of the dispatcher (a whole event) and of `Database.transaction` (one transaction),
    and the handler's set-asides, instead of printing them: a poisoned event logs a traceback each time."""

    LOGGERS = ("fsm_bot.engine.dispatcher", "fsm_bot.engine.handler", "fsm_bot.storage.db")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()
        self.unexpected: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name == "fsm_bot.storage.db" and message.startswith("database unavailable"):
            self.counts["transaction"] += 1
        elif "database unavailable; retrying" in message:
            self.counts["event"] += 1
        elif " failed" in message and "(error id " in message:
            self.counts["set aside"] += 1
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:  # SQLAlchemy's wrapper, or what a flow raised itself (sqlite3's own error)
                self.counts[f"set aside: {type(error).__module__}.{type(error).__name__}"] += 1
        elif record.levelno >= logging.WARNING:
            self.counts["other"] += 1
            self.unexpected.append(message)

    def install(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self)
            logger.propagate = False


HOLDS, RETRIES = Holds(), Retries()


def enrol(database: Database, community_id: int, vk_ids: list[int]) -> None:
    """The people found by the start-up sync become onboarded: active in a study group, reachable."""

    def store(session) -> int:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).study_group(community_id, STUDY_GROUP)
        session.execute(
            update(Member)
            .where(Member.community_id == community_id, Member.vk_id.in_(vk_ids))
            .values(study_group_id=group.id, status="active", can_receive=True)
        )
        return session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.community_id == community_id, Member.vk_id.in_(vk_ids), Member.status == "active")
        )

    active = database.transaction(store)
    if active != len(vk_ids):
        raise RuntimeError(f"enrolment failed: {active} of {len(vk_ids)} people active")


def rate(records: list[tuple[int, float, float, str]]) -> float:
    """Messages answered per second, from the first send to the last answer."""
    if len(records) < 2:
        return 0.0
    return len(records) / (max(at for _u, _s, at, _t in records) - min(sent for _u, sent, _a, _t in records))


def clipped(spans: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


def one_run(
    sandbox: Sandbox, bot: Bot, people: tuple[list[int], list[int]], poison: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    bystanders, poisoners = people
    apology = bot.texts("errors.internal", error_id="")
    time.sleep(1.1)  # an empty limiter window, as after a quiet second
    counts = Counter(RETRIES.counts)
    result = sandbox.ask(
        "drive",
        bystanders,
        poisoners if poison else [],
        poison,
        {"spread": args.spread, "lead": args.lead, "pause": args.pause, "timeout": 120.0},
        timeout=600,
    )
    counts = RETRIES.counts - counts
    records, poisoned = result["records"], result["poisoned"]
    problems = []
    if result["unanswered"] or len(records) != len(bystanders):
        problems.append(f"{len(records)} of {len(bystanders)} bystanders answered")
    problems += [f"{user}: {text!r}" for user, _s, _a, text in records if text != ASK_NAME][:3]
    problems += [f"{user}: {text!r}" for user, _s, _a, text in poisoned if not text.startswith(apology)][:3]
    if result["extra"]:
        problems.append(f"unexpected messages: {result['extra'][:5]}")
    if poison and not poisoned:
        problems.append("no poisoned event was answered")
    if problems:
        raise RuntimeError("; ".join(problems))
    latencies = [at - sent for _u, sent, at, _t in records]
    first, last = min(sent for _u, sent, _a, _t in records), max(at for _u, _s, at, _t in records)
    held = HOLDS.of(set(poisoners)) if poison else []
    held_times = [sum(end - start for start, end in spans) for spans, _tries in held]
    runs = sum(tries for _spans, tries in held)
    return {
        "bystanders": len(records),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "poisoned": len(poisoned),
        "poison_rate": rate(poisoned),
        "apology_p50": percentile([at - sent for _u, sent, at, _t in poisoned], 0.5) if poisoned else None,
        "held_p50": percentile(held_times, 0.5) if held_times else None,
        "held_max": max(held_times) if held_times else None,
        "pool_share": clipped([span for spans, _t in held for span in spans], first, last)
        / (args.workers * (last - first)),
        "handler_runs": runs / len(held) if held else None,
        "transactions": (runs + counts["transaction"]) / len(held) if held else None,
        "once": sum(1 for _spans, tries in held if tries == 1),
        "kinds": {key.split(": ", 1)[1]: n for key, n in counts.items() if key.startswith("set aside: ")},
        "other_warnings": counts["other"],
    }


def bench_backend(label: str, url: str, sandbox: Sandbox, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Three runs against one bot on one database, each with people of its own."""
    size = args.bystanders + args.poisoners
    users = sandbox.ask("users", len(RUNS) * size)
    groups = [
        (users[i * size : i * size + args.bystanders], users[i * size + args.bystanders : (i + 1) * size])
        for i in range(len(RUNS))
    ]
    settings = Settings(
        vk={"token": sandbox.token, "group_id": sandbox.group_id, "api_url": sandbox.api_url},
        database={"url": url},
        flows=FLOWS,
        # Both backends' bots talk to one sandbox: a catch-up at the second start would rightly answer the last
        # «испорти» the first backend's people wrote after their final apology; not what this bench measures.
        engine={"workers": args.workers, "catch_up_hours": 0},
    )
    bot = Bot(settings)
    bot.start()
    rows = []
    try:
        enrol(bot.database, bot.community_id, users)
        for (name, poison), people in zip(RUNS, groups, strict=True):
            row = {"backend": label, "name": name, **one_run(sandbox, bot, people, poison, args)}
            print(run_line(row), flush=True)
            rows.append(row)
    finally:
        bot.stop()
    return rows


# --- report


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * MS:,.0f} ms"


def run_line(row: dict[str, Any]) -> str:
    return (
        f"{row['backend']} {row['name']}: bystanders p50 {ms(row['p50'])}, p99 {ms(row['p99'])}; "
        f"{row['poisoned']} poisoned events answered, each held a worker {ms(row['held_p50'])} (p50), "
        f"{ms(row['held_max'])} (max)"
    )


def report(rows: list[dict[str, Any]], args: argparse.Namespace, command: str, load: str) -> list[str]:
    lines = [
        f"Command: `{command}` (1-minute load average before the run: {load}; the benchmark keeps both cores busy, "
        "so other work on the machine skews its figures)",
        "",
        f"A real `Bot` (Long Poll, {args.workers} workers, one token) against the sandbox in its own process "
        f"enforcing {RPS} requests/s. Each run: {args.bystanders} bystanders each write «опрос» once, spread evenly "
        f"over {args.spread:g} s; in (b) and (c) {args.poisoners} people write the poisoned text from {args.lead:g} s "
        f"before, each again {args.pause:g} s after their apology arrived, until the last bystander is answered. "
        "Latency: a bystander's send issued -> «Как вас зовут?» in their conversation. «Held a worker»: the time "
        "a poisoned event's tries (`Dispatcher._handle_once`) took together, the waits between them excluded (an "
        "event waiting to be tried again holds no worker); «pool share»: those tries while the bystanders wrote, "
        f"over {args.workers} workers x that span; «tries»: per poisoned event, the handler's runs (the dispatcher "
        f"sets an event aside after {MAX_ATTEMPTS}) / the transactions begun (each run's `Database.transaction` "
        "tries an outage's error twice).",
        "",
        "| backend | run | p50 | p99 | max | p50 / (a) | p99 / (a) | poisoned events answered | apology after "
        "(p50) | held a worker: p50 / max | pool share | tries |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    baselines = {row["backend"]: row for row in rows if row["name"].startswith("(a)")}
    for row in rows:
        base = baselines[row["backend"]]
        tries = "–" if row["handler_runs"] is None else f"{row['handler_runs']:.1f} / {row['transactions']:.1f}"
        if 0 < row["once"] < row["poisoned"]:
            tries += f" ({row['once']} after one run)"
        answered = f"{row['poisoned']} ({row['poison_rate']:.1f}/s)" if row["poisoned"] else "–"
        lines.append(
            f"| {row['backend']} | {row['name']} | {ms(row['p50'])} | {ms(row['p99'])} | {ms(row['max'])} | "
            f"{row['p50'] / base['p50']:.2f}x | {row['p99'] / base['p99']:.2f}x | {answered} | "
            f"{ms(row['apology_p50'])} | {ms(row['held_p50'])} / {ms(row['held_max'])} | "
            f"{100 * row['pool_share']:.0f}% | {tries} |"
        )
    stuck = [row for row in rows if row["name"].startswith("(c)")]
    if stuck:
        lines += [
            "",
            "A «зависни» event held its worker "
            + "; ".join(f"{row['backend']} {ms(row['held_p50'])} (p50), {ms(row['held_max'])} (max)" for row in stuck)
            + f". The dispatcher waits between its {MAX_ATTEMPTS} tries (0.2 + 0.4 + 0.8 + 1.6 s, each ±20%) on a "
            "timer, with the worker back in the pool; only the tries themselves hold one.",
        ]
    lines += [
        "",
        "Set aside, by the error the handler saw: "
        + "; ".join(
            f"{row['backend']} {row['name'][:3]} "
            + ", ".join(f"{kind} {count}" for kind, count in sorted(row["kinds"].items()))
            for row in rows
            if row["kinds"]
        )
        + ".",
    ]
    if any(kind.startswith("sqlite3.") for row in rows for kind in row["kinds"]):
        lines[-1] += (
            " The `sqlite3` ones: the `stuck` flow opens a connection of its own and takes SQLite's write lock "
            "without waiting (tests/engine/sample_flows.py); when another worker was writing at that moment, that "
            "plain `sqlite3` error came first, the handler took it for the flow's own bug and set the event aside "
            "at that run (the first or a later one), so those held their worker for less than the full backoff."
        )
    warnings = sum(row["other_warnings"] for row in rows)
    if warnings:
        lines.append(f"Other warnings from the dispatcher, the handler and the database meanwhile: {warnings}.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bystanders", type=int, default=200, help="people writing «опрос» once per run")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the bystanders write")
    parser.add_argument("--poisoners", type=int, default=8, help="people sending the poisoned text in (b) and (c)")
    parser.add_argument("--lead", type=float, default=3.0, help="seconds of poisoning before the first bystander")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a poisoner waits after an apology")
    parser.add_argument("--workers", type=int, default=8, help="dispatcher workers (settings engine.workers)")
    parser.add_argument("--send-threads", type=int, default=8, help="threads sending the people's messages")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    HOLDS.install()
    RETRIES.install()
    load = Path("/proc/loadavg").read_text().split()[0]
    rows: list[dict[str, Any]] = []
    sandbox = Sandbox(args.send_threads)
    try:
        sandbox.community()
        with tempfile.TemporaryDirectory() as folder:
            rows += bench_backend("SQLite", f"sqlite:///{folder}/bot.db", sandbox, args)
        if not args.skip_postgres:
            url, drop = postgres_schema(args.postgres_url)
            try:
                rows += bench_backend("PostgreSQL", url, sandbox, args)
            finally:
                drop()
    finally:
        sandbox.close()
    command = " ".join([".venv/bin/python bench/poison.py", *map(shlex.quote, sys.argv[1:])])
    lines = report(rows, args, command, load)
    print()
    print("\n".join(lines))
    if RETRIES.unexpected:
        print("\nunexpected warnings (first 5): " + " | ".join(RETRIES.unexpected[:5]), file=sys.stderr)
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    else:
        record(SECTION, lines)


if __name__ == "__main__":
    main()
