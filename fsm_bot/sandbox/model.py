"""The things the sandbox's VK is made of: users, group chats and messages.

Plain dataclasses; the rules (who may write to whom, ids, dedup) live in :mod:`.directory` and
:mod:`.mailbox`, and the JSON shapes VK answers with are built here, next to the data they show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Group chats have ``peer_id = 2000000000 + chat id`` (VK_PROTOCOL.md, "Group chats").
CHAT_PEER_BASE = 2_000_000_000

#: Roles a community manager can have; ``None`` is an ordinary member.
MANAGER_ROLES = ("creator", "administrator", "editor", "moderator", "advertiser")


def is_chat(peer_id: int) -> bool:
    return peer_id > CHAT_PEER_BASE


@dataclass
class User:
    """A VK user as the sandbox knows them."""

    id: int
    first_name: str
    last_name: str
    allow_messages: bool = True
    member: bool = True
    role: str | None = None
    sex: int = 0
    lang_id: int = 0  # the language of their VK app, sent in each message's client_info (0 ru, 3 en)
    deactivated: str | None = None
    custom_screen_name: str | None = None  # a short address (vk.com/olga_b) besides the id<id> every user has

    @property
    def screen_name(self) -> str:
        return self.custom_screen_name or f"id{self.id}"

    def control_view(self) -> dict[str, Any]:
        """The shape of ``/sandbox/users`` (SANDBOX_API.md); ``screen_name`` only when a short one was set, so
        the stable shape stays what clients outside this repository compare against."""
        view: dict[str, Any] = {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "allow_messages": self.allow_messages,
            "member": self.member,
            "role": self.role,
        }
        if self.custom_screen_name:
            view["screen_name"] = self.custom_screen_name
        return view

    def vk_view(self, fields: list[str]) -> dict[str, Any]:
        """The shape of ``users.get`` / ``groups.getMembers`` items; unknown fields are left out, as VK does."""
        view: dict[str, Any] = {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "can_access_closed": True,
            "is_closed": False,
        }
        if self.deactivated:
            view["deactivated"] = self.deactivated
        extra = {
            "sex": self.sex,
            "screen_name": self.screen_name,
            "domain": self.screen_name,
            "online": 0,
            "photo_50": "https://vk.ru/images/camera_50.png",
            "photo_100": "https://vk.ru/images/camera_100.png",
            "photo_200": "https://vk.ru/images/camera_200.png",
            "can_write_private_message": int(self.allow_messages),
        }
        for name in fields:
            if name in extra:
                view[name] = extra[name]
        return view


@dataclass
class Chat:
    """A group chat (беседа) that the community's bot is in."""

    chat_id: int
    title: str
    member_ids: list[int]
    bot_is_admin: bool = False
    pinned_cmid: int | None = None

    @property
    def peer_id(self) -> int:
        return CHAT_PEER_BASE + self.chat_id

    def control_view(self) -> dict[str, Any]:
        return {
            "peer_id": self.peer_id,
            "title": self.title,
            "member_ids": list(self.member_ids),
            "bot_is_admin": self.bot_is_admin,
            "pinned_conversation_message_id": self.pinned_cmid,  # extension: what messages.pin pinned
        }


@dataclass
class Message:
    """One message in one conversation (a user's dialog with the community, or a chat)."""

    id: int  # mailbox-wide; community bots are shown 0 for chat messages
    peer_id: int
    conversation_message_id: int
    from_id: int
    date: int
    text: str = ""
    random_id: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)
    fwd_messages: list[dict[str, Any]] = field(default_factory=list)
    reply_message: dict[str, Any] | None = None
    keyboard: dict[str, Any] | None = None
    payload: str | None = None
    action: dict[str, Any] | None = None
    update_time: int | None = None
    deleted_for_all: bool = False
    deleted_for_bot: bool = False

    @property
    def from_bot(self) -> bool:
        return self.from_id < 0

    @property
    def visible_id(self) -> int:
        """The id a community bot sees: ``0`` in chats (VK_PROTOCOL.md)."""
        return 0 if is_chat(self.peer_id) else self.id

    def vk_view(self) -> dict[str, Any]:
        """The message object of the envelope in VK_PROTOCOL.md and of ``messages.getHistory``."""
        view: dict[str, Any] = {
            "id": self.visible_id,
            "date": self.date,
            "peer_id": self.peer_id,
            "from_id": self.from_id,
            "out": int(self.from_bot),
            "text": self.text,
            "attachments": self.attachments,
            "fwd_messages": self.fwd_messages,
            "conversation_message_id": self.conversation_message_id,
            "random_id": self.random_id,
            "important": False,
            "is_hidden": False,
            "version": 1,
        }
        if self.payload is not None:
            view["payload"] = self.payload
        if self.keyboard is not None and self.keyboard.get("buttons"):
            view["keyboard"] = {"author_id": self.from_id, **self.keyboard}
        if self.reply_message is not None:
            view["reply_message"] = self.reply_message
        if self.action is not None:
            view["action"] = self.action
        if self.update_time is not None:
            view["update_time"] = self.update_time
        return view

    def control_view(self) -> dict[str, Any]:
        """The shape of ``/sandbox/users/{id}/messages`` (SANDBOX_API.md)."""
        return {
            "id": self.id,
            "conversation_message_id": self.conversation_message_id,
            "from": "bot" if self.from_bot else "user",
            "text": self.text,
            "attachments": self.attachments,
            "keyboard": self.keyboard,
            "random_id": self.random_id,
            "date": self.date,
        }
