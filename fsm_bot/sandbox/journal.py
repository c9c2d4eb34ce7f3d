"""A short, numbered journal of what happened at VK's side, for the playground's event log.

``/sandbox/stats`` says how much happened; the journal says what, in order: each API request and how it
ended (answered, a VK error, an injected fault), each update the sandbox emitted, what the long poll
handed out or failed with, and the faults and resets asked for through the control API. Entries are
structured (the page words them), numbered by ``seq`` so a page polling every second asks only for what
is new, and bounded: the sandbox must not grow without limit during a benchmark.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from typing import Any

JOURNAL_SIZE = 500  # entries kept; a page that falls further behind simply misses the oldest ones
MAX_ANSWER = 200  # entries in one answer of `since`
RECIPIENT_KEYS = ("peer_id", "user_id", "chat_id", "peer_ids", "user_ids")
TEXT_PREVIEW = 80
SHOWN_RECIPIENTS = 5  # a 100-peer send keeps the first few ids and the count
_ID = re.compile(r"-?[0-9]{1,19}", re.ASCII)


class Journal:
    """Recent entries and error counters; ``seq`` keeps growing across :meth:`clear` like long poll ``ts``."""

    def __init__(self, size: int = JOURNAL_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self.seq = 0
        self.errors: Counter[str] = Counter()  # API answers that were not a response, by VK code or fault kind

    def clear(self) -> None:
        """Forget entries and counters (a sandbox reset); numbering goes on so pollers notice nothing odd."""
        self._entries.clear()
        self.errors.clear()

    def record(self, kind: str, **fields: Any) -> None:
        self.seq += 1
        self._entries.append({"seq": self.seq, "time": round(time.time(), 3), "kind": kind, **fields})

    def since(self, seq: int, limit: int = MAX_ANSWER) -> list[dict[str, Any]]:
        """Entries numbered after ``seq``, oldest first, at most the newest ``limit`` of them."""
        fresh = [entry for entry in self._entries if entry["seq"] > seq]
        return fresh[-limit:]

    def api_call(
        self,
        method: str,
        values: dict[str, str],
        *,
        error: int | None = None,
        fault: int | str | None = None,
        calls: dict[str, int] | None = None,
        inner_errors: int = 0,
    ) -> None:
        """One ``/method/`` request: who it was for (recipients), and how it ended."""
        fields: dict[str, Any] = {"method": method}
        recipients = _recipients(values)
        if recipients:
            fields["recipients"] = recipients[:SHOWN_RECIPIENTS]
            fields["recipient_count"] = len(recipients)
        if calls:
            fields["calls"] = calls
        if inner_errors:
            fields["inner_errors"] = inner_errors
        if error is not None:
            fields["error"] = error
            self.errors[str(error)] += 1
        if fault is not None:
            fields["fault"] = fault
            if not isinstance(fault, int):
                self.errors[str(fault)] += 1
        self.record("api", **fields)

    def update(self, event_type: str, obj: dict[str, Any], wanted: bool) -> None:
        """An update the sandbox emitted; ``wanted``: whether any destination (long poll, callback) takes it."""
        fields: dict[str, Any] = {"type": event_type, "wanted": wanted}
        message = obj.get("message")
        if isinstance(message, dict):
            fields["user_id"] = message.get("from_id")
            fields["peer_id"] = message.get("peer_id")
            text = str(message.get("text") or "")
            if text:
                fields["text"] = text[:TEXT_PREVIEW]
            if message.get("attachments"):
                fields["attachments"] = len(message["attachments"])
            if message.get("fwd_messages"):
                fields["forwarded"] = len(message["fwd_messages"])
        elif "user_id" in obj:
            fields["user_id"] = obj["user_id"]
        if isinstance(obj.get("payload"), dict | list):
            fields["callback"] = True
        self.record("update", **fields)

    def counts(self) -> dict[str, Any]:
        return {"errors": sum(self.errors.values()), "by_kind": dict(self.errors)}


def _recipients(values: dict[str, str]) -> list[int] | None:
    """The peers a request names (messages.send, messages.edit, ...), or None for requests that name none."""
    for key in RECIPIENT_KEYS:
        raw = values.get(key)
        if not raw:
            continue
        # ASCII digits only: str.isdigit() also accepts "¹" or "٣", which int() refuses (found by test_fuzz)
        ids = [int(part) for part in raw.split(",") if _ID.fullmatch(part.strip())]
        if ids:
            return ids
    return None
