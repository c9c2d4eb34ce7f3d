"""``messages.send``: one peer or up to 100 ``peer_ids``, with VK's checks, ``random_id`` dedup and 901s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..attachments import parse_attachments
from ..errors import VkError, invalid_param
from ..keyboard import parse_keyboard
from ..model import CHAT_PEER_BASE, Message, is_chat
from ..params import INT32_MAX, INT32_MIN
from ..state import Sandbox
from .base import Call

MAX_TEXT = 4096
MAX_PEERS = 100
FORWARDED_FIELDS = ("id", "date", "from_id", "text", "attachments", "conversation_message_id", "peer_id")
MAX_FORWARD_DEPTH = 45  # VK's message object: "fwd_messages" nest at most 45 levels


@dataclass
class Content:
    """What one ``messages.send`` (or ``messages.edit``) puts into a message."""

    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    fwd_messages: list[dict[str, Any]] = field(default_factory=list)
    reply_message: dict[str, Any] | None = None
    keyboard: dict[str, Any] | None = None
    payload: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.text or self.attachments or self.fwd_messages)


def forwarded_view(message: Message) -> dict[str, Any]:
    """A message as it appears inside ``fwd_messages`` / ``reply_message``.

    A forwarded message keeps its own forwards (VK nests them), so forwarding a message that
    carries forwards passes them on, down to VK's 45 levels: without that bound a bot forwarding its
    last message again and again would nest the chain until encoding an answer overflowed the stack.
    """
    view = message.vk_view()
    nested = {key: view[key] for key in FORWARDED_FIELDS}
    inner = _trimmed(view.get("fwd_messages") or [], MAX_FORWARD_DEPTH - 1)
    if inner:
        nested["fwd_messages"] = inner
    return nested


def _trimmed(messages: list[Any], levels: int) -> list[Any]:
    """``messages`` with their forwards cut ``levels`` levels down (recursion bounded by ``levels``)."""
    if levels <= 0:
        return []
    kept = []
    for message in messages:
        if isinstance(message, dict) and message.get("fwd_messages"):
            inner = _trimmed(message["fwd_messages"], levels - 1) if isinstance(message["fwd_messages"], list) else []
            message = {key: value for key, value in message.items() if key != "fwd_messages"}
            if inner:
                message["fwd_messages"] = inner
        kept.append(message)
    return kept


def read_text(call: Call) -> str:
    text = call.params.string("message")
    if len(text) > MAX_TEXT:
        raise VkError(914)
    return text


def read_keyboard(call: Call) -> dict[str, Any] | None:
    return parse_keyboard(call.params.values["keyboard"]) if call.params.has("keyboard") else None


def read_attachments(call: Call) -> list[dict[str, Any]]:
    return parse_attachments(call.params.string("attachment"), call.sandbox.uploads.lookup)


def read_content(call: Call, target_peer: int | None) -> Content:
    """Check everything about the message itself, before any recipient (VK checks 914/911 first)."""
    params = call.params
    content = Content(
        text=read_text(call),
        keyboard=read_keyboard(call),
        attachments=read_attachments(call),
        payload=params.string("payload", max_len=1000) or None,
    )
    sticker_id = params.integer("sticker_id", min_value=1)
    if sticker_id:
        content.attachments.append({"type": "sticker", "sticker": {"sticker_id": sticker_id}})
    mailbox = call.sandbox.mailbox
    for message_id in params.int_list("forward_messages", max_items=100):
        found = mailbox.find(None, message_id=message_id)
        if found is None:
            raise invalid_param("forward_messages is invalid")
        content.fwd_messages.append(forwarded_view(found))
    reply_to = params.integer("reply_to", min_value=1)
    if reply_to:
        found = mailbox.find(target_peer, message_id=reply_to)
        if found is None:
            raise invalid_param("reply_to is invalid")
        content.reply_message = forwarded_view(found)
    if params.has("forward"):
        _read_forward(call, target_peer, content)
    if content.empty and content.reply_message is None:
        raise invalid_param("message is empty or invalid")
    return content


def _read_forward(call: Call, target_peer: int | None, content: Content) -> None:
    """``forward``: JSON ``{peer_id, conversation_message_ids | message_ids, is_reply}``."""
    spec = call.params.json_value("forward")
    if not isinstance(spec, dict):
        raise invalid_param("forward is invalid")
    peer_id = spec.get("peer_id", target_peer)
    cmids = spec.get("conversation_message_ids") or []
    ids = spec.get("message_ids") or []
    refs = [*cmids, *ids] if isinstance(cmids, list) and isinstance(ids, list) else None
    if not isinstance(peer_id, int) or not refs or not all(type(r) is int for r in refs):
        raise invalid_param("forward is invalid")
    mailbox = call.sandbox.mailbox
    found = [mailbox.find(peer_id, cmid=c) for c in cmids] + [mailbox.find(peer_id, message_id=i) for i in ids]
    if any(m is None for m in found):
        raise invalid_param("forward: message not found")
    views = [forwarded_view(m) for m in found if m is not None]
    if spec.get("is_reply"):
        if len(views) != 1:
            raise invalid_param("forward: a reply names exactly one message")
        content.reply_message = views[0]
    else:
        content.fwd_messages.extend(views)


def check_recipient(sandbox: Sandbox, peer_id: int) -> None:
    """Raise VK's error for a peer the community cannot write to."""
    if is_chat(peer_id):
        if sandbox.directory.chat(peer_id) is None:
            raise VkError(917)
        return
    user = sandbox.directory.user(peer_id) if peer_id > 0 else None
    if user is None:
        raise invalid_param("peer_id is invalid")
    if user.deactivated:
        raise VkError(18)
    if not user.allow_messages:
        raise VkError(901)


