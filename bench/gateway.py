"""Reply throughput: 500 people each owed a reply, one token, VK's 20 requests/s enforced by the sandbox.

The physical limit is 500 replies/s per token (20 requests x 25 messages.send per execute).
Three ways of sending are measured in the same run, against the same sandbox:
- the gateway: the reply outbox and the Sender (execute batches, peer_ids, per-token limiter);
- naive at 20/s: one messages.send per reply, paced to the limit (the best one call per reply can do);
- vk_api default: one messages.send per reply through a plain VkApi, as vk_api's examples do
  (its built-in 0.34 s pause between calls, sized for user tokens), on a smaller sample.

Latency is measured from the moment all replies are owed (a burst) to each reply's delivery.

    .venv/bin/python bench/gateway.py [--replies 500] [--naive-sample 60] [--sustained 5000]
        [--smoke (every size tiny, seconds: proves the bench still runs; records nothing)]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vk_api
from _results import percentile, record

from fsm_bot.delivery.replies import ReplyQueue, queue_reply
from fsm_bot.delivery.sender import Delivery, Sender
from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient, vk_session_for
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.repositories import CommunityRepository, OutboxRepository
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.messages import MessageContent

PHYSICAL_LIMIT = 500.0


def summary(name: str, latencies: list[float], elapsed: float) -> dict[str, float | str]:
    return {
        "name": name,
        "replies": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
    }


def make_users(sandbox: SandboxClient, count: int) -> list[int]:
    return [sandbox.add_user(f"Студент{i}", "Бенчмарков")["id"] for i in range(count)]


def bench_gateway(sandbox: SandboxClient, database_url: str, count: int) -> dict[str, float | str]:
    sandbox.reset(rps_limit=20)
    users = make_users(sandbox, count)
    database = Database(database_url)
    upgrade_to_head(database.engine)
    database.transaction(lambda session: CommunityRepository(session).ensure(sandbox.group_id))
    delivered_at: dict[int, float] = {}
    done = threading.Event()

    def on_delivery(deliveries: list[Delivery]) -> None:
        now = time.perf_counter()
        for delivery in deliveries:
            delivered_at[delivery.peer_id] = now
        if len(delivered_at) >= count:
            done.set()

    client = VkClient([sandbox.token], sandbox.api_url)
    sender = Sender(database, client, [ReplyQueue(sandbox.group_id)], on_delivery=on_delivery)
    sender.start()
    time.sleep(1.1)  # let the limiter's window empty after start-up calls
    start = time.perf_counter()

    def queue_all(session) -> None:  # type: ignore[no-untyped-def]
        outbox = OutboxRepository(session, sandbox.group_id)
        for user in users:
            queue_reply(session, sandbox.group_id, user, MessageContent(f"Ответ для {user}"), outbox)

    database.transaction(queue_all)
    queued = time.perf_counter() - start
    sender.wake()
    if not done.wait(120):
        raise RuntimeError(f"only {len(delivered_at)} of {count} replies were delivered")
    elapsed = max(delivered_at.values()) - start
    sender.stop()
    stats = sandbox.stats()
    assert stats["delivered"] == count, stats
    result = summary("gateway (outbox, execute x25, limiter)", [t - start for t in delivered_at.values()], elapsed)
    result["requests"] = stats["requests"]
    result["rate_limited"] = stats["rate_limited"]
    result["queued_in"] = queued
    database.dispose()
    return result


def bench_naive(sandbox: SandboxClient, count: int, rps_delay: float, name: str) -> dict[str, float | str]:
    sandbox.reset(rps_limit=20)
    users = make_users(sandbox, count)
    vk = vk_api.VkApi(token=sandbox.token, session=vk_session_for(sandbox), api_version="5.199")
    vk.RPS_DELAY = rps_delay
    limiter = RateLimiter(20) if rps_delay == 0 else None
    time.sleep(1.1)
    start = time.perf_counter()
    latencies = []
    for index, user in enumerate(users):
        if limiter is not None:
            limiter.acquire()
        vk.method("messages.send", {"peer_id": user, "message": f"Ответ для {user}", "random_id": index + 1})
        latencies.append(time.perf_counter() - start)
    elapsed = latencies[-1]
    stats = sandbox.stats()
    assert stats["delivered"] == count, stats
    result = summary(name, latencies, elapsed)
    result["requests"] = stats["requests"]
    result["rate_limited"] = stats["rate_limited"]
    return result


# --smoke: sizes that finish in seconds; the figures mean nothing, the run proves the bench works.
SMOKE = {"replies": 30, "naive_sample": 3, "sustained": 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--naive-sample", type=int, default=60, help="replies for the slow vk_api-default run")
    parser.add_argument(
        "--sustained", type=int, default=5000, help="users for the sustained run (the first second is a burst)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)

    with SandboxServer(port=0, demo=False) as server, tempfile.TemporaryDirectory() as folder:
        sandbox = SandboxClient(server.url)
        sustained = bench_gateway(sandbox, f"sqlite:///{folder}/sustained.db", args.sustained)
        sustained["name"] = f"gateway, sustained: {args.sustained} users"
        results = [
            bench_gateway(sandbox, f"sqlite:///{folder}/bench.db", args.replies),
            bench_naive(sandbox, args.replies, 0, "naive: one messages.send per reply, paced to 20/s"),
            bench_naive(sandbox, args.naive_sample, 0.34, "vk_api default: one send per reply, RPS_DELAY 0.34 s"),
        ]

    gateway = results[0]
    results.insert(1, sustained)
    lines = [
        f"Command: `.venv/bin/python bench/gateway.py --replies {args.replies} --naive-sample {args.naive_sample} "
        f"--sustained {args.sustained}`",
        "",
        f"{args.replies} distinct users each owed one reply at once; one token; the sandbox enforces 20 requests/s.",
        f"Physical limit: {PHYSICAL_LIMIT:.0f} replies/s (20 requests x 25 calls per execute).",
        "",
        "| sender | replies | replies/s | % of limit | p50 latency | p99 latency | requests | refused (6) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result['name']} | {result['replies']} | {result['rate']:.1f} | "
            f"{100 * float(result['rate']) / PHYSICAL_LIMIT:.1f}% | {float(result['p50']) * 1000:.0f} ms | "
            f"{float(result['p99']) * 1000:.0f} ms | {result['requests']} | {result['rate_limited']} |"
        )
    naive, default = results[2], results[3]
    lines += [
        "",
        f"Queueing the replies (one transaction, before any is sent) took {float(gateway['queued_in']) * 1000:.0f} ms "
        f"for {args.replies} and {float(sustained['queued_in']) * 1000:.0f} ms for {args.sustained}; it is "
        "included in the rates and latencies above.",
        "VK counts requests per second, so the first 20 requests (500 replies) can all go within the first "
        "second: the 500-user run is a burst and beats the sustained limit. The sustained run shows the "
        f"steady rate: {100 * float(sustained['rate']) / PHYSICAL_LIMIT:.0f}% of the physical limit.",
        f"Gateway vs naive at 20/s, 500 users: {float(gateway['rate']) / float(naive['rate']):.0f}x the throughput "
        f"(sustained: {float(sustained['rate']) / float(naive['rate']):.0f}x); vs vk_api default: "
        f"{float(gateway['rate']) / float(default['rate']):.0f}x.",
    ]
    print("\n".join(lines))
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    else:
        record("Gateway: replies per second (bench/gateway.py)", lines)


if __name__ == "__main__":
    main()
