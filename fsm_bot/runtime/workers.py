"""`fsm-bot run --workers N`: N bot processes behind one port, kept running.

The supervisor binds the callback port once and starts N children (`fsm-bot run --listen-fd`)
that inherit the listening socket; the kernel hands each new connection to one of them. Each
child is a whole bot (fsm_bot.runtime.service): it stores the updates it receives, claims events and
outbox rows in the database, and one of them at a time runs the scheduler. A child that dies is
started again (after a pause if it died young, so a broken setting does not spin), except one that exits 2
(settings) or 3 (VK refused the key): then every child is stopped and the supervisor exits with that code, as
starting it again would fail the same way. (`fsm-bot run` checks the key and the community before it starts
any child, so a key revoked before the start ends in one line.) SIGINT or
SIGTERM is passed on to every child, which finish what they have in hand and exit.

The supervisor is the piece a systemd unit or a Procfile line runs; it holds no state, so
running the children as separate units (each with `engine.processes` set) works the same way.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from fsm_bot.config import ConfigError, Settings
from fsm_bot.storage.db import normalize_url

log = logging.getLogger(__name__)

EXIT_CONFIG = 2  # a child that cannot start for its settings: starting it again would not help
EXIT_NOT_READY = 3  # VK refused the key, or the community lacks a setting: the same for every child
YOUNG_SECONDS = 5.0  # a child that dies sooner than this waits before its restart
RESTART_PAUSE = 2.0
STOP_GRACE_SECONDS = 60.0
BACKLOG = 2048


@dataclass
class Child:
    index: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


def check_can_scale(settings: Settings, workers: int) -> None:
    """Several processes need what they can share: VK pushing to one port, and PostgreSQL."""
    if workers < 2:
        return
    if settings.vk.mode != "callback":
        raise ConfigError(
            "--workers needs vk.mode: callback (VK pushes each event to one of the processes; "
            "a Long Poll stream cannot be shared)"
        )
    if not normalize_url(settings.database.url).startswith("postgresql"):
        raise ConfigError("--workers needs database.url on PostgreSQL (SQLite has one writer: use one process)")


def listening_socket(host: str, port: int) -> socket.socket:
    """The callback port, bound once here and inherited by every child."""
    sock = socket.create_server((host, port), backlog=BACKLOG)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, workers: int, config_path: str | None, log_json: bool, sock: socket.socket) -> None:
        self.workers = workers
        self.config_path = config_path
        self.log_json = log_json
        self.sock = sock
        self.children: dict[int, Child] = {}
        self.stop_requested = threading.Event()

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "fsm_bot", "run", "--listen-fd", str(self.sock.fileno())]
        if self.config_path is not None:
            command += ["--config", self.config_path]
        if self.log_json:
            command.append("--log-json")
        return command

    def spawn(self, index: int) -> Child:
        env = dict(os.environ)
        env["FSM_BOT_ENGINE__PROCESSES"] = str(self.workers)  # each paces its tokens at 1/N of the limit
        process = subprocess.Popen(self.command(), env=env, pass_fds=(self.sock.fileno(),))
        log.info("worker %d started (pid %d)", index, process.pid)
        child = Child(index, process)
        self.children[index] = child
        return child

    def run(self) -> int:
        """Start the children and keep them running until asked to stop; the exit code to return."""
        for index in range(self.workers):
            self.spawn(index)
        code = 0
        while not self.stop_requested.wait(0.2):
            for child in list(self.children.values()):
                returned = child.process.poll()
                if returned is None:
                    continue
                if returned in (EXIT_CONFIG, EXIT_NOT_READY):
                    # the child has said why on stderr, in one line; every other child would say the same
                    log.debug("worker %d exited with %d; stopping every worker", child.index, returned)
                    code = returned
                    self.stop_requested.set()
                    break
                young = time.monotonic() - child.started < YOUNG_SECONDS
                log.warning(
                    "worker %d (pid %d) exited with %d; starting it again", child.index, child.process.pid, returned
                )
                if young and self.stop_requested.wait(RESTART_PAUSE):
                    break
                self.spawn(child.index)
        self.stop_children()
        return code

    def stop_children(self) -> None:
        for child in self.children.values():
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children.values():
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not stop in time; killing it", child.index)
                child.process.kill()
                child.process.wait()


def run_workers(settings: Settings, workers: int, config_path: str | None, log_json: bool) -> int:
    check_can_scale(settings, workers)
    callback = settings.vk.callback
    try:
        sock = listening_socket(callback.host, callback.port)
    except OSError as error:
        raise ConfigError(f"vk.callback: cannot listen on {callback.host}:{callback.port} ({error.strerror})") from None
    supervisor = Supervisor(workers, config_path, log_json, sock)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: supervisor.stop_requested.set())
    log.info("%d workers behind http://%s:%d%s", workers, callback.host, callback.port, callback.path)
    try:
        return supervisor.run()
    finally:
        sock.close()
