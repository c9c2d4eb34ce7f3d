"""VK updates -> IncomingEvent: one shape for Long Poll and Callback API alike.

VK's envelopes differ by event type (a message's payload is a JSON string, a callback button's is
an object; a chat message has id 0 and only a conversation_message_id), and a malformed or forged
update must not crash the bot. Normalization happens once, here, and refuses what it cannot read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

# The events the bot subscribes to (VK_PROTOCOL.md, "Update envelope").
HANDLED_TYPES = frozenset(
    {
        "message_new",
        "message_event",
        "message_allow",
        "message_deny",
        "group_join",
        "group_leave",
        "message_reply",
        "message_edit",
    }
)
CHAT_PEER_OFFSET = 2_000_000_000
MAX_PAYLOAD_LENGTH = 4096
MAX_ID = 2**63 - 1  # ids are stored as BIGINT
_SIGNED_DIGITS = re.compile(r"-?[0-9]{1,19}")


class MalformedEvent(ValueError):
    """An update we cannot read: logged and dropped, never handled half-way."""


@dataclass(frozen=True)
class IncomingEvent:
    """One thing that happened in the community, as the engine sees it."""

    type: str
    event_id: str
    group_id: int
    user_id: int
    peer_id: int
    text: str = ""
    payload: dict[str, Any] | None = None
    message_id: int = 0
    conversation_message_id: int = 0
    attachments: tuple[dict[str, Any], ...] = ()
    fwd_messages: tuple[dict[str, Any], ...] = ()
    callback_event_id: str | None = None
    action: str = ""  # a chat's service message: its action type (chat_invite_user, ...)
    action_member_id: int = 0  # whom the action concerns (the invited one)
    lang_id: int | None = None  # message_new: the language of the person's VK app (client_info), if it said
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def in_chat(self) -> bool:
        return self.peer_id >= CHAT_PEER_OFFSET

    @property
    def invites_community(self) -> bool:
        """Someone added the community to this chat: VK's service message (the message object's `action`,
        type chat_invite_user) names whom it invited by `member_id`, a community by its negative id."""
        return self.in_chat and self.action == "chat_invite_user" and self.action_member_id == -self.group_id


class _Common(TypedDict):
    """The envelope's fields, the same for every kind of update."""

    type: str
    event_id: str
    group_id: int
    raw: dict[str, Any]


def _int(value: Any, name: str) -> int:
    """An id VK sends as a JSON number (sometimes as a string of digits): a signed 64-bit integer.

    Strings are ASCII digits only: int() also reads " 7", "1_0" and "١٢" (Arabic-Indic digits), and
    str.isdigit() accepts "²", which int() refuses. The bound keeps an id storable (BIGINT).
    """
    if isinstance(value, str) and _SIGNED_DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_ID <= value <= MAX_ID:
        shown = repr(value)[:64] if isinstance(value, str | int | float | None) else f"<{type(value).__name__}>"
        raise MalformedEvent(f"{name} is not a number: {shown}")
    return value


