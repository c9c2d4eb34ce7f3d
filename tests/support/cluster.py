"""`fsm-bot run --workers N` as a deployment runs it, for tests and bench/scale.py.

The supervisor and its workers are real processes on one callback port, on the real PostgreSQL
server; the sandbox pushes VK's updates to that port like VK's Callback API. The log (one file
for all processes) says which worker has which pid and which one runs the scheduler.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from fsm_bot.sandbox.callback import CONFIRMATION_CODE
from fsm_bot.sandbox.client import SandboxClient
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scale-test-secret"
WORKER_STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)")
LEADER = re.compile(r"process (\d+) runs the scheduler")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """The supervisor of `workers` bot processes; `start`, `kill_worker`, `leader_pid`, `stop`."""

    def __init__(
        self,
        sandbox: SandboxClient,
        database_url: str,
        folder: Path,
        workers: int,
        flows: list[str] | None = None,
        engine: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        vk: dict[str, Any] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/callback"
        self.log = folder / "workers.log"
        self.config = folder / "settings.yaml"
        community = sandbox.community()
        settings: dict[str, Any] = {
            "vk": {
                "tokens": community["tokens"],
                "group_id": community["group_id"],
                "api_url": community["api_url"],
                "mode": "callback",
                "callback": {
                    "host": "127.0.0.1",
                    "port": self.port,
                    "secret": SECRET,
                    "confirmation": CONFIRMATION_CODE,
                },
                **(vk or {}),
            },
            "database": {"url": database_url},
            "stream": {"auto_approve": True, "community_group": False},
            "engine": {"lease_seconds": 3, "leader_check_seconds": 0.5, "sweep_seconds": 1, **(engine or {})},
            **(extra or {}),
        }
        if flows is not None:
            settings["flows"] = flows
        self.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, connections: int = 8) -> None:
        """Start the supervisor, wait for every worker, point the sandbox's push at the port."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("FSM_BOT_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fsm_bot", "run", "--config", str(self.config), "--workers", str(self.workers)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        wait_until(lambda: self.text().count("is running") >= self.workers, 60, "every worker to start")
        self.sandbox.set_callback(self.url, SECRET, connections=connections, keep_alive=False)
        wait_until(lambda: self.sandbox.community()["callback"]["status"] == "ok", 20, "the callback confirmation")

    def text(self) -> str:
        assert self.process is None or self.process.poll() is None, self.log.read_text(encoding="utf-8")[-3000:]
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def worker_pids(self) -> dict[int, int]:
        """Worker index -> pid of its latest start."""
        return {int(index): int(pid) for index, pid in WORKER_STARTED.findall(self.text())}

    def leader_pid(self) -> int | None:
        found = LEADER.findall(self.text())
        return int(found[-1]) if found else None

    def kill(self, pid: int) -> None:
        """kill -9 one worker; the supervisor starts another in its place."""
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> int | None:
        self.sandbox.set_callback(None)
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            for pid in self.worker_pids().values():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return None
