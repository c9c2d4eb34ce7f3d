"""People who talk to a running bot through the sandbox, one action at a time, and see what came of it.

Every action waits until the bot has *finished* with it, not merely until a first reply arrived:
the event's inbox row is handled, the outbox holds nothing unsent for anyone, and a callback press
has had its snackbar. So the next action's answers never mix with the last one's, and a crash is
read straight from the inbox row (`error`, set when the event was set aside with an error id).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import OutgoingMessage, ProcessedEvent
from fsm_bot.storage.repositories import DialogRepository
from fsm_bot.storage.repositories.dialogs import IDLE
from tests.support.waiting import HANG_GUARD, UNSENT

APOLOGY_START = "Что-то пошло не так"  # errors.internal in fsm_bot/locales/ru.yaml


@dataclass
class Outcome:
    """What one action brought: the messages after it, the snackbar (a callback press), the event's error."""

    what: str
    messages: list[dict[str, Any]]
    snackbar: dict[str, Any] | None
    error: str | None

    @property
    def texts(self) -> list[str]:
        return [message["text"] for message in self.messages]

    def assert_ordinary(self) -> None:
        """Answered (a message, or a snackbar for a callback press), and not with the apology."""
        where = f"{self.what}: got {self.texts!r} (snackbar {self.snackbar!r})"
        assert self.error is None, f"{where}; the event failed: {self.error}"
        assert self.messages or self.snackbar is not None, f"{where}: no answer at all"
        assert not any(text.startswith(APOLOGY_START) for text in self.texts), where
        if self.snackbar is not None and self.snackbar.get("event_data"):
            assert not self.snackbar["event_data"].get("text", "").startswith(APOLOGY_START), where


@dataclass
class Person:
    sandbox: SandboxClient
    bot: Bot
    vk_id: int
    name: str
    seen: int = 0  # the id of the last message of this conversation already read
    history: list[Outcome] = field(default_factory=list)

    # --- acting

    def say(self, text: str, attachments: list[Any] | None = None, payload: Any = None) -> Outcome:
        self._catch_up()
        sent = self.sandbox.send(self.vk_id, text, attachments=attachments, payload=payload)
        shown = text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"
        return self._settle(f"{self.name} says {shown!r}", sent["event_id"], None, sent.get("message_id"))

    def press(self, label: str, message: dict[str, Any] | None = None) -> Outcome:
        """Press the button labelled `label` (or starting so) on `message`, or on the latest message having it."""
        self._catch_up()
        message = message or self.latest_with(label)
        exact = self.button_label(message, label)
        pressed = self.sandbox.press(self.vk_id, message["id"], exact)
        callback = pressed["event_id"] != pressed["envelope_event_id"]
        return self._settle(
            f"{self.name} presses {exact!r}", pressed["envelope_event_id"], pressed["event_id"] if callback else None
        )

    # --- reading

    def conversation(self) -> list[dict[str, Any]]:
        return list(self.sandbox.messages(self.vk_id))

    def latest_with(self, label: str) -> dict[str, Any]:
        for message in reversed(self.conversation()):
            if message["from"] == "bot" and self.button_label(message, label, strict=False):
                return message
        raise AssertionError(f"{self.name} has no message with a button {label!r}; saw {self.history[-1:]}")

    @staticmethod
    def button_label(message: dict[str, Any], label: str, strict: bool = True) -> str:
        labels = [button["action"].get("label", "") for button in buttons_of(message)]
        for candidate in labels:
            if candidate == label:
                return candidate
        for candidate in labels:
            if candidate.startswith(label):
                return candidate
        if strict:
            raise AssertionError(f"no button {label!r} under {message['text'][:80]!r}: {labels}")
        return ""

    def dialog(self) -> tuple[str, str]:
        """(flow, state) of this person's dialog; ("", "") when idle."""
        found = self._dialog_row()
        return (found[0], found[1]) if found is not None else (IDLE, IDLE)

    def dialog_version(self) -> int | None:
        """What the buttons of the dialog's current step carry (Context.option); None before any dialog."""
        found = self._dialog_row()
        return found[2] if found is not None else None

    def _dialog_row(self) -> tuple[str, str, int] | None:
        def read(session) -> tuple[str, str, int] | None:  # type: ignore[no-untyped-def]
            row = DialogRepository(session, self.bot.community_id).load(self.vk_id, self.vk_id, lock=False)
            return (row.flow, row.state, row.version) if row is not None else None

        return self.bot.database.transaction(read)

    # --- waiting

    def _catch_up(self) -> None:
        messages = self.conversation()
        if messages:
            self.seen = max(self.seen, messages[-1]["id"])

    def _settle(
        self, what: str, envelope_event_id: str, callback_id: str | None, message_id: int | None = None
    ) -> Outcome:
        deadline = time.monotonic() + HANG_GUARD
        error = self._handled(envelope_event_id, deadline, what, message_id)
        self._outbox_empty(deadline, what)
        snackbar = self._snackbar(callback_id, deadline, what) if callback_id else None
        messages = [m for m in self.sandbox.messages(self.vk_id, since=self.seen) if m["from"] == "bot"]
        if messages:
            self.seen = messages[-1]["id"]
        outcome = Outcome(what, messages, snackbar, error)
        self.history.append(outcome)
        return outcome

    def _handled(self, event_id: str, deadline: float, what: str, message_id: int | None = None) -> str | None:
        # A catch-up (fsm_bot/vk/catch_up.py) may store the message before the long poll does, under its own id.
        same = ProcessedEvent.event_id == event_id
        if message_id:
            same = or_(same, ProcessedEvent.message_key == f"message:{message_id}")
        query = select(ProcessedEvent.handled_at, ProcessedEvent.error).where(
            ProcessedEvent.community_id == self.bot.community_id, same
        )
        while True:
            row = self.bot.database.transaction(lambda session: session.execute(query).first())
            if row is not None and row.handled_at is not None:
                return row.error
            assert time.monotonic() < deadline, f"{what}: not handled after {HANG_GUARD:.0f} s"
            time.sleep(0.02)

    def _outbox_empty(self, deadline: float, what: str) -> None:
        query = select(func.count()).where(
            OutgoingMessage.community_id == self.bot.community_id, OutgoingMessage.status.in_(UNSENT)
        )
        while self.bot.database.transaction(lambda session: session.execute(query).scalar_one()):
            assert time.monotonic() < deadline, f"{what}: replies still unsent after {HANG_GUARD:.0f} s"
            time.sleep(0.02)

    def _snackbar(self, callback_id: str, deadline: float, what: str) -> dict[str, Any]:
        while True:
            for answer in self.sandbox.snackbars(self.vk_id):
                if answer["event_id"] == callback_id:
                    return answer
            assert time.monotonic() < deadline, f"{what}: the press was never answered"
            time.sleep(0.02)


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    keyboard = message.get("keyboard") or {}
    return [button for row in keyboard.get("buttons", []) for button in row]


def payload_of(button: dict[str, Any]) -> dict[str, Any] | None:
    raw = button["action"].get("payload")
    if not raw:
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else None


def dialog_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a dialog step (they carry the dialog's version, see Context.option)."""
    return [button for button in buttons_of(message) if (payload_of(button) or {}).get("v") is not None]
