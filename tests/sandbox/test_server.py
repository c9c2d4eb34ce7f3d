"""Running the sandbox: SandboxServer in a thread, serve() as the CLI runs it, the index page, demo data."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from fsm_bot.sandbox import DEMO_STREAM, SandboxClient, SandboxServer


def test_a_server_outside_pytest_fixtures():
    with SandboxServer(port=0, demo=True, rps_limit=None) as server:
        client = SandboxClient(server.url)
        users = client.users()
        assert len(users) == len(DEMO_STREAM) == 29
        assert {u["id"] for u in users if not u["allow_messages"]} == {
            p.id for p in DEMO_STREAM if not p.allow_messages
        }
        page = requests.get(server.url + "/", timeout=5)
        assert page.status_code == 200 and "fsm_bot sandbox" in page.text and "/sandbox/users" in page.text
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/sandbox/stats", timeout=2)


def test_the_demo_stream_is_a_stream():
    roles = [p.stream_role for p in DEMO_STREAM]
    assert roles.count("admin") == 1 and roles.count("headman") == 2 and roles.count("deputy") == 1
    assert roles.count("student") == 25
    assert {p.study_group for p in DEMO_STREAM if p.stream_role != "admin"} == {"ИВТ-101", "ИВТ-102"}
    assert len({(p.first_name, p.last_name) for p in DEMO_STREAM}) == len(DEMO_STREAM)


def test_stopping_does_not_wait_for_held_polls():
    server = SandboxServer()
    server.start()
    client = SandboxClient(server.url)
    answer = requests.post(
        f"{server.url}/method/groups.getLongPollServer",
        data={"group_id": client.group_id, "access_token": client.token},
    ).json()["response"]
    outcome: list[object] = []

    params = {"act": "a_check", "key": answer["key"], "ts": answer["ts"], "wait": 90}

    def hold() -> None:
        try:
            outcome.append(requests.get(answer["server"], params=params, timeout=100))
        except requests.RequestException as error:
            outcome.append(error)

    holder = threading.Thread(target=hold)
    holder.start()
    while server.sandbox.longpoll.held == 0:
        time.sleep(0.01)
    server.stop()
    holder.join(timeout=30)
    assert not holder.is_alive(), "a held poll kept the stopped server's client waiting"
    assert outcome


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_blocks_and_serves_what_the_cli_asks_for():
    port = _free_port()
    code = f"from fsm_bot.sandbox import serve; serve('127.0.0.1', {port}, demo=False, rps_limit=None)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        client = SandboxClient(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                users = client.users()
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "serve() did not start"
                time.sleep(0.05)
        assert users == []
        url, token = f"{client.api_url}utils.getServerTime", {"access_token": client.token}
        assert all("response" in requests.post(url, data=token, timeout=5).json() for _ in range(40))
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=20)
    assert stdout == b""  # serve() prints nothing; it reports through logging only
