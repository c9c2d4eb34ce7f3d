"""Conversations as a community sees them: ``messages.getConversations``, ``getConversationsById``, ``markAsRead``.

A bot that lost long-poll updates (``failed: 1``, a crash) catches up here: ``filter=unanswered`` lists the
dialogs whose last message is a user's, ``filter=unread`` those with messages the community has not marked
read. Shapes follow VK's schema (VKCOM/vk-api-schema 5.199: ``messages_conversation``,
``messages_getConversations_response``); see README.md for what the sandbox decided where VK is silent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid_param
from ..model import Message
from .base import Call, count_param, extended_view, own_group_id
from .sending import single_peer

if TYPE_CHECKING:
    from ..state import Sandbox

FILTERS = frozenset({"all", "unread", "unanswered", "important"})


def conversation_view(sandbox: Sandbox, peer_id: int) -> dict[str, Any] | None:
    """The ``conversation`` object of ``peer_id``, or None for a peer the sandbox does not know."""
    chat = sandbox.directory.chat(peer_id)
    user = sandbox.directory.user(peer_id)
    if chat is None and user is None:
        return None
    found = sandbox.mailbox.conversations.get(peer_id)
    read_cmid = found.in_read_cmid if found else 0
    history = sandbox.mailbox.history(peer_id)
    last = history[-1] if history else None
    read = [m for m in history if m.conversation_message_id <= read_cmid]
    unread = sum(1 for m in history if not m.from_bot and m.conversation_message_id > read_cmid)
    view: dict[str, Any] = {
        "peer": {"id": peer_id, "type": "chat" if chat else "user", "local_id": chat.chat_id if chat else peer_id},
        "last_message_id": last.visible_id if last else 0,
        "last_conversation_message_id": last.conversation_message_id if last else 0,
        "in_read": read[-1].visible_id if read else 0,
        "in_read_cmid": read_cmid,
        "out_read": 0,  # users' read receipts are not modelled (README.md, "Not implemented")
        "out_read_cmid": 0,
        "is_marked_unread": False,
        "important": False,  # nothing in the sandbox marks a conversation important
        "unanswered": last is not None and _awaits_answer(last),
        "can_write": {"allowed": True},
    }
    if unread:
        view["unread_count"] = unread  # VK leaves the field out when it is 0; read it with .get(..., 0)
    if user is not None and (not user.allow_messages or user.deactivated):
        view["can_write"] = {"allowed": False, "reason": 18 if user.deactivated else 901}
    if chat is not None:
        view["chat_settings"] = {
            "title": chat.title,
            "members_count": len(chat.member_ids),
            "owner_id": chat.member_ids[0] if chat.member_ids else 0,
            "state": "in",
            "pinned_message": {"conversation_message_id": chat.pinned_cmid} if chat.pinned_cmid else None,
        }
    return view


def _awaits_answer(last: Message) -> bool:
    """A user's message (not a service one like ``chat_invite_user``) that the community has not answered."""
    return not last.from_bot and last.action is None


def get_conversations(call: Call) -> dict[str, Any]:
    """Conversations with at least one message, the newest last message first."""
    own_group_id(call)
    params = call.params
    kind = params.string("filter", default="all")
    if kind not in FILTERS:
        raise invalid_param(f"filter should be one of {', '.join(sorted(FILTERS))}")
    offset = params.integer("offset", default=0, min_value=0) or 0
    count = count_param(call, 20, 200)
    sandbox = call.sandbox
    lasts: list[Message] = []
    for peer_id in sandbox.mailbox.conversations:
        history = sandbox.mailbox.history(peer_id)
        if history and (sandbox.directory.chat(peer_id) or sandbox.directory.user(peer_id)):
            lasts.append(history[-1])
    lasts.sort(key=lambda m: m.id, reverse=True)  # mailbox ids grow with time across all peers
    items = []
    unread_conversations = 0
    for last in lasts:
        view = conversation_view(sandbox, last.peer_id)
        assert view is not None
        unread_conversations += "unread_count" in view
        if _passes(kind, view):
            items.append({"conversation": view, "last_message": last.vk_view()})
    page = items[offset : offset + count]
    answer: dict[str, Any] = {"count": len(items), "items": page}
    if unread_conversations:
        answer["unread_count"] = unread_conversations
    if params.flag("extended"):
        ids = {i["conversation"]["peer"]["id"] for i in page} | {i["last_message"]["from_id"] for i in page}
        answer.update(extended_view(call, ids))
    return answer


def _passes(kind: str, view: dict[str, Any]) -> bool:
    if kind == "unread":
        return "unread_count" in view
    if kind in ("unanswered", "important"):
        return bool(view[kind])
    return True


def get_conversations_by_id(call: Call) -> dict[str, Any]:
    own_group_id(call)
    items = []
    for peer_id in call.params.int_list("peer_ids", required=True, max_items=100):
        view = conversation_view(call.sandbox, peer_id)
        if view is not None:
            items.append(view)
    answer: dict[str, Any] = {"count": len(items), "items": items}
    if call.params.flag("extended"):
        answer.update(extended_view(call, {i["peer"]["id"] for i in items}))
    return answer


def mark_as_read(call: Call) -> int:
    """Up to ``start_message_id`` (a message id, so dialogs only: chat messages are id 0 to a community)
    or, without it or with ``mark_conversation_as_read=1``, the whole conversation. The mark never moves back.
    """
    own_group_id(call)
    params = call.params
    peer_id = single_peer(call)
    history = call.sandbox.mailbox.history(peer_id)
    start = params.integer("start_message_id", min_value=0) or 0
    if start and not params.flag("mark_conversation_as_read"):
        history = [m for m in history if m.id <= start]
    if history:
        conversation = call.sandbox.mailbox.conversation(peer_id)
        conversation.in_read_cmid = max(conversation.in_read_cmid, history[-1].conversation_message_id)
    return 1


METHODS = {
    "messages.getConversations": get_conversations,
    "messages.getConversationsById": get_conversations_by_id,
    "messages.markAsRead": mark_as_read,
}
