"""pytest fixtures for driving a bot (or any VK client) against the sandbox.

Use them from any project's ``conftest.py``::

    from fsm_bot.sandbox.fixtures import *  # noqa: F403  (sandbox_server, sandbox, sandbox_vk)

Fixtures:

``sandbox_server`` (session)
    One :class:`~fsm_bot.sandbox.SandboxServer` on a free 127.0.0.1 port, started once per test session in a
    background thread, with no users and VK's 20 requests per second per token. ``.url`` is its base URL,
    ``.sandbox`` its in-process state (read it, do not change it: it lives on the server's thread).

``sandbox`` (function)
    A :class:`~fsm_bot.sandbox.SandboxClient` for that server, reset before each test: no users, messages,
    events, faults or callback; stats at zero; rps limit 20 (``sandbox.reset(rps_limit=None)`` lifts it).
    Point the bot at ``sandbox.api_url`` with token ``sandbox.token`` and group id ``sandbox.group_id``.

``sandbox_vk`` (function)
    A ``vk_api.VkApi`` talking to the sandbox with the first community token and ``v=5.199``
    (``vk_api``'s own client-side pause between calls is switched off; the sandbox enforces VK's limit).

A flow test then reads like a story::

    def test_student_gets_the_menu(sandbox, running_bot):
        student = sandbox.add_user("Анна", "Смирнова")
        sandbox.send(student["id"], "Начать", payload={"command": "start"})
        [menu] = sandbox.wait_for_messages(student["id"])
        sandbox.press(student["id"], menu["id"], "Расписание")
        sandbox.wait_for_messages(student["id"], 2)

Helpers: ``add_user``, ``update_user``, ``send``, ``press``, ``messages``, ``wait_for_messages(user, count,
predicate, timeout=...)``, ``snackbars``, ``stats``, ``log``, ``inject_fault``, ``set_callback``, ``community``,
``create_chat`` / ``chat_send`` / ``chat_messages`` / ``chat_press``; and :func:`vk_session_for` for your own
``VkApi`` (``VkApi(token=..., session=vk_session_for(sandbox))``). :func:`start_sandbox_server` starts one
more server of your own, e.g. ``start_sandbox_server(group_id=227000002)`` for a second community.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import vk_api

from .client import SandboxClient, vk_session_for
from .server import SandboxServer
from .state import DEFAULT_RPS_LIMIT, GROUP_ID

__all__ = ["sandbox", "sandbox_server", "sandbox_vk", "start_sandbox_server", "vk_api_for"]


def vk_api_for(sandbox: SandboxClient | SandboxServer | str, token: str, api_version: str = "5.199") -> vk_api.VkApi:
    """A ``VkApi`` on the sandbox without ``vk_api``'s client-side 3-per-second pause."""
    vk = vk_api.VkApi(token=token, session=vk_session_for(sandbox), api_version=api_version)
    vk.RPS_DELAY = 0  # instance attribute: VkApi.method reads self.RPS_DELAY
    return vk


def start_sandbox_server(
    *, group_id: int = GROUP_ID, demo: bool = False, rps_limit: int | None = DEFAULT_RPS_LIMIT
) -> SandboxServer:
    """A started server on a free 127.0.0.1 port (stop it yourself); another ``group_id`` is another community."""
    server = SandboxServer(host="127.0.0.1", port=0, demo=demo, rps_limit=rps_limit, group_id=group_id)
    server.start()
    return server


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = start_sandbox_server()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxClient:
    client = SandboxClient(sandbox_server.url)
    client.reset()
    return client


@pytest.fixture
def sandbox_vk(sandbox: SandboxClient) -> vk_api.VkApi:
    return vk_api_for(sandbox, sandbox.token)
