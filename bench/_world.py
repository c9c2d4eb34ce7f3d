"""The sandbox in a process of its own, driven by a benchmark over a pipe.

In one process the sandbox and the bot would share one GIL and each slow the other; both
benchmarks that measure the bot end to end (engine.py, broadcast.py) run it apart. The parent
side is `World`; the child runs `serve_commands` with its own command handler.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


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
