"""VK's random_id for our messages: from database sequences, never a hash or a fresh random number.

VK drops a message whose random_id the community already used for that peer (VK_PROTOCOL.md,
messages.send), so every id must be new for its peer, and a retry must reuse its id. Replies take
theirs from the reply outbox's row id, broadcast copies from their send batch's row id; the two
sequences could meet, so each has half of VK's positive int32 range to itself. The community's
random base (drawn once per database) keeps a fresh installation from reusing an old one's ids.
"""

from __future__ import annotations

from enum import IntEnum

HALF = 2**30  # each range holds 2**30 - 1 ids: 1 .. 2**30-1 and 2**30+1 .. 2**31-1


class RandomIdRange(IntEnum):
    REPLIES = 0
    BROADCASTS = 1


def random_id_for(base: int, sequence: int, kind: RandomIdRange) -> int:
    return kind * HALF + (base + sequence) % (HALF - 1) + 1
