"""Attachments of an incoming message, as the `attachment` strings messages.send takes back.

VK sends `{"type": "photo", "photo": {"id", "owner_id", "access_key", ...}}`; sending the same
media on needs `photo<owner_id>_<id>_<access_key>`; without the access key a private photo or
document would not open for the recipients (VK_PROTOCOL.md, messages.send).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# What messages.send can carry on (VK_PROTOCOL.md); stickers, gifts, calls and the like cannot be sent.
SENDABLE = ("photo", "video", "audio", "doc", "wall", "market", "link")
MAX_ATTACHMENTS = 10  # VK's limit per message
MAX_FORWARDS = 100  # VK forwards at most 100 messages at once


@dataclass(frozen=True)
class Attachments:
    strings: tuple[str, ...]  # for messages.send's `attachment`
    links: tuple[str, ...]  # link attachments travel as URLs in the text
    unsupported: tuple[str, ...]  # types we cannot send on (sticker, gift, ...)


def read_attachments(items: Iterable[dict[str, Any]]) -> Attachments:
    strings, links, unsupported = [], [], []
    for item in items:
        kind = item.get("type")
        body = item.get(kind) if isinstance(kind, str) else None
        if not isinstance(body, dict):
            unsupported.append(str(kind))
            continue
        if kind == "link":
            if isinstance(body.get("url"), str):
                links.append(body["url"])
            continue
        if kind not in SENDABLE or "id" not in body or "owner_id" not in body:
            unsupported.append(str(kind))
            continue
        text = f"{kind}{body['owner_id']}_{body['id']}"
        if body.get("access_key"):
            text += f"_{body['access_key']}"
        strings.append(text)
    return Attachments(tuple(strings), tuple(links), tuple(unsupported))
