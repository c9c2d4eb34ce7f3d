"""Outgoing messages as VK's messages.send takes them, and splitting texts that are too long."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CHAT_PEER_OFFSET = 2_000_000_000
MAX_TEXT_LENGTH = 4096  # longer: error 914 (VK_PROTOCOL.md)
MAX_PEERS_PER_CALL = 100
MAX_CALLS_PER_EXECUTE = 25
# The sandbox refuses execute code over 65,536 characters; VK documents no figure we could find,
# so stay a little under the one we know is enforced somewhere.
MAX_EXECUTE_CODE = 60_000


@dataclass(frozen=True)
class MessageContent:
    """What one message says and carries; the same content can go to many peers in one call."""

    text: str = ""
    keyboard: str | None = None  # JSON string, as VK takes it
    attachment: str | None = None  # "photo1_2_key,doc3_4"
    forward: str | None = None  # JSON string {peer_id, conversation_message_ids, is_reply}
    options: Mapping[str, Any] = field(default_factory=dict)  # dont_parse_links, disable_mentions, ...

    def key(self) -> tuple[Any, ...]:
        """Identity for batching identical messages into one peer_ids call."""
        return (self.text, self.keyboard, self.attachment, self.forward, json.dumps(dict(self.options), sort_keys=True))

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"message": self.text}
        if self.keyboard is not None:
            params["keyboard"] = self.keyboard
        if self.attachment:
            params["attachment"] = self.attachment
        if self.forward:
            params["forward"] = self.forward
        params.update(self.options)
        return params


@dataclass(frozen=True)
class SendUnit:
    """One messages.send call: one content to up to 100 peers under one random_id."""

    peer_ids: tuple[int, ...]
    random_id: int
    content: MessageContent

    def __post_init__(self) -> None:
        if not 1 <= len(self.peer_ids) <= MAX_PEERS_PER_CALL:
            raise ValueError(f"a send goes to 1..{MAX_PEERS_PER_CALL} peers, not {len(self.peer_ids)}")

    @property
    def uses_peer_ids(self) -> bool:
        # A chat's message is known to a community only by its conversation_message_id, which only
        # the peer_ids form of the answer carries (the peer_id form answers 0 in chats).
        return len(self.peer_ids) > 1 or self.peer_ids[0] > CHAT_PEER_OFFSET

    def params(self) -> dict[str, Any]:
        params = self.content.params()
        params["random_id"] = self.random_id
        if self.uses_peer_ids:
            params["peer_ids"] = ",".join(str(peer) for peer in self.peer_ids)
        else:
            params["peer_id"] = self.peer_ids[0]
        return params


_BREAKS = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"\n"),  # lines
    re.compile(r"(?<=[.!?…])\s+"),  # sentences
    re.compile(r"\s+"),  # words
)


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into parts of at most `limit` characters at the most natural boundary.

    Paragraphs first, then lines, sentences, words; a single word longer than the limit
    (a huge link) is cut where it must be. Nothing is dropped but the whitespace at a cut.
    """
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest or not parts:
        parts.append(rest)
    return parts


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for pattern in _BREAKS:
        ends = [match.start() for match in pattern.finditer(window) if 0 < match.start() <= limit]
        # Prefer a boundary in the second half, so a paragraph break near the start does not
        # leave a tiny first part followed by many.
        good = [end for end in ends if end >= limit // 2]
        if good:
            return good[-1]
    return limit
