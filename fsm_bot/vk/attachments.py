"""Attachments of an incoming message, as the `attachment` strings messages.send takes back.

VK sends `{"type": "photo", "photo": {"id", "owner_id", "access_key", ...}}`; sending the same
media on needs `photo<owner_id>_<id>_<access_key>`; without the access key a private photo or
document would not open for the recipients (VK_PROTOCOL.md, messages.send).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# What messages.send can carry on (VK_PROTOCOL.md; a native `poll` too, as poll<owner_id>_<id>); stickers, gifts,
# calls and the like cannot be sent.
SENDABLE = ("photo", "video", "audio", "doc", "wall", "market", "poll", "link")
MAX_ATTACHMENTS = 10  # VK's limit per message
MAX_FORWARDS = 100  # VK forwards at most 100 messages at once
MAX_ID = 2**63 - 1  # VK's ids are 64-bit integers
_SIGNED_DIGITS = re.compile(r"-?[0-9]{1,19}")  # not str.isdigit(): it accepts "²", and int() reads "١"
_ACCESS_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # VK's keys are hex; nothing that could separate parts


@dataclass(frozen=True)
class Attachments:
    strings: tuple[str, ...]  # for messages.send's `attachment`
    links: tuple[str, ...]  # link attachments travel as URLs in the text
    unsupported: tuple[str, ...]  # types we cannot send on (sticker, gift, ...)


def read_attachments(items: Iterable[dict[str, Any]]) -> Attachments:
    strings: list[str] = []
    links: list[str] = []
    unsupported: list[str] = []
    for item in items:
        kind = item.get("type")
        body = item.get(kind) if isinstance(kind, str) else None
        if not isinstance(kind, str) or not isinstance(body, dict):
            unsupported.append(str(kind))
            continue
        if kind == "link":
            if isinstance(body.get("url"), str):
                links.append(body["url"])
            continue
        text = _attachment_string(kind, body) if kind in SENDABLE else None
        if text is None:
            unsupported.append(kind)
            continue
        strings.append(text)
    return Attachments(tuple(strings), tuple(links), tuple(unsupported))


def _attachment_string(kind: str, body: dict[str, Any]) -> str | None:
    """`doc<owner_id>_<id>[_<access_key>]`, or None when a part is not the shape VK gives it.

    messages.send reads `attachment` as a comma-separated list, so a part copied verbatim could add
    media of its own choosing: an id of "1,wall1_1" would forward a wall post as well.
    """
    owner_id = _number(body.get("owner_id"))
    item_id = _number(body.get("id"))
    if owner_id is None or item_id is None or item_id < 0:
        return None
    text = f"{kind}{owner_id}_{item_id}"
    access_key = body.get("access_key")
    if access_key is None or access_key == "":
        return text
    if not isinstance(access_key, str) or not _ACCESS_KEY.fullmatch(access_key):
        return None
    return f"{text}_{access_key}"


def _number(value: Any) -> int | None:
    """A signed 64-bit id: a JSON number, or a string of ASCII digits (bools are not numbers)."""
    if isinstance(value, str) and _SIGNED_DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_ID <= value <= MAX_ID:
        return None
    return value
