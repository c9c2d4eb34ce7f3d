"""The Callback API endpoint, served by uvicorn: the sandbox pushes to it as VK does; strangers are refused."""

from __future__ import annotations

import copy
import json
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette

from fsm_bot.engine.inbox import Inbox
from fsm_bot.sandbox import GROUP_ID
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.vk.callback import CallbackCommunity, callback_server, create_callback_app
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.transport import GatewayVkApi
from tests.support.vk import MESSAGE_NEW as ENVELOPE
from tests.support.vk import stored_events, stored_ids, wait_for_ids
from tests.support.waiting import wait_for

SECRET = "s3cr3t-from-the-community-settings"
CONFIRMATION = "a1b2c3d4"
LOGGER = "fsm_bot.vk.callback"

# VK_PROTOCOL.md, "Update envelope" (the one test_events.py checks field by field), as VK POSTs it.
MESSAGE_NEW: dict[str, Any] = {**ENVELOPE, "group_id": GROUP_ID, "secret": SECRET}


def envelope(**changes: Any) -> dict[str, Any]:
    update = copy.deepcopy(MESSAGE_NEW)
    update.update(changes)
    return {key: value for key, value in update.items() if value is not None}


@pytest.fixture
def serve() -> Iterator[Callable[[Starlette], str]]:
    """Serve an app with uvicorn on a free port in a background thread; returns its base URL."""
    servers: list[tuple[Any, threading.Thread]] = []

    def start(app: Starlette, **options: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = callback_server(app, "127.0.0.1", port, **options)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        wait_for(lambda: server.started, bool, "the callback server to start", timeout=10)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


class FailingSink:
    """The real inbox behind a database that fails the first `failures` inserts."""

    def __init__(self, inbox: Inbox, failures: int) -> None:
        self.inbox = inbox
        self.failures = failures

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("INSERT INTO processed_event ...", {}, ConnectionError("server closed"))
        self.inbox.accept(events, cursor)

    def resume_cursor(self) -> str | None:
        return None


@pytest.fixture
def endpoint(serve, database: Database) -> tuple[str, Inbox]:
    """The app for the sandbox community with a fixed secret and confirmation; (URL, inbox)."""
    inbox = Inbox(database, GROUP_ID)
    url = serve(create_callback_app([CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, inbox)]))
    return f"{url}/callback", inbox


def test_vk_confirms_the_server_then_every_update_is_stored_once(
    sandbox: SandboxClient, vk: GatewayVkApi, database: Database, serve
) -> None:
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    newcomer = sandbox.add_user("Пётр", "Иванов", member=False)["id"]
    # What a deployer copies from the community settings (or the bot asks VK for).
    code = vk.method("groups.getCallbackConfirmationCode", {"group_id": sandbox.group_id})["code"]
    community = CallbackCommunity(sandbox.group_id, SECRET, code, Inbox(database, sandbox.group_id))
    url = serve(create_callback_app([community], path="/vk/events")) + "/vk/events"

    assert sandbox.set_callback(url, SECRET) == code
    sent = [sandbox.send(student, f"сообщение {n}", payload={"n": n})["event_id"] for n in range(20)]
    sandbox.update_user(newcomer, member=True)

    rows = wait_for(lambda: stored_events(database, sandbox.group_id), lambda rows: len(rows) >= 21, "21 updates")
    ids = [event_id for event_id, _ in rows]
    assert ids[:20] == sent and len(ids) == len(set(ids)) == 21
    assert rows[20][1]["type"] == "group_join" and rows[20][1]["object"]["user_id"] == newcomer
    assert all("secret" not in stored for _, stored in rows), "the secret must not be stored with the envelope"
    assert rows[3][1]["object"]["message"]["payload"] == '{"n":3}'
    status = wait_for(lambda: sandbox.community()["callback"], lambda s: s["delivered"] == 21, "VK to see 21 ok")
    assert (status["status"], status["dropped"], status["retries"]) == ("ok", 0, 0)


