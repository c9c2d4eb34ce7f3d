"""The ``attachment`` parameter: a comma list of ``<type><owner_id>_<id>[_<access_key>]``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import invalid_param

MAX_ATTACHMENTS = 10  # VK: at most 10 attachments per message
_ATTACHMENT = re.compile(
    r"(photo|video|audio|doc|wall|market|poll|audio_playlist|market_album|wall_reply|story|article|podcast"
    r"|clip|narrative|graffiti|audio_message|sticker|link)(-?\d{1,19})_(\d{1,19})(?:_([A-Za-z0-9]{1,64}))?"
)

Lookup = Callable[[str, int, int], dict[str, Any] | None]


def parse_attachments(raw: str, lookup: Lookup) -> list[dict[str, Any]]:
    """Attachment objects as VK shows them in messages; ``lookup`` finds what the sandbox stored (uploads)."""
    items = [part.strip() for part in raw.split(",") if part.strip()]
    if len(items) > MAX_ATTACHMENTS:
        raise invalid_param(f"attachment: at most {MAX_ATTACHMENTS} attachments")
    attachments = []
    for item in items:
        match = _ATTACHMENT.fullmatch(item)
        if match is None:
            raise invalid_param(f"attachment {item[:100]!r} is invalid")
        kind, owner_id, item_id, access_key = match.groups()
        obj = lookup(kind, int(owner_id), int(item_id))
        if obj is None:
            obj = {"id": int(item_id), "owner_id": int(owner_id)}
            if access_key:
                obj["access_key"] = access_key
        attachments.append({"type": kind, kind: obj})
    return attachments