def deliver(sandbox: Sandbox, peer_id: int, random_id: int, content: Content) -> Message:
    """Put one copy into the peer's conversation, or find the earlier copy a repeated random_id names."""
    check_recipient(sandbox, peer_id)
    earlier = sandbox.mailbox.already_sent(peer_id, random_id)
    if earlier is not None:
        sandbox.stats.deduplicated += 1
        return earlier
    message = sandbox.mailbox.add(
        peer_id,
        -sandbox.community.group_id,
        text=content.text,
        random_id=random_id,
        attachments=list(content.attachments),
        fwd_messages=list(content.fwd_messages),
        reply_message=content.reply_message,
        keyboard=content.keyboard,
        payload=content.payload,
    )
    sandbox.stats.delivered += 1
    if sandbox.wants("message_reply"):  # off by default; skip building the view for nobody
        sandbox.emit("message_reply", message.vk_view())
    return message


def single_peer(call: Call) -> int:
    params = call.params
    for name in ("peer_id", "user_id"):
        if params.has(name):
            return params.req_int(name)
    if params.has("chat_id"):
        return CHAT_PEER_BASE + params.req_int("chat_id", min_value=1)
    raise invalid_param("peer_id is undefined")


def send(call: Call) -> Any:
    params = call.params
    random_id = params.req_int("random_id", min_value=INT32_MIN, max_value=INT32_MAX)
    if params.has("peer_ids"):
        peers = list(dict.fromkeys(params.int_list("peer_ids", max_items=MAX_PEERS)))
        content = read_content(call, None)
        return [_send_to_one_of_many(call.sandbox, peer, random_id, content) for peer in peers]
    peer_id = single_peer(call)
    content = read_content(call, peer_id)
    return deliver(call.sandbox, peer_id, random_id, content).visible_id


def _send_to_one_of_many(sandbox: Sandbox, peer_id: int, random_id: int, content: Content) -> dict[str, Any]:
    """One item of a ``peer_ids`` answer; errors are per peer (``{code, description}``, per VK's schema)."""
    try:
        message = deliver(sandbox, peer_id, random_id, content)
    except VkError as error:
        return {
            "peer_id": peer_id,
            "message_id": 0,
            "conversation_message_id": 0,
            "error": {"code": error.code, "description": error.message},
        }
    return {
        "peer_id": peer_id,
        "message_id": message.visible_id,
        "conversation_message_id": message.conversation_message_id,
    }