def test_an_update_vk_could_not_store_is_retried_and_stored_once(
    sandbox: SandboxClient, vk: GatewayVkApi, database: Database, serve, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    student = sandbox.add_user()["id"]
    code = vk.method("groups.getCallbackConfirmationCode", {"group_id": sandbox.group_id})["code"]
    sink = FailingSink(Inbox(database, sandbox.group_id), failures=2)
    url = serve(create_callback_app([CallbackCommunity(sandbox.group_id, SECRET, code, sink)])) + "/callback"
    sandbox.set_callback(url, SECRET)

    sent = [sandbox.send(student, "первое")["event_id"], sandbox.send(student, "второе")["event_id"]]

    wait_for_ids(database, sandbox.group_id, sent)
    assert stored_ids(database, sandbox.group_id) == sent
    status = wait_for(lambda: sandbox.community()["callback"], lambda s: s["delivered"] == 2, "VK to see 2 ok")
    assert (status["retries"], status["dropped"]) == (2, 0)
    logged = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert sum("could not store" in line and "asking VK to retry" in line for line in logged) == 2
    assert sum(line.startswith("callback: retry ") for line in logged) == 2


def test_a_repeated_update_is_stored_once(endpoint: tuple[str, Inbox], database: Database) -> None:
    url, _ = endpoint
    with httpx.Client() as http:
        first = http.post(url, json=envelope())
        again = http.post(url, json=envelope(), headers={"X-Retry-Counter": "1"})  # or another worker got it
    assert (first.status_code, first.text, again.status_code, again.text) == (200, "ok", 200, "ok")
    assert stored_ids(database, GROUP_ID) == [MESSAGE_NEW["event_id"]]


def test_the_confirmation_request_gets_the_confirmation_string(endpoint: tuple[str, Inbox]) -> None:
    url, _ = endpoint
    with httpx.Client() as http:
        plain = http.post(url, json={"type": "confirmation", "group_id": GROUP_ID})
        with_secret = http.post(url, json={"type": "confirmation", "group_id": GROUP_ID, "secret": SECRET})
        wrong_secret = http.post(url, json={"type": "confirmation", "group_id": GROUP_ID, "secret": "guess"})
        other_group = http.post(url, json={"type": "confirmation", "group_id": 1})
    assert (plain.status_code, plain.text) == (200, CONFIRMATION)
    assert plain.headers["content-type"].startswith("text/plain")
    assert (with_secret.status_code, with_secret.text) == (200, CONFIRMATION)
    assert wrong_secret.status_code == 403 and CONFIRMATION not in wrong_secret.text
    assert other_group.status_code == 403 and CONFIRMATION not in other_group.text


def test_updates_without_the_right_secret_are_refused_and_not_stored(
    endpoint: tuple[str, Inbox], database: Database, caplog
) -> None:
    url, _ = endpoint
    with httpx.Client() as http:
        wrong = http.post(url, json=envelope(secret="a-guessed-secret"))
        missing = http.post(url, json=envelope(secret=None))
        not_a_string = http.post(url, json=envelope(secret=12345))
        unknown_group = http.post(url, json=envelope(group_id=1))
        fetched = http.get(url)
    assert [r.status_code for r in (wrong, missing, not_a_string, unknown_group)] == [403, 403, 403, 403]
    assert fetched.status_code == 405
    assert stored_ids(database, GROUP_ID) == []
    assert "wrong or missing secret" in caplog.text
    assert "a-guessed-secret" not in caplog.text and SECRET not in caplog.text


def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    endpoint: tuple[str, Inbox], database: Database, caplog
) -> None:
    url, _ = endpoint
    json_type = {"content-type": "application/json"}
    with httpx.Client() as http:
        answers = [
            http.post(url, content=b'{"type": "message_new", "group_id": ', headers=json_type),
            http.post(url, content=b"\xff\xfe not even text"),
            http.post(url, content=b""),
            http.post(url, json=[1, 2, 3]),
            http.post(url, json="ok"),
            http.post(url, content=b"[" * 100_000, headers=json_type),  # nested past json's recursion limit
            http.post(url, content=b'{"a":' * 50_000, headers=json_type),
        ]
    assert [(a.status_code, a.text) for a in answers] == [(400, "not a JSON object")] * len(answers)
    assert stored_ids(database, GROUP_ID) == []
    assert "not JSON" in caplog.text and "not an object" in caplog.text


