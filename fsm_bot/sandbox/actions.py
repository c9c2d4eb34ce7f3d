"""What VK users do, as the control API lets a test or the playground do it: write, press, allow, join.

Each action changes the sandbox and emits the update VK would send the bot (VK_PROTOCOL.md envelopes).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from .keyboard import button_at, button_labelled
from .mailbox import CallbackPress
from .model import Chat, Message, User
from .state import Sandbox

#: What the user's VK client can show; the bot reads it from ``message_new`` (VK_PROTOCOL.md example).
CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def client_info(user: User) -> dict[str, Any]:
    """What this user's app says of itself: the same abilities for everyone, their own language."""
    return {**CLIENT_INFO, "lang_id": user.lang_id}


#: Where a location button says the user is (Moscow, Red Square).
LOCATION = {"type": "point", "coordinates": {"latitude": 55.7539, "longitude": 37.6208}}
ROLE_LEVELS: dict[str | None, int] = {
    None: 0,
    "advertiser": 0,
    "moderator": 1,
    "editor": 2,
    "administrator": 3,
    "creator": 3,
}


class ActionError(ValueError):
    """The action is impossible (no such button, ...); the control API answers ``status`` with this text."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Sent:
    message: Message
    event_id: str


def write(
    sandbox: Sandbox,
    user: User,
    text: str,
    *,
    peer_id: int | None = None,
    payload: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    fwd_messages: list[dict[str, Any]] | None = None,
    geo: dict[str, Any] | None = None,
) -> Sent:
    """The user writes to the community (or to a chat ``peer_id``): ``message_new``."""
    message = sandbox.mailbox.add(
        user.id if peer_id is None else peer_id,
        user.id,
        text=text,
        payload=payload,
        attachments=list(attachments or []),
        fwd_messages=list(fwd_messages or []),
    )
    view = message.vk_view()
    if geo is not None:
        view["geo"] = geo
    event_id = sandbox.emit("message_new", {"message": view, "client_info": client_info(user)})
    return Sent(message, event_id)


def press(
    sandbox: Sandbox, user: User, message: Message, *, label: str | None, row: int | None, col: int | None
) -> dict[str, Any]:
    """The user presses a button of a bot message; answers ``{"event_id", "envelope_event_id"}``.

    ``event_id`` is the id the bot answers with: the inner 12-hex id of a callback press (what
    ``messages.sendMessageEventAnswer`` takes and ``/snackbars`` lists), else the update's event_id.
    """
    if not message.from_bot:
        raise ActionError("only messages of the bot have buttons")
    if label is not None:
        button = button_labelled(message.keyboard, label)
    elif row is not None and col is not None:
        button = button_at(message.keyboard, row, col)
    else:
        raise ActionError("give label, or row and col", 400)
    if button is None:
        raise ActionError("that message has no such button", 404)
    action = button["action"]
    kind = action["type"]
    peer_id = message.peer_id
    chat_peer = peer_id if peer_id != user.id else None
    if kind == "text":
        sent = write(sandbox, user, action["label"], peer_id=chat_peer, payload=action.get("payload"))
        return {"event_id": sent.event_id, "envelope_event_id": sent.event_id}
    if kind == "location":
        sent = write(sandbox, user, "", peer_id=chat_peer, payload=action.get("payload"), geo=LOCATION)
        return {"event_id": sent.event_id, "envelope_event_id": sent.event_id}
    if kind != "callback":
        raise ActionError(f"a {kind} button opens something on the user's side and sends nothing to the bot")
    inner_id = secrets.token_hex(6)
    cmid = message.conversation_message_id
    sandbox.mailbox.presses[inner_id] = CallbackPress(user.id, peer_id, cmid)
    obj: dict[str, Any] = {"user_id": user.id, "peer_id": peer_id, "event_id": inner_id}
    if action.get("payload") is not None:
        obj["payload"] = json.loads(action["payload"])  # an object here, a string in message_new
    obj["conversation_message_id"] = cmid
    envelope_id = sandbox.emit("message_event", obj)
    return {"event_id": inner_id, "envelope_event_id": envelope_id}


def change_user(
    sandbox: Sandbox,
    user: User,
    *,
    allow_messages: bool | None = None,
    member: bool | None = None,
    role: str | EllipsisType | None = ...,
) -> None:
    """Apply a PATCH and emit what VK emits for each real change."""
    if allow_messages is not None and allow_messages != user.allow_messages:
        user.allow_messages = allow_messages
        if allow_messages:
            sandbox.emit("message_allow", {"user_id": user.id, "key": "sandbox"})
        else:
            sandbox.emit("message_deny", {"user_id": user.id})
    if member is not None and member != user.member:
        user.member = member
        if member:
            sandbox.emit("group_join", {"user_id": user.id, "join_type": "join"})
        else:
            sandbox.emit("group_leave", {"user_id": user.id, "self": 1})
    if role is not ... and role != user.role:
        creator = next((u.id for u in sandbox.directory.managers() if u.role == "creator"), 0)
        old_level, new_level = ROLE_LEVELS[user.role], ROLE_LEVELS[role]
        user.role = role
        sandbox.emit(
            "group_officers_edit",
            {"admin_id": creator, "user_id": user.id, "level_old": old_level, "level_new": new_level},
        )


def create_chat(sandbox: Sandbox, title: str, members: list[User], bot_is_admin: bool) -> Chat:
    """A chat with the bot in it; the first member invites the bot, as the chat's creator would."""
    chat = sandbox.directory.add_chat(title, [u.id for u in members], bot_is_admin)
    if members:
        message = sandbox.mailbox.add(
            chat.peer_id,
            members[0].id,
            action={"type": "chat_invite_user", "member_id": -sandbox.community.group_id},
        )
        sandbox.emit("message_new", {"message": message.vk_view(), "client_info": client_info(members[0])})
    return chat
