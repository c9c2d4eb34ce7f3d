"""Callback push over several connections at once (``connections``, ``keep_alive``), to a slow real HTTP receiver.

The receiver notes the client port (so the TCP connection) of every POST and how many POSTs it is answering at
the same moment, which is what a bot with several worker processes on one listening socket would see.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

ANSWER_DELAY = 0.05  # each update is answered this late, so that lanes overlap


@dataclass
class Arrival:
    body: dict[str, Any]
    headers: dict[str, str]
    port: int  # the sandbox's side of the TCP connection


@dataclass
class SlowReceiver:
    """A bot stand-in answering every POST after :data:`ANSWER_DELAY`; ``answer(body, retry)`` decides the reply."""

    url: str = ""
    code: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    answer: Callable[[dict[str, Any], str | None], tuple[int, str]] | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def reply(self, body: dict[str, Any], retry: str | None) -> tuple[int, str]:
        if body["type"] == "confirmation":
            return 200, self.code
        return self.answer(body, retry) if self.answer else (200, "ok")

    def wait_for_updates(self, count: int, timeout: float = 15.0) -> list[Arrival]:
        """The updates once ``count`` arrived and none is still being answered."""
        with self.changed:
            done = self.changed.wait_for(lambda: len(self._updates()) >= count and self.in_flight == 0, timeout)
            if not done:
                raise TimeoutError(f"the receiver got {len(self._updates())} of {count} updates")
            return self._updates()

    def _updates(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.body["type"] != "confirmation"]


def _handler(state: SlowReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive unless the client says Connection: close

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with state.changed:
                state.arrivals.append(Arrival(body, dict(self.headers), self.client_address[1]))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            time.sleep(ANSWER_DELAY)
            status, text = state.reply(body, self.headers.get("X-Retry-Counter"))
            with state.changed:  # before answering: the next update of this lane cannot overlap this one
                state.in_flight -= 1
                state.changed.notify_all()
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def slow_receiver(api, sandbox) -> Iterator[SlowReceiver]:
    state = SlowReceiver(code=api.groups.getCallbackConfirmationCode(group_id=sandbox.group_id)["code"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    sandbox.set_callback(None)  # stop pushing before the receiver goes away
    server.shutdown()
    server.server_close()


def _send_many(sandbox, count: int) -> list[str]:
    student = sandbox.add_user()["id"]
    return [sandbox.send(student, f"сообщение {i}")["event_id"] for i in range(count)]


def test_four_lanes_without_keep_alive_spread_updates_over_connections(sandbox, slow_receiver, eventually):
    sandbox.set_callback(slow_receiver.url, secret="s", connections=4, keep_alive=False)
    sent = _send_many(sandbox, 40)
    updates = slow_receiver.wait_for_updates(40)
    assert sorted(u.body["event_id"] for u in updates) == sorted(sent)  # each exactly once
    assert 1 < slow_receiver.max_in_flight <= 4
    assert len({u.port for u in updates}) > 1
    assert all(u.headers.get("Connection") == "close" for u in slow_receiver.arrivals)
    assert [a.body["type"] for a in slow_receiver.arrivals].count("confirmation") == 1
    assert slow_receiver.arrivals[0].body["type"] == "confirmation"
    callback = eventually(lambda: (c := sandbox.community()["callback"])["delivered"] == 40 and c)
    assert (callback["dropped"], callback["retries"]) == (0, 0)
    assert (callback["connections"], callback["keep_alive"]) == (4, False)


def test_the_default_is_one_update_at_a_time_in_order_on_one_connection(sandbox, slow_receiver, eventually):
    sandbox.set_callback(slow_receiver.url)
    sent = _send_many(sandbox, 15)
    updates = slow_receiver.wait_for_updates(15)
    assert [u.body["event_id"] for u in updates] == sent
    assert slow_receiver.max_in_flight == 1
    assert len({a.port for a in slow_receiver.arrivals}) == 1  # keep-alive: the handshake's connection too
    assert not any(a.headers.get("Connection") == "close" for a in slow_receiver.arrivals)
    callback = eventually(lambda: (c := sandbox.community()["callback"])["delivered"] == 15 and c)
    assert (callback["connections"], callback["keep_alive"]) == (1, True)


def test_a_refused_update_is_retried_with_its_counter_while_other_lanes_go_on(sandbox, slow_receiver, eventually):
    refused: list[str] = []

    def answer(body: dict[str, Any], retry: str | None) -> tuple[int, str]:
        if body["object"]["message"]["text"] == "сообщение 3" and retry is None:
            refused.append(body["event_id"])
            return 500, "busy"
        return 200, "ok"

    slow_receiver.answer = answer
    sandbox.set_callback(slow_receiver.url, connections=4)  # keep-alive lanes: at most 4 connections
    sent = _send_many(sandbox, 12)
    updates = slow_receiver.wait_for_updates(13)
    tries = [u for u in updates if u.body["event_id"] == refused[0]]
    assert [t.headers.get("X-Retry-Counter") for t in tries] == [None, "1"]
    assert sorted({u.body["event_id"] for u in updates}) == sorted(sent)
    assert slow_receiver.max_in_flight > 1 and len({a.port for a in slow_receiver.arrivals}) <= 4
    callback = eventually(lambda: (c := sandbox.community()["callback"])["delivered"] == 12 and c)
    assert (callback["dropped"], callback["retries"]) == (0, 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"connections": 0}, "connections must be from 1 to 16"),
        ({"connections": 17}, "connections must be from 1 to 16"),
        ({"connections": "4"}, "connections must be an integer"),
        ({"connections": 2.5}, "connections must be an integer"),
        ({"connections": True}, "connections must be an integer"),
        ({"keep_alive": "no"}, "keep_alive must be a boolean"),
        ({"keep_alive": 0}, "keep_alive must be a boolean"),
        ({"keep_alive": None}, "keep_alive must be a boolean"),
    ],
)
def test_bad_connection_settings_are_refused(sandbox, extra, message):
    body = {"url": "http://127.0.0.1:9/callback", **extra}
    answer = requests.post(f"{sandbox.url}/sandbox/callback", json=body, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"] == message
    assert sandbox.community()["callback"] is None  # nothing was configured