def test_a_malformed_update_with_the_right_secret_is_answered_ok_and_not_stored(
    endpoint: tuple[str, Inbox], database: Database, caplog
) -> None:
    url, _ = endpoint
    with httpx.Client() as http:
        answers = [
            http.post(url, json=envelope(object=None)),  # message_new without its object
            http.post(url, json=envelope(event_id=None)),
            http.post(url, json=envelope(type="wall_post_new")),  # a type the bot does not handle
        ]
    assert [(a.status_code, a.text) for a in answers] == [(200, "ok")] * len(answers)
    assert stored_ids(database, GROUP_ID) == []
    assert "malformed update of type 'message_new'" in caplog.text


def nested(depth: int) -> bytes:
    """A JSON list nested `depth` deep: parses, but its repr (or a recursive walk) may not."""
    return b"[" * depth + b"]" * depth


def test_no_client_input_makes_the_endpoint_answer_500(endpoint: tuple[str, Inbox], database: Database) -> None:
    """500 means "storage unavailable, retry": a client must not be able to provoke it (nor a crash)."""
    url, _ = endpoint
    message = envelope()["object"]
    bodies: list[bytes] = [
        json.dumps({"type": "message_new", "group_id": digits, "secret": SECRET}).encode()
        for digits in ("²", "١٢", "12²", " 1", "1_0", "9" * 30, "-1")
    ]
    bodies += [
        json.dumps(envelope(secret="\ud800")).encode(),  # a lone surrogate, refused by plain UTF-8 encoding
        json.dumps(envelope(group_id=GROUP_ID, secret=SECRET, type="\udfff")).encode(),
        b'{"type": %s, "group_id": %d, "secret": "%s"}' % (nested(900), GROUP_ID, SECRET.encode()),
        b'{"type": %s, "group_id": 1}' % nested(900),
        b'{"type": "confirmation", "group_id": %d, "secret": %s}' % (GROUP_ID, nested(900)),
        json.dumps({**envelope(), "object": {**message, "message": {**message["message"], "peer_id": "²"}}}).encode(),
        json.dumps(envelope(group_id=str(GROUP_ID), event_id="1" * 64)).encode(),
    ]
    with httpx.Client() as http:
        answers = [http.post(url, content=body, headers={"content-type": "application/json"}) for body in bodies]
    statuses = [answer.status_code for answer in answers]
    assert 500 not in statuses and set(statuses) <= {200, 400, 403}, statuses
    assert statuses[:7] == [403] * 7  # not a group id this endpoint serves
    assert statuses[-1] == 200 and stored_ids(database, GROUP_ID) == ["1" * 64]  # digits as a string are fine


def test_a_body_over_the_limit_is_refused(serve, database: Database) -> None:
    inbox = Inbox(database, GROUP_ID)
    app = create_callback_app([CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, inbox)], max_body=4096)
    url = serve(app) + "/callback"
    big = envelope()
    big["object"]["message"]["text"] = "я" * 4096

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming too
        yield httpx.Request("POST", url, json=big).read()

    with httpx.Client() as http:
        declared = http.post(url, json=big)
        streamed = http.post(url, content=chunks())
        small = http.post(url, json=envelope())
    assert (declared.status_code, streamed.status_code, small.status_code) == (413, 413, 200)
    assert stored_ids(database, GROUP_ID) == [MESSAGE_NEW["event_id"]]


def test_a_storage_failure_asks_vk_to_retry(serve, database: Database) -> None:
    sink = FailingSink(Inbox(database, GROUP_ID), failures=1)
    url = serve(create_callback_app([CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, sink)])) + "/callback"
    with httpx.Client() as http:
        failed = http.post(url, json=envelope())
        retried = http.post(url, json=envelope(), headers={"X-Retry-Counter": "1"})
    assert failed.status_code == 500 and failed.text != "ok"
    assert (retried.status_code, retried.text) == (200, "ok")
    assert stored_ids(database, GROUP_ID) == [MESSAGE_NEW["event_id"]]


