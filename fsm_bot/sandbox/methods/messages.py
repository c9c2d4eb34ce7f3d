"""The ``messages.*`` section apart from sending and conversations: edit, delete, pin, history, callbacks."""

from __future__ import annotations

import time
from typing import Any

from ..errors import VkError, invalid_param
from ..model import Message, is_chat
from .base import Call, count_param, extended_view, own_group_id
from .sending import check_recipient, forwarded_view, read_attachments, read_keyboard, read_text, send, single_peer

SNACKBAR_TEXT = 90
EVENT_ANSWER_TYPES = frozenset({"show_snackbar", "open_link", "open_app"})
ACTIVITY_TYPES = frozenset({"typing", "audiomessage", "photo", "video", "file", "videomessage"})


def _target(call: Call, peer_id: int) -> Message:
    """The message named by ``message_id`` or ``conversation_message_id`` in ``peer_id``."""
    params = call.params
    message_id = params.integer("message_id", min_value=0)
    cmid = params.integer("conversation_message_id", min_value=1)
    if not message_id and cmid is None:
        raise invalid_param("message_id is undefined")
    found = call.sandbox.mailbox.find(peer_id, message_id=message_id, cmid=cmid)
    if found is None or found.deleted_for_all:
        raise invalid_param("message_id is invalid")
    return found


def edit(call: Call) -> int:
    peer_id = call.params.req_int("peer_id")
    message = _target(call, peer_id)
    if not message.from_bot:
        raise VkError(920)
    # Every parameter is checked before anything changes: VK refuses a call whole (a bad keyboard does not
    # leave the new text behind), and a bot relying on a refused edit must see its message unchanged.
    text = read_text(call) if "message" in call.params.values else message.text
    keyboard = read_keyboard(call) if call.params.has("keyboard") else message.keyboard
    attachments = read_attachments(call) if "attachment" in call.params.values else message.attachments
    if not (text or attachments or message.fwd_messages):
        raise invalid_param("message is empty or invalid")
    message.text, message.keyboard, message.attachments = text, keyboard, attachments
    message.update_time = int(time.time())
    call.sandbox.emit("message_edit", message.vk_view())
    return 1


def delete(call: Call) -> Any:
    params = call.params
    for_all = params.flag("delete_for_all")
    mailbox = call.sandbox.mailbox
    if params.has("cmids") or params.has("conversation_message_ids"):
        peer_id = params.req_int("peer_id")
        name = "cmids" if params.has("cmids") else "conversation_message_ids"
        targets = [mailbox.find(peer_id, cmid=c) for c in params.int_list(name, max_items=100)]
    else:
        ids = params.int_list("message_ids", required=True, max_items=100)
        targets = [mailbox.find(None, message_id=i) for i in ids]
    if any(t is None or t.deleted_for_all for t in targets):
        raise invalid_param("message_ids is invalid")
    messages = [t for t in targets if t is not None]
    for message in messages:
        if for_all and not message.from_bot:
            chat = call.sandbox.directory.chat(message.peer_id)
            if chat is None or not chat.bot_is_admin:
                raise VkError(924)
    for message in messages:
        message.deleted_for_all = message.deleted_for_all or for_all
        message.deleted_for_bot = True
    if params.has("message_ids"):
        return {str(m.id): 1 for m in messages}
    return [
        {
            "peer_id": m.peer_id,
            "message_id": m.visible_id,
            "conversation_message_id": m.conversation_message_id,
            "response": 1,
        }
        for m in messages
    ]


def pin(call: Call) -> dict[str, Any]:
    peer_id = call.params.req_int("peer_id")
    chat = call.sandbox.directory.chat(peer_id)
    if not is_chat(peer_id):
        raise invalid_param("peer_id: only messages in chats can be pinned by a community")
    if chat is None:
        raise VkError(917)
    if not chat.bot_is_admin:
        raise VkError(925)
    message = _target(call, peer_id)
    chat.pinned_cmid = message.conversation_message_id
    return forwarded_view(message)


