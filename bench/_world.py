"""The sandbox in a process of its own, driven by a benchmark over a pipe.

In one process the sandbox and the bot would share one GIL and each slow the other; every
benchmark that measures the bot end to end (engine.py, broadcast.py, poison.py, ...) runs it apart. The parent
side is `World`; the child runs `serve_sandbox` with its own command handlers (`serve_commands` beneath it).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from fsm_bot.sandbox import SandboxServer
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.sandbox.mailbox import Mailbox

Commands = dict[str, Callable[..., Any]]


def stamp_bot_answers() -> queue.SimpleQueue[tuple[int, float, str]]:
    """Child side: a queue that gets (peer_id, monotonic time, text) the moment each bot message lands.

    Patches `Mailbox.add` for the whole process, so stamp before the sandbox serves. The stamp is taken in the
    sandbox, with the system-wide monotonic clock, so latency ends where a person would see the answer and not
    where a later poll of the control API would notice it."""
    answers: queue.SimpleQueue[tuple[int, float, str]] = queue.SimpleQueue()
    original_add = Mailbox.add

    def stamped_add(self, peer_id, from_id, **fields):  # type: ignore[no-untyped-def]
        message = original_add(self, peer_id, from_id, **fields)
        if message.from_bot:
            answers.put((peer_id, time.monotonic(), message.text))
        return message

    Mailbox.add = stamped_add  # type: ignore[method-assign]
    return answers


def add_users_directly(server: SandboxServer, count: int) -> list[int]:
    """Child side: `count` users «Студент<i> Бенчмарков» written straight into the sandbox's state, not over HTTP:
    the server is idle between runs, and 10,000 POSTs take long."""
    directory = server.sandbox.directory
    return [directory.add_user(f"Студент{i}", "Бенчмарков").id for i in range(count)]


def serve_sandbox(
    conn: Connection, rps_limit: int | None, commands: Callable[[SandboxServer, SandboxClient], Commands]
) -> None:
    """Child side: start the sandbox, answer the benchmark's commands over `conn`, and stop it whatever happens.

    `commands` gets the started server and a client on it and returns the handlers by name; each is called with
    the command's arguments. "stats" (the sandbox's counters) is built in, as every benchmark reads it; an
    unknown name is an error the parent's `ask` raises."""
    server = SandboxServer(port=0, demo=False, rps_limit=rps_limit)
    url = server.start()
    try:
        client = SandboxClient(url)
        handlers: Commands = {"stats": client.stats, **commands(server, client)}

        def handle(name: str, args: tuple) -> Any:
            if name not in handlers:
                raise ValueError(f"unknown command {name!r}")
            return handlers[name](*args)

        serve_commands(conn, url, handle)
    finally:
        server.stop()


def serve_commands(conn: Connection, url: str, handle: Callable[[str, tuple], Any]) -> None:
    """Child side: announce the sandbox's URL, then answer (name, args) commands until None arrives."""
    conn.send(("ok", url))
    while (command := conn.recv()) is not None:
        name, args = command
        try:
            conn.send(("ok", handle(name, args)))
        except Exception:
            conn.send(("error", traceback.format_exc()))


class World:
    """Parent side: the sandbox process, its URL, and `ask` for its commands."""

    def __init__(self, target: Callable[..., None], *args: Any, ask_timeout: float = 120) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        self.ask_timeout = ask_timeout
        self.url: str = self._answer(60)

    def _answer(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            raise RuntimeError("the sandbox process did not answer")
        status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"the sandbox process failed:\n{value}")
        return value

    def ask(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        self.conn.send((name, args))
        return self._answer(timeout or self.ask_timeout)

    def community(self) -> None:
        """Read the sandbox's community: the group id, a token and the API URL the bot is given."""
        from fsm_bot.sandbox.client import SandboxClient

        community = SandboxClient(self.url).community()
        self.group_id: int = community["group_id"]
        self.token: str = community["tokens"][0]
        self.api_url: str = community["api_url"]

    def fresh(self, users: int) -> list[int]:
        """Forget everything (stats, messages, the rate window) and create `users` users who allow messages;
        the sandbox process must answer the commands "reset" and "users"."""
        self.ask("reset")
        return self.ask("users", users)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(15)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
