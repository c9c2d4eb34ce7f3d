"""Catch-up over 1,000 conversations: what it costs, and what it does to live events meanwhile.

1,000 students wrote «помощь» before the bot's first start; the bot starts on an empty database and reads them
back from VK (fsm_bot/vk/catch_up.py: getConversations, getHistory in execute x25, markAsRead). While it
does, other students write «помощь» one at a time (a probe every --interval seconds) and the time from
their message to the bot's answer is measured; then the same probes run again with no catch-up going on.
The sandbox runs in a process of its own (VK's 20 requests/s enforced) and timestamps answers there.

    .venv/bin/python bench/catch_up.py [--conversations 1000] [--probes 20] [--interval 0.5]
        [--smoke (tiny: proves the bench still runs; records nothing)]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import percentile, record
from _world import Commands, World, serve_sandbox, stamp_bot_answers

from fsm_bot.config import Settings
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.repositories import CommunityRepository, MemberProfile, MemberRepository

GROUP = "ИВТ-101"


def world_main(conn, rps_limit: int) -> None:  # type: ignore[no-untyped-def]
    """The sandbox and the students; answers "setup", "probe" and "answers" over `conn`."""
    logging.basicConfig(level=logging.WARNING)
    answers = stamp_bot_answers()

    def commands(_server: SandboxServer, client: SandboxClient) -> Commands:
        def setup(backlog: int, probes: int) -> tuple[list[int], list[int]]:
            written = [client.add_user(f"Студент{i}", "Давний")["id"] for i in range(backlog)]
            for user in written:
                client.send(user, "помощь")
            return written, [client.add_user(f"Студент{i}", "Живой")["id"] for i in range(probes)]

        def probe(user: int) -> float:
            """One live «помощь» and the seconds until the bot's answer reached the student."""
            while not answers.empty():
                answers.get_nowait()
            sent_at = time.monotonic()
            client.send(user, "помощь")
            deadline = sent_at + 60
            while True:
                peer, at, _text = answers.get(timeout=max(0.01, deadline - time.monotonic()))
                if peer == user:
                    return at - sent_at

        def bot_answers(users: list[int]) -> list[int]:
            return [sum(1 for m in client.messages(user) if m["from"] == "bot") for user in users]

        return {"setup": setup, "probe": probe, "answers": bot_answers}

    serve_sandbox(conn, rps_limit, commands)


def enrol_all(database_url: str, community_id: int, people: list[int]) -> None:
    """Every student an approved member of the group, as onboarding would leave them."""
    database = Database(database_url)
    upgrade_to_head(database.engine)

    def write(session) -> None:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(community_id)
        group = CommunityRepository(session).study_group(community_id, GROUP)
        members = MemberRepository(session, community_id)
        members.upsert_profiles([MemberProfile(person, "Студент", str(person)) for person in people])
        for person in people:
            members.assign_group(person, group.id, None)
            member = members.get(person)
            assert member is not None
            member.status, member.can_receive = "active", True

    database.transaction(write)
    database.dispose()


def probe_series(world: World, probes: list[int], interval: float, until: Any = None) -> list[float]:
    """Probes one after another (cycling through `probes`); with `until`, as long as it says False."""
    latencies: list[float] = []
    index = 0
    while (until is None and index < len(probes)) or (until is not None and not until()):
        latencies.append(world.ask("probe", probes[index % len(probes)]))
        index += 1
        time.sleep(interval)
    return latencies


def run(args: argparse.Namespace, folder: str) -> dict[str, Any]:
    world = World(world_main, 20, ask_timeout=600)
    try:
        world.community()
        backlog, probes = world.ask("setup", args.conversations, args.probes)
        database_url = f"sqlite:///{folder}/catch_up.db"
        enrol_all(database_url, world.group_id, backlog + probes)
        settings = Settings(
            vk={"token": world.token, "group_id": world.group_id, "api_url": world.api_url},
            database={"url": database_url},
            engine={"workers": 8},
            stream={"community_group": False},
        )
        bot = Bot(settings)
        started = time.monotonic()
        bot.start()  # the first start: the catch-up begins at once, in its own thread
        catch_up = bot.catch_up
        assert catch_up is not None
        busy = probe_series(
            world, probes, args.interval, until=lambda: catch_up.last is not None and catch_up.idle.is_set()
        )
        caught_up = time.monotonic() - started
        deadline = time.monotonic() + 300
        while min(world.ask("answers", backlog)) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the backlog was not answered within 300 s")
            time.sleep(0.5)
        answered = time.monotonic() - started
        quiet = probe_series(world, probes, args.interval)
        counts = world.ask("answers", backlog)
        stats = world.ask("stats")
        report = catch_up.last
        bot.stop()
    finally:
        world.close()
    assert report is not None
    return {
        "busy": busy,
        "quiet": quiet,
        "caught_up": caught_up,
        "answered": answered,
        "once": sum(1 for n in counts if n == 1),
        "twice": sum(1 for n in counts if n > 1),
        "report": report,
        "refused": stats["rate_limited"],
    }


SMOKE = {"conversations": 30, "probes": 3, "interval": 0.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between live probes")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        result = run(args, folder)

    busy, quiet, report = result["busy"], result["quiet"], result["report"]
    busy = busy or [float("nan")]

    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:.0f} ms"

    ratio = percentile(busy, 0.5) / percentile(quiet, 0.5)
    lines = [
        f"Command: `.venv/bin/python bench/catch_up.py --conversations {args.conversations} --probes {args.probes} "
        f"--interval {args.interval}`",
        "",
        f"{args.conversations} students wrote «помощь» before the first start; the bot (SQLite, 8 workers, one token, "
        "VK's 20 requests/s enforced by the sandbox) reads them back at its share of 4 requests/s, offering 10 "
        "messages at a time while at most 8 events wait, while live students write «помощь» one at a time, "
        f"every {args.interval} s.",
        "",
        "| live «помощь» → answer | probes | p50 | p95 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| during the catch-up | {len(result['busy'])} | {ms(busy, 0.5)} | {ms(busy, 0.95)} | {ms(busy, 1.0)} |",
        f"| without a catch-up | {len(quiet)} | {ms(quiet, 0.5)} | {ms(quiet, 0.95)} | {ms(quiet, 1.0)} |",
        "",
        f"**Live latency during / without the catch-up (p50): {ratio:.2f}x**; "
        f"p95 {percentile(busy, 0.95) / percentile(quiet, 0.95):.2f}x.",
        "",
        f"| catch-up | {args.conversations} conversations |",
        "| --- | ---: |",
        f"| conversations read | {report.conversations} |",
        f"| messages offered to the inbox | {report.offered} |",
        f"| conversations marked read | {report.marked_read} |",
        f"| VK requests it made (execute x25 counts 1) | {report.requests} |",
        f"| read back (catch-up idle) after start | {result['caught_up']:.1f} s |",
        f"| every one answered after start | {result['answered']:.1f} s |",
        f"| answered exactly once / more than once | {result['once']} / {result['twice']} |",
        f"| requests refused by VK (error 6) | {result['refused']} |",
    ]
    print("\n".join(lines))
    if result["once"] != args.conversations or result["twice"]:
        raise SystemExit(f"not every student was answered exactly once: {result['once']}, twice {result['twice']}")
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    else:
        record("Catch-up: 1,000 conversations read back (bench/catch_up.py)", lines)


if __name__ == "__main__":
    main()
