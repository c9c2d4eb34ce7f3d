"""What one event leaves behind, in the event's own transaction: the dialog's new step, the messages
for later, the replies in the outbox; and the after-commit work, returned as one value.

Everything here is written in the unit of work the EventHandler opened, so the dialog's state, its
data and what the person is told commit together or not at all (DESIGN.md, "Life of an event", 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from fsm_bot.delivery.effects import NOTHING, AfterCommit, Edit, Snackbar
from fsm_bot.delivery.replies import queue_reply
from fsm_bot.engine.context import Context, Reply, StepEffects, effects_of
from fsm_bot.storage.models import Dialog
from fsm_bot.storage.repositories import DialogRepository, OutboxRepository, ScheduledMessageRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.messages import MessageContent

HISTORY_KEPT = 20  # steps «назад» can go back through


@dataclass(frozen=True)
class Handled:
    """How an event went: what is left to do after the commit, the error id a failed one was answered
    with, or that it must wait for an older event of its person held by another process."""

    effects: AfterCommit = NOTHING
    error_id: str | None = None
    deferred: bool = False


def snackbar_for(event: IncomingEvent, text: str | None) -> Snackbar | None:
    """The answer a callback press needs (None for a message: it has no spinner to stop)."""
    if event.type != "message_event":
        return None
    return Snackbar(event.callback_event_id or "", event.user_id, event.peer_id, text)


def save_step(
    session: Session,
    community_id: int,
    dialogs: DialogRepository,
    dialog: Dialog | None,
    ctx: Context,
    timeout: timedelta,
) -> None:
    """The dialog as the flow left it (or ended), and the messages it asked to send later."""
    effects = effects_of(ctx)
    later = ScheduledMessageRepository(session, community_id)
    for message in effects.later:
        later.add(message.peer_id, message.text, message.due_at, message.keyboard)
    if dialog is None:
        return
    if effects.finished or effects.target_flow:
        dialogs.finish(dialog)
        return
    dialog.state = ctx.dialog.state or dialog.state
    dialog.data = {**ctx.dialog.data, "_history": ctx.dialog.history[-HISTORY_KEPT:]}
    dialog.version = ctx.dialog.version
    dialog.expires_at = utcnow() + timeout


class Answer:
    """What the event answers, gathered while it runs and queued at the end: replies (to this person
    and others), message edits, and the snackbar a callback press shows."""

    def __init__(self, event: IncomingEvent) -> None:
        self.event = event
        self.replies: list[Reply] = []
        self.edits: list[Edit] = []
        self.snackbar_text: str | None = None

    def say(self, text: str) -> None:
        self.replies.append(Reply(self.event.peer_id, text))

    def say_or_snackbar(self, text: str) -> None:
        """A press of a callback button is answered in its snackbar; anything else with a message."""
        if self.event.type == "message_event":
            self.snackbar_text = text
        else:
            self.say(text)

    def take(self, effects: StepEffects) -> None:
        """What a flow's step said and changed."""
        self.replies.extend(effects.replies)
        self.edits.extend(effects.edits)
        if effects.snackbar is not None and self.event.type == "message_event":
            self.snackbar_text = effects.snackbar

    def attach_menu(self, keyboard: str, title: str) -> None:
        """The main menu's keyboard on the last reply to this person (one without buttons of its own),
        or on a message of its own."""
        for index in range(len(self.replies) - 1, -1, -1):
            reply = self.replies[index]
            if reply.peer_id == self.event.peer_id:
                if reply.keyboard is None:
                    self.replies[index] = Reply(reply.peer_id, reply.text, keyboard, reply.attachment, reply.forward)
                    return
                break
        self.replies.append(Reply(self.event.peer_id, title, keyboard))

    def queue(self, session: Session, community_id: int, replan_reminders: bool) -> Handled:
        """Every reply into the outbox (a file's reply waits for the uploader); the rest, for after the commit."""
        outbox = OutboxRepository(session, community_id)
        documents = 0
        for reply in self.replies:
            if reply.document is not None:
                outbox.add_document(reply.peer_id, reply.text, *reply.document)
                documents += 1
                continue
            content = MessageContent(reply.text, reply.keyboard, reply.attachment, reply.forward)
            queue_reply(session, community_id, reply.peer_id, content, outbox)
        return Handled(
            AfterCommit(
                replies=len(self.replies),
                documents=documents,
                edits=tuple(self.edits),
                snackbar=snackbar_for(self.event, self.snackbar_text),  # None text: just stop the spinner
                replan_reminders=replan_reminders,
            )
        )