def _payload(value: Any) -> dict[str, Any] | None:
    """Button payloads: a JSON string in message_new, an object in message_event; anything else is ignored."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if len(value) > MAX_PAYLOAD_LENGTH:
            return None
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # "[[[[..." nests past the parser's recursion limit
            return None
    return value if isinstance(value, dict) else None


def _tuple_of_dicts(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, dict))


def parse_update(update: Any) -> IncomingEvent:
    """Normalize one update envelope, or raise MalformedEvent saying what is wrong with it."""
    if not isinstance(update, dict):
        raise MalformedEvent("update is not an object")
    kind = update.get("type")
    event_id = update.get("event_id")
    obj = update.get("object")
    if not isinstance(kind, str) or kind not in HANDLED_TYPES:
        raise MalformedEvent(f"unsupported event type {kind!r}")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
        raise MalformedEvent("event_id missing or malformed")
    if not isinstance(obj, dict):
        raise MalformedEvent("object missing")
    group_id = _int(update.get("group_id"), "group_id")
    common = _Common(type=kind, event_id=event_id, group_id=group_id, raw=update)

    if kind == "message_new":
        message = obj.get("message")
        if not isinstance(message, dict):
            raise MalformedEvent("message_new without a message")
        client = obj.get("client_info")
        return _from_message(message, common, client if isinstance(client, dict) else {})
    if kind in ("message_reply", "message_edit"):
        return _from_message(obj, common, {})
    if kind == "message_event":
        user_id = _int(obj.get("user_id"), "user_id")
        inner_id = obj.get("event_id")
        if not isinstance(inner_id, str) or not inner_id:
            raise MalformedEvent("message_event without its event_id")
        return IncomingEvent(
            **common,
            user_id=user_id,
            peer_id=_int(obj.get("peer_id", user_id), "peer_id"),
            payload=_payload(obj.get("payload")),
            conversation_message_id=_int(obj.get("conversation_message_id", 0), "conversation_message_id"),
            callback_event_id=inner_id,
        )
    # message_allow, message_deny, group_join, group_leave
    user_id = _int(obj.get("user_id"), "user_id")
    return IncomingEvent(**common, user_id=user_id, peer_id=user_id)


def _from_message(message: dict[str, Any], common: _Common, client_info: dict[str, Any]) -> IncomingEvent:
    from_id = _int(message.get("from_id"), "from_id")
    text = message.get("text", "")
    if not isinstance(text, str):
        raise MalformedEvent("message text is not a string")
    action = message.get("action")
    action = action if isinstance(action, dict) else {}
    action_type = action.get("type")
    invited = action.get("member_id")  # an unreadable one only means the action is not ours to act on
    invited = invited if isinstance(invited, int) and not isinstance(invited, bool) and abs(invited) <= MAX_ID else 0
    return IncomingEvent(
        **common,
        user_id=from_id,
        peer_id=_int(message.get("peer_id", from_id), "peer_id"),
        text=text,
        payload=_payload(message.get("payload")),
        message_id=_int(message.get("id", 0), "id"),
        conversation_message_id=_int(message.get("conversation_message_id", 0), "conversation_message_id"),
        attachments=_tuple_of_dicts(message.get("attachments")),
        fwd_messages=_tuple_of_dicts(message.get("fwd_messages")),
        action=action_type[:64] if isinstance(action_type, str) else "",
        action_member_id=invited,
        lang_id=lang_id
        if isinstance(lang_id := client_info.get("lang_id"), int) and not isinstance(lang_id, bool)
        else None,
    )


def message_key(event: IncomingEvent) -> str | None:
    """The natural key of a new message: the same whether the long poll, a callback push or a catch-up
    read (fsm_bot.vk.catch_up) brought it, so the inbox stores it once whichever came first.

    VK's `event_id` names one delivery of an update and a catch-up has none to repeat; a message is named
    by its id in a dialog, and in a chat by (peer, conversation_message_id), since a community sees
    `id: 0` there (VK_PROTOCOL.md, "Update envelope"). None for other events and for a message naming neither.
    """
    if event.type != "message_new":
        return None
    if not event.in_chat and event.message_id > 0:
        return f"message:{event.message_id}"
    if event.conversation_message_id > 0:
        return f"message:{event.peer_id}:{event.conversation_message_id}"
    return None


class EventSink(Protocol):
    """Where sources hand events: the engine's durable inbox (fsm_bot.engine.inbox) in the bot.

    `accept` returns only when the events are stored durably, together with the Long Poll cursor
    that follows them (None for the Callback API), so a source may forget them afterwards. Repeats of
    an event id are dropped by the sink, not the source: two callback workers may both receive one.
    """

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None: ...

    def resume_cursor(self) -> str | None:
        """The Long Poll `ts` stored with the last accepted batch, to resume after a restart."""
        ...
