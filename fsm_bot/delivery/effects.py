"""What an event leaves to do once its transaction has committed, and the one place that does it.

Replies are rows of the outbox, sent exactly once whatever happens; these are the calls that need no
such guarantee and must not wait inside a transaction: wake the sender and the uploader, edit a
message in place (a report, the attendance toggles), answer a callback button (its snackbar stops
the spinner), ask the scheduling process to plan reminders again. A crash before them loses a
courtesy, never a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import VkCallError

log = logging.getLogger(__name__)

SNACKBAR_LIMIT = 90  # characters VK shows in a snackbar


@dataclass(frozen=True)
class Edit:
    """A message of the bot's to change in place (a report, the attendance toggles)."""

    peer_id: int
    conversation_message_id: int
    text: str
    keyboard: str | None


@dataclass(frozen=True)
class Snackbar:
    """The answer to a callback button press: VK keeps the button spinning until one arrives."""

    event_id: str
    user_id: int
    peer_id: int
    text: str | None  # None: just stop the spinner


@dataclass(frozen=True)
class AfterCommit:
    """An event's after-commit work, as one small value the handler returns."""

    replies: int = 0  # queued in the outbox: the sender should look now
    documents: int = 0  # replies with a file, waiting for the uploader
    edits: tuple[Edit, ...] = ()
    snackbar: Snackbar | None = None
    replan_reminders: bool = False  # subscriptions or the timetable changed


NOTHING = AfterCommit()


class AfterCommitEffects:
    """Carries out AfterCommit values for one community: VK calls through its client, wake-ups by callback."""

    def __init__(
        self,
        client: VkClient,
        wake_sender: Callable[[], None],
        wake_uploads: Callable[[], None] = lambda: None,
        replan_reminders: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.wake_sender = wake_sender
        self.wake_uploads = wake_uploads
        self.replan_reminders = replan_reminders

    def __call__(self, effects: AfterCommit) -> None:
        self.wake_sender()  # replies, and perhaps a broadcast: a look at the outboxes costs little
        if effects.documents:
            self.wake_uploads()
        if effects.replan_reminders:
            self.replan_reminders()
        for edit in effects.edits:
            self._edit(edit)
        if effects.snackbar is not None:
            self._answer(effects.snackbar)

    def _edit(self, edit: Edit) -> None:
        params: dict[str, object] = {
            "peer_id": edit.peer_id,
            "conversation_message_id": edit.conversation_message_id,
            "message": edit.text,
        }
        if edit.keyboard is not None:
            params["keyboard"] = edit.keyboard
        try:
            self.client.call("messages.edit", params)
        except VkCallError as error:
            log.warning("message %d in %d not edited: %s", edit.conversation_message_id, edit.peer_id, error)

    def _answer(self, snackbar: Snackbar) -> None:
        params: dict[str, object] = {
            "event_id": snackbar.event_id,
            "user_id": snackbar.user_id,
            "peer_id": snackbar.peer_id,
        }
        if snackbar.text:
            event_data = {"type": "show_snackbar", "text": snackbar.text[:SNACKBAR_LIMIT]}
            params["event_data"] = json.dumps(event_data, ensure_ascii=False)
        try:
            self.client.call("messages.sendMessageEventAnswer", params)
        except VkCallError as error:
            log.warning("callback answer for %d not sent: %s", snackbar.user_id, error)
