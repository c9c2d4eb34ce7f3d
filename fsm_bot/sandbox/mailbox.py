"""Every conversation of the community: messages, ids, ``random_id`` dedup and the delivery log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .model import Message


@dataclass
class Conversation:
    """One peer's messages in order; ``conversation_message_id`` counts per peer, as in VK."""

    peer_id: int
    messages: list[Message] = field(default_factory=list)
    by_cmid: dict[int, Message] = field(default_factory=dict)
    in_read_cmid: int = 0  # the last message the community has read (messages.markAsRead)
    activity: str | None = None


@dataclass
class CallbackPress:
    """A callback-button press waiting for ``messages.sendMessageEventAnswer``."""

    user_id: int
    peer_id: int
    conversation_message_id: int


class Mailbox:
    """Messages of all peers; message ids are mailbox-wide like a community's real message ids."""

    def __init__(self) -> None:
        self.conversations: dict[int, Conversation] = {}
        self.by_id: dict[int, Message] = {}
        self._sent_random: dict[tuple[int, int], Message] = {}
        self.log: list[dict[str, Any]] = []
        self.presses: dict[str, CallbackPress] = {}
        self.snackbars: dict[int, list[dict[str, Any]]] = {}
        self._next_id = 1

    def conversation(self, peer_id: int) -> Conversation:
        found = self.conversations.get(peer_id)
        if found is None:
            found = self.conversations[peer_id] = Conversation(peer_id)
        return found

    def add(self, peer_id: int, from_id: int, **fields: Any) -> Message:
        """Store a new message with the next ids; ``fields`` are :class:`Message` attributes."""
        conversation = self.conversation(peer_id)
        message = Message(
            id=self._next_id,
            peer_id=peer_id,
            conversation_message_id=len(conversation.messages) + 1,
            from_id=from_id,
            date=int(time.time()),
            **fields,
        )
        self._next_id += 1
        conversation.messages.append(message)
        conversation.by_cmid[message.conversation_message_id] = message
        self.by_id[message.id] = message
        if message.from_bot:
            if message.random_id:
                self._sent_random[(peer_id, message.random_id)] = message
            self.log.append(
                {
                    "peer_id": peer_id,
                    "id": message.visible_id,
                    "random_id": message.random_id,
                    "text": message.text,
                    "date": message.date,
                }
            )
        return message

    def already_sent(self, peer_id: int, random_id: int) -> Message | None:
        """The earlier message that a repeated non-zero ``random_id`` makes VK drop silently."""
        if not random_id:
            return None
        return self._sent_random.get((peer_id, random_id))

    def find(self, peer_id: int | None, message_id: int | None = None, cmid: int | None = None) -> Message | None:
        """A message by mailbox id, or by ``conversation_message_id`` within a peer."""
        if message_id:
            message = self.by_id.get(message_id)
            if message is None or (peer_id is not None and message.peer_id != peer_id):
                return None
            return message
        if cmid is not None and peer_id is not None:
            conversation = self.conversations.get(peer_id)
            return conversation.by_cmid.get(cmid) if conversation else None
        return None

    def history(self, peer_id: int) -> list[Message]:
        conversation = self.conversations.get(peer_id)
        if conversation is None:
            return []
        return [m for m in conversation.messages if not (m.deleted_for_all or m.deleted_for_bot)]
