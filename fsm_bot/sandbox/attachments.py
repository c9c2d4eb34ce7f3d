"""The ``attachment`` parameter (``<type><owner_id>_<id>[_<access_key>]``, comma separated); safe links in objects."""

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


#: Fields of VK objects that hold a link: ``url`` (docs, photo sizes, links), ``src`` (doc previews),
#: ``photo_130`` and the like (older photo sizes), ``*_url`` (``preview_url``, ``upload_url``, ...).
_URL_FIELDS = frozenset({"url", "src", "link", "href", "player"})
#: What the playground may make a link or an image of: http(s) URLs, or a path on the sandbox itself
#: (``/upload/files/...``). ``javascript:``, ``data:``, ``vbscript:``... would run or render in its page.
_SAFE_URL = re.compile(r"(?i:https?)://[^\x00-\x20\x7f]*|/(?![/\\])[^\x00-\x1f\x7f]*|")


def _is_url_field(name: str) -> bool:
    return name in _URL_FIELDS or name.endswith("_url") or name.startswith("photo_")


def unsafe_url(value: Any, where: str) -> str | None:
    """The first link in ``value`` (an attachment or a message object, walked to any depth) that is not an
    http(s) URL or a sandbox path, as ``"<path>: <url>"``; None when all are safe."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}"
                if isinstance(child, str) and _is_url_field(str(key)) and not _SAFE_URL.fullmatch(child):
                    return f"{name}: {child[:100]!r}"
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None
