"""Delivering scheduled messages when they fall due (the sweep behind `ctx.schedule_message`).

Due rows move to the reply outbox and are marked sent in one transaction: a crash before the
commit leaves them due (sent at the next sweep), a crash after it leaves them in the outbox
(sent by the reply sender, with VK dropping a repeat). Nothing is lost or sent twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fsm_bot.delivery.replies import queue_reply
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import OutboxRepository, ScheduledMessageRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.messages import MessageContent


def send_due_messages(database: Database, community_id: int) -> int:
    def move(session: Session) -> int:
        due = ScheduledMessageRepository(session, community_id).due(utcnow())
        outbox = OutboxRepository(session, community_id)
        for row in due:
            queue_reply(session, community_id, row.peer_id, MessageContent(row.text, row.keyboard), outbox)
            row.sent = True
        return len(due)

    return database.transaction(move)
