"""Talking to a running bot through the sandbox: say, press, and what the bot has said.

`say` and `press` return the bot's answers to that one action (the messages after the person's
own), waiting for `expect` of them; a crowd of people can use them at once, each in their own
conversation. For "and nothing else came", follow them with `waiting.settled`.
"""

from __future__ import annotations

import time

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Dialog
from fsm_bot.storage.repositories import DialogRepository

ANSWER_TIMEOUT = 15.0  # seconds: far beyond any answer on a quiet machine


def say(sandbox: SandboxClient, user: int, text: str, expect: int = 1, timeout: float = ANSWER_TIMEOUT) -> list[dict]:
    """The person writes `text`; returns the bot's answers to it (at least `expect`)."""
    sent = sandbox.send(user, text)
    return sandbox.wait_for_messages(user, expect, since=sent["message_id"], timeout=timeout)


def press(sandbox: SandboxClient, user: int, message: dict, label: str, expect: int = 1) -> list[dict]:
    """The person presses the button `label` of `message`; returns the bot's answers (at least `expect`)."""
    since = sandbox.messages(user)[-1]["id"]
    sandbox.press(user, message["id"], label)
    return sandbox.wait_for_messages(user, expect, since=since, timeout=ANSWER_TIMEOUT)


def toggle(sandbox: SandboxClient, user: int, message: dict, label: str) -> dict:
    """Press a callback toggle: the same message is edited; returns it as it is now (after the snackbar)."""
    before = len(sandbox.snackbars(user))
    sandbox.press(user, message["id"], label)
    deadline = time.monotonic() + 5  # no snackbar in time: the caller's assertions on the message say what is wrong
    while len(sandbox.snackbars(user)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    [now] = [m for m in sandbox.messages(user) if m["id"] == message["id"]]
    return now


def bot_messages(sandbox: SandboxClient, user: int) -> list[dict]:
    """Everything the bot has sent `user`, oldest first."""
    return [m for m in sandbox.messages(user) if m["from"] == "bot"]


def bot_texts(sandbox: SandboxClient, user: int) -> list[str]:
    return [message["text"] for message in bot_messages(sandbox, user)]


def dialog_of(bot: Bot, user: int) -> Dialog | None:
    """The person's dialog row in their private conversation (None before their first dialog)."""
    return bot.database.transaction(
        lambda session: DialogRepository(session, bot.community_id).load(user, user, lock=False)
    )


def onboard(sandbox: SandboxClient, user: int) -> None:
    """Through the real onboarding dialog into ИВТ-101 (the bot auto-approves), so the person may use the survey."""
    sandbox.send(user, "регистрация")
    [question] = sandbox.wait_for_messages(user, 1, timeout=20)
    sandbox.press(user, question["id"], "ИВТ-101")
    confirm = sandbox.wait_for_messages(user, 2, timeout=20)[-1]
    sandbox.press(user, confirm["id"], "Да, верно")
    sandbox.wait_for_messages(user, 3, timeout=20)
