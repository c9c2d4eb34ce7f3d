"""Fixtures for the sandbox's own tests: the exported ones plus a few helpers for talking VK to it."""

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

from fsm_bot.sandbox.fixtures import vk_api_for


@pytest.fixture
def api(sandbox_vk):
    """``vk.get_api()``: ``api.messages.send(...)``."""
    return sandbox_vk.get_api()


@pytest.fixture
def raw(sandbox):
    """Call a method over plain HTTP and get the whole JSON answer (``{"response"}`` or ``{"error"}``)."""
    session = requests.Session()

    def call(method: str, token: str | None = "default", http_method: str = "POST", **params: Any) -> dict:
        if token == "default":
            token = sandbox.token
        if token is not None:
            params["access_token"] = token
        params.setdefault("v", "5.199")
        if http_method == "GET":
            return session.get(f"{sandbox.api_url}{method}", params=params, timeout=10).json()
        return session.post(f"{sandbox.api_url}{method}", data=params, timeout=10).json()

    return call


@pytest.fixture
def vk_for(sandbox):
    """A ``VkApi`` for another token of the community."""
    return lambda token: vk_api_for(sandbox, token)


def _eventually(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not become true")
        time.sleep(0.01)
    return value


@pytest.fixture
def eventually():
    """``eventually(predicate)``: poll until it is truthy (state that changes in the background)."""
    return _eventually


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class CallbackReceiver:
    """A tiny HTTP endpoint standing in for a bot in callback mode; ``answer(body)`` decides each reply."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], tuple[int, str]] = lambda body: (200, "ok")
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: predicate(self.received), timeout):
                raise TimeoutError(f"callback receiver got only {[r.body.get('type') for r in self.received]}")
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    state = CallbackReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            with state.arrived:  # recorded before answering, so the order is the order of arrival
                state.received.append(Received(body, dict(self.headers)))
                state.arrived.notify_all()
            status, text = state.answer(body)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def longpoll(sandbox, raw):
    """A raw long poll client: ``poll(wait=0)`` returns the JSON and advances ``ts`` on success."""

    class Poller:
        def __init__(self) -> None:
            server = raw("groups.getLongPollServer", group_id=sandbox.group_id)["response"]
            self.key, self.server, self.ts = server["key"], server["server"], server["ts"]
            self.http = requests.Session()

        def poll(self, wait: int = 0, **overrides: Any) -> dict[str, Any]:
            params = {"act": "a_check", "key": self.key, "ts": self.ts, "wait": wait, **overrides}
            answer = self.http.get(self.server, params=params, timeout=wait + 10).json()
            if "ts" in answer and "failed" not in answer:
                self.ts = answer["ts"]
            return answer

    return Poller()