def set_activity(call: Call) -> int:
    peer_id = single_peer(call)
    kind = call.params.string("type", default="typing")
    if kind not in ACTIVITY_TYPES:
        raise invalid_param("type is invalid")
    check_recipient(call.sandbox, peer_id)
    call.sandbox.mailbox.conversation(peer_id).activity = kind
    return 1


def send_message_event_answer(call: Call) -> int:
    params = call.params
    event_id = params.string("event_id", required=True, max_len=64)
    user_id = params.req_int("user_id")
    peer_id = params.req_int("peer_id")
    press = call.sandbox.mailbox.presses.get(event_id)
    if press is None or press.user_id != user_id or press.peer_id != peer_id:
        raise invalid_param("event_id is invalid")
    data = params.json_value("event_data")
    if data is not None:
        _check_event_data(data)
    call.sandbox.mailbox.snackbars.setdefault(user_id, []).append({"event_id": event_id, "event_data": data})
    return 1


def _check_event_data(data: Any) -> None:
    if not isinstance(data, dict) or data.get("type") not in EVENT_ANSWER_TYPES:
        raise invalid_param("event_data: type must be show_snackbar, open_link or open_app")
    if data["type"] == "show_snackbar":
        text = data.get("text")
        if not isinstance(text, str) or not text or len(text) > SNACKBAR_TEXT:
            raise invalid_param(f"event_data: a snackbar text is 1 to {SNACKBAR_TEXT} characters")
    if data["type"] == "open_link" and not isinstance(data.get("link"), str):
        raise invalid_param("event_data: open_link needs a link")


def get_history(call: Call) -> dict[str, Any]:
    """VK's paging (messages.getHistory on dev.vk.com): newest first, or oldest first with ``rev=1``.

    ``start_message_id`` > 0 anchors the page at that message (or the newest one before it) instead of the
    newest, and then ``offset`` may be negative to reach newer messages (``offset=-N, count=N``: the N after
    it) and ``rev`` does not apply; ``-1`` anchors at the newest and skips the unread incoming ones. ``count``
    is the whole conversation's size either way.
    """
    params = call.params
    peer_id = single_peer(call)
    own_group_id(call)
    count = count_param(call, 20, 200)
    start = params.integer("start_message_id", default=0, min_value=-1) or 0
    offset = params.integer("offset", default=0, min_value=None if start else 0) or 0
    history = call.sandbox.mailbox.history(peer_id)
    if start:
        ordered = history[::-1]
        if start == -1:
            found = call.sandbox.mailbox.conversations.get(peer_id)
            read_cmid = found.in_read_cmid if found else 0
            anchor = sum(1 for m in history if not m.from_bot and m.conversation_message_id > read_cmid)
        else:
            anchor = next((i for i, m in enumerate(ordered) if m.id <= start), len(ordered))
        first = max(anchor + offset, 0)
        page = ordered[first : max(anchor + offset + count, 0)]
    else:
        ordered = history if params.flag("rev") else history[::-1]
        page = ordered[offset : offset + count]
    answer: dict[str, Any] = {"count": len(history), "items": [m.vk_view() for m in page]}
    if params.flag("extended"):
        answer.update(extended_view(call, {m.from_id for m in page}))
    return answer


def is_messages_from_group_allowed(call: Call) -> dict[str, int]:
    own_group_id(call, required=True)
    user = call.sandbox.directory.user(call.params.req_int("user_id", min_value=1))
    allowed = user is not None and user.allow_messages and not user.deactivated
    return {"is_allowed": int(allowed)}


METHODS = {
    "messages.send": send,
    "messages.edit": edit,
    "messages.delete": delete,
    "messages.pin": pin,
    "messages.setActivity": set_activity,
    "messages.sendMessageEventAnswer": send_message_event_answer,
    "messages.getHistory": get_history,
    "messages.isMessagesFromGroupAllowed": is_messages_from_group_allowed,
}
