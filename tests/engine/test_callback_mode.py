"""The whole bot in callback mode: VK (the sandbox) pushes events to the bot's endpoint."""

from __future__ import annotations

import socket
from collections.abc import Callable

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from tests.support.people import enrolled
from tests.support.talk import say

StartBot = Callable[..., Bot]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_dialog_in_callback_mode(sandbox: SandboxClient, start_bot: StartBot) -> None:
    port = free_port()
    secret = "callback-secret-123"
    community = sandbox.community()
    confirmation = sandbox.set_callback(None)  # the community's code, before any server is set
    bot = start_bot(
        vk={
            "token": community["tokens"][0],
            "group_id": community["group_id"],
            "api_url": community["api_url"],
            "mode": "callback",
            "callback": {"host": "127.0.0.1", "port": port, "secret": secret, "confirmation": confirmation},
        }
    )
    assert bot.source is None  # no long poll in this mode
    sandbox.set_callback(f"http://127.0.0.1:{port}/callback", secret)
    anna = enrolled(sandbox, bot)
    assert say(sandbox, anna, "опрос")[-1]["text"] == "Как вас зовут?"
    assert say(sandbox, anna, "Анна")[-1]["text"] == "Сколько вам лет?"
    assert sandbox.community()["callback"]["delivered"] >= 2
