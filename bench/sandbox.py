"""The VK sandbox's own speed: simple method calls per second, and long poll event latency.

(a) calls/s: the sandbox runs as the CLI runs it (``serve()`` in its own process, rate limit off); several
    client threads, each with a keep-alive ``requests.Session``, call ``utils.getServerTime`` and then
    ``messages.send`` as fast as they can for a few seconds each.
(b) long poll latency: one long poll is held at the server; a user's message is posted through the control
    API (``POST /sandbox/users/{id}/send``), and the time until the held poll delivers the event is taken,
    once per event, 300 times. Measured both from the moment the send request is issued and from the moment
    it returns (the latter can be negative: the server publishes the event before it answers the send).

Client and server share this machine, so the figures are what a test suite on this machine would see.

    .venv/bin/python bench/sandbox.py [--threads 4] [--seconds 5] [--events 300]
        [--smoke (every size tiny, seconds: proves the bench still runs; records nothing)]
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import percentile, record

from fsm_bot.sandbox import SandboxClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen[bytes]:
    code = f"from fsm_bot.sandbox import serve; serve('127.0.0.1', {port}, demo=False, rps_limit=None)"
    process = subprocess.Popen([sys.executable, "-c", code])
    client = SandboxClient(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            client.stats()
            return process
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start") from None
            time.sleep(0.05)


def _client_process(api_url: str, token: str, method: str, params: dict, threads: int, window: tuple) -> int:
    """One client process: ``threads`` keep-alive sessions calling between the wall-clock ``window`` ends."""
    start_at, stop_at = window
    counts = [0] * threads

    def work(index: int) -> None:
        session = requests.Session()
        url = f"{api_url}{method}"
        data = {**params, "access_token": token, "v": "5.199", "random_id": 0}
        session.post(url, data=data).raise_for_status()  # connect before the clock starts
        time.sleep(max(0.0, start_at - time.time()))
        done = 0
        while time.time() < stop_at:
            answer = session.post(url, data=data).json()
            if "response" not in answer:
                raise RuntimeError(answer)
            done += 1
        counts[index] = done

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def calls_per_second(
    server_pid: int, api_url: str, token: str, method: str, params: dict, processes: int, threads: int, seconds: float
) -> tuple[float, float]:
    """Calls/s over ``processes`` x ``threads`` clients, and the server's CPU seconds per call."""
    window = (time.time() + 1.0, time.time() + 1.0 + seconds)
    with ProcessPoolExecutor(processes) as pool:
        jobs = [pool.submit(_client_process, api_url, token, method, params, threads, window) for _ in range(processes)]
        time.sleep(max(0.0, window[0] - time.time()))
        cpu_before = process_cpu_seconds(server_pid)
        total = sum(job.result() for job in jobs)
        cpu_after = process_cpu_seconds(server_pid)
    return total / seconds, (cpu_after - cpu_before) / max(total, 1)


def long_poll_latency(sandbox: SandboxClient, user_id: int, events: int) -> tuple[list[float], list[float]]:
    """Seconds from issuing / from the return of each send to the held poll's delivery."""
    api = requests.Session()
    server = api.post(
        f"{sandbox.api_url}groups.getLongPollServer", data={"group_id": sandbox.group_id, "access_token": sandbox.token}
    ).json()["response"]
    arrivals: queue.Queue[tuple[str, float]] = queue.Queue()
    held = threading.Event()
    finished = threading.Event()

    def poll() -> None:
        session = requests.Session()
        ts = server["ts"]
        while not finished.is_set():
            params = {"act": "a_check", "key": server["key"], "ts": ts, "wait": 25}
            held.set()
            try:
                answer = session.get(server["server"], params=params, timeout=35).json()
            except requests.RequestException:
                return  # the server is stopping
            now = time.perf_counter()
            ts = answer["ts"]
            for update in answer["updates"]:
                arrivals.put((update["event_id"], now))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    held.wait()
    control = requests.Session()
    from_issue, from_return = [], []
    for i in range(events):
        time.sleep(0.005)  # let the poller re-arm: the poll is held when the event comes
        issued = time.perf_counter()
        sent = control.post(f"{sandbox.url}/sandbox/users/{user_id}/send", json={"text": f"событие {i}"}).json()
        returned = time.perf_counter()
        event_id, arrived = arrivals.get(timeout=10)
        if event_id != sent["event_id"]:
            raise RuntimeError("events arrived out of order")
        from_issue.append(arrived - issued)
        from_return.append(arrived - returned)
    finished.set()
    control.post(f"{sandbox.url}/sandbox/users/{user_id}/send", json={"text": "конец"})  # releases the held poll
    poller.join(timeout=10)
    return from_issue, from_return


# --smoke: sizes that finish in seconds; the figures mean nothing, the run proves the bench works.
SMOKE = {"processes": 1, "threads": 2, "seconds": 0.5, "events": 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2, help="client processes (each with --threads)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (tests/test_benches.py); records nothing")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)

    port = free_port()
    process = start_server(port)
    try:
        sandbox = SandboxClient(f"http://127.0.0.1:{port}")
        user = sandbox.add_user("Бенч", "Маркова")["id"]
        token = sandbox.token
        rates = {}
        send = {"peer_id": user, "message": "Пара перенесена в 301"}
        for method, params in (("utils.getServerTime", {}), ("messages.send", send)):
            for processes in sorted({1, args.processes}):
                rates[method, processes] = calls_per_second(
                    process.pid, sandbox.api_url, token, method, params, processes, args.threads, args.seconds
                )
        from_issue, from_return = long_poll_latency(sandbox, user, args.events)
    finally:
        process.terminate()
        process.wait(timeout=20)

    ms = 1000.0
    lines = [
        "Server: `serve()` in its own process, rate limit off. Clients: processes of "
        f"{args.threads} threads with a keep-alive `requests.Session` each, on the same machine as the server.",
        "",
        "| measure | result | server CPU per call |",
        "|---|---|---|",
    ]
    for (method, processes), (rate, cpu) in rates.items():
        lines.append(
            f"| `{method}` calls/s, {processes} client process(es) x {args.threads} threads ({args.seconds:g} s) "
            f"| {rate:,.0f} | {cpu * 1e6:.0f} µs |"
        )
    lines += [
        f"| long poll latency from send issued, p50 / p99 ({args.events} events) | "
        f"{percentile(from_issue, 0.5) * ms:.2f} ms / {percentile(from_issue, 0.99) * ms:.2f} ms | |",
        f"| long poll latency from send returned, p50 / p99 | "
        f"{percentile(from_return, 0.5) * ms:.2f} ms / {percentile(from_return, 0.99) * ms:.2f} ms | |",
        "",
        "One client process is bound by `requests` itself (one GIL); the server's CPU per call shows what the",
        "sandbox would do with the machine to itself.",
    ]
    print("\n".join(lines))
    if args.smoke:
        print("\n(smoke run: not recorded in bench/RESULTS.md)")
    else:
        record("VK sandbox: calls per second and long poll latency (bench/sandbox.py)", lines)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