def test_trouble_reaching_the_endpoint_asks_for_a_catch_up(serve, database: Database) -> None:
    """VK gives up on a push after a few tries: a retry or a push we could not store means some may be gone."""
    troubles: list[str] = []
    sink = FailingSink(Inbox(database, GROUP_ID), failures=1)
    community = CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, sink, on_trouble=troubles.append)
    url = serve(create_callback_app([community])) + "/callback"
    with httpx.Client() as http:
        http.post(url, json=envelope(event_id="first"))
        assert troubles == ["a push could not be stored"]
        http.post(url, json=envelope(event_id="second"))
        assert len(troubles) == 1  # a push delivered at the first try says nothing was lost
        http.post(url, json=envelope(event_id="first"), headers={"X-Retry-Counter": "1"})
    assert troubles == ["a push could not be stored", "VK retried a push"]


def test_each_community_has_its_own_secret_and_inbox(serve, database: Database) -> None:
    other_group, other_secret = 42, "the-other-community-secret"
    communities = [
        CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, Inbox(database, GROUP_ID)),
        CallbackCommunity(other_group, other_secret, "ffff0000", Inbox(database, other_group)),
    ]
    url = serve(create_callback_app(communities)) + "/callback"
    with httpx.Client() as http:
        theirs = http.post(url, json=envelope(group_id=other_group, secret=other_secret, event_id="e" * 40))
        crossed = http.post(url, json=envelope(group_id=other_group, secret=SECRET, event_id="f" * 40))
        confirmation = http.post(url, json={"type": "confirmation", "group_id": other_group})
    assert (theirs.status_code, crossed.status_code) == (200, 403)
    assert confirmation.text == "ffff0000"
    assert stored_ids(database, other_group) == ["e" * 40]
    assert stored_ids(database, GROUP_ID) == []


def test_a_community_needs_a_secret(database: Database) -> None:
    with pytest.raises(ValueError, match="secret is required"):
        CallbackCommunity(GROUP_ID, "", CONFIRMATION, Inbox(database, GROUP_ID))


def test_slow_clients_are_cut_off_and_vk_gets_through(serve, database: Database) -> None:
    """300 clients send their headers, or their body, a byte at a time: each is closed (or answered 408,
    or 503 past the concurrency limit) instead of holding its connection, and VK's update is stored."""
    app = create_callback_app(
        [CallbackCommunity(GROUP_ID, SECRET, CONFIRMATION, Inbox(database, GROUP_ID))], body_timeout=1
    )
    url = serve(app, header_timeout=1) + "/callback"
    port = int(url.split(":")[2].split("/")[0])
    slow: dict[socket.socket, bytes] = {}
    for n in range(300):
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.setblocking(False)
        if n % 2:  # the headers never end
            client.sendall(b"POST /callback HTTP/1.1\r\nHost: bot.example\r\nX-Slow: ")
        else:  # the headers are whole, the body never is
            client.sendall(b"POST /callback HTTP/1.1\r\nHost: bot.example\r\nContent-Length: 100000\r\n\r\n{")
        slow[client] = b""

    answers: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while slow:
        if time.monotonic() > deadline:
            pytest.fail(f"{len(slow)} of 300 slow connections were still open after 60 s")
        readable, _, _ = select.select(list(slow), [], [], 0.1)
        for client in list(slow):
            try:
                if client in readable:
                    data = client.recv(4096)
                    if data:
                        slow[client] += data
                        continue
                else:
                    client.send(b"x")  # one more byte: trickling must not keep a connection alive
                    continue
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # reset: the server closed with our bytes unread
                pass
            answers[client] = slow.pop(client)
            client.close()

    assert len(answers) == 300
    statuses = {answer.split(b" ")[1] if answer else b"closed" for answer in answers.values()}
    assert statuses <= {b"closed", b"408", b"503"}, statuses
    with httpx.Client() as http:
        stored = http.post(url, json=envelope())
    assert (stored.status_code, stored.text) == (200, "ok")
    assert stored_ids(database, GROUP_ID) == [MESSAGE_NEW["event_id"]]
