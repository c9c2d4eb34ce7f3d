"""Update envelopes and the per-destination switches that decide which updates a destination gets.

The same envelope goes to the Bots Long Poll and to Callback API servers (VK_PROTOCOL.md, "Update envelope");
each destination has its own settings (``groups.setLongPollSettings`` / ``groups.setCallbackSettings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .params import Params

DEFAULT_API_VERSION = "5.199"

#: Event types VK's settings methods know (groups.setLongPollSettings / setCallbackSettings, v5.199).
EVENT_TYPES = (
    "message_new",
    "message_reply",
    "message_edit",
    "message_allow",
    "message_deny",
    "message_typing_state",
    "message_event",
    "message_reaction_event",
    "photo_new",
    "photo_comment_new",
    "photo_comment_edit",
    "photo_comment_delete",
    "photo_comment_restore",
    "audio_new",
    "video_new",
    "video_comment_new",
    "video_comment_edit",
    "video_comment_delete",
    "video_comment_restore",
    "wall_post_new",
    "wall_repost",
    "wall_reply_new",
    "wall_reply_edit",
    "wall_reply_delete",
    "wall_reply_restore",
    "board_post_new",
    "board_post_edit",
    "board_post_delete",
    "board_post_restore",
    "market_comment_new",
    "market_comment_edit",
    "market_comment_delete",
    "market_comment_restore",
    "market_order_new",
    "market_order_edit",
    "poll_vote_new",
    "group_join",
    "group_leave",
    "group_change_settings",
    "group_change_photo",
    "group_officers_edit",
    "user_block",
    "user_unblock",
    "lead_forms_new",
    "like_add",
    "like_remove",
)

#: What a bot of this project needs; on by default so a fresh sandbox works without any settings call.
DEFAULT_EVENTS = frozenset(
    {"message_new", "message_event", "message_allow", "message_deny", "group_join", "group_leave"}
)


@dataclass
class EventSettings:
    """Which updates one destination receives, and the ``v`` written into its envelopes."""

    enabled: bool = True
    api_version: str = DEFAULT_API_VERSION
    events: set[str] = field(default_factory=lambda: set(DEFAULT_EVENTS))

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events

    def update_from(self, params: Params) -> None:
        """Apply the ``enabled``, ``api_version`` and ``<event_type>=0|1`` parameters of a settings method."""
        if "enabled" in params.values:
            self.enabled = params.flag("enabled")
        if params.has("api_version"):
            self.api_version = params.string("api_version", max_len=16)
        for event_type in EVENT_TYPES:
            if event_type in params.values:
                if params.flag(event_type):
                    self.events.add(event_type)
                else:
                    self.events.discard(event_type)

    def events_view(self) -> dict[str, int]:
        return {event_type: int(event_type in self.events) for event_type in EVENT_TYPES}


def envelope(group_id: int, event_type: str, obj: dict[str, Any], event_id: str, version: str) -> dict[str, Any]:
    """One update as VK sends it (field order as in VK_PROTOCOL.md)."""
    return {"type": event_type, "group_id": group_id, "event_id": event_id, "v": version, "object": obj}
