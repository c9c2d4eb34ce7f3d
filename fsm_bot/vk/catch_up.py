"""Catch-up: messages the event source never delivered, read back from VK and put into the inbox.

The long poll loses events for real: `failed: 3` ("information lost"), a `ts` older than VK's history
(`failed: 1` after an outage longer than VK keeps events), the very first start (whatever people wrote
before the bot existed), and in callback mode any push VK gave up on. The messages are still in VK: a
community lists its unanswered and unread conversations (`messages.getConversations`, dialogs and the
chats it is in) and reads each one's history (`messages.getHistory`), newest first, back to what the
inbox already holds or to the age limit. Each message becomes a `message_new` envelope exactly like the
long poll's, and the inbox stores it once: its key is the message's own id (fsm_bot.vk.events.message_key),
so a message both the long poll and the catch-up bring is handled once. Older messages are marked read.

A catch-up must not hold up live events (DESIGN: one person's slow work never stalls others): it runs in
a thread of its own, at a small share of the token's requests (every call also takes a slot of the
shared limiter, so together they stay within VK's limit), batches 25 calls into one `execute`, and
offers small batches only while the inbox's backlog is short, so a live event never queues behind
a thousand caught-up ones.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import VkAuthError, VkCallError
from fsm_bot.vk.events import EventSink, IncomingEvent, MalformedEvent, message_key, parse_update
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE

log = logging.getLogger(__name__)

PAGE = 200  # the most messages.getConversations and messages.getHistory return at once
RETRY_SECONDS = 30.0  # after VK or the database failed a catch-up, it is tried again this much later
# What the history cannot tell about the person's app; the long poll's own envelope says the same for any
# current client (VK_PROTOCOL.md, "Update envelope"); no lang_id, since the history does not say which app
# wrote it: the bot keeps the language it knew for the person.
CLIENT_INFO: dict[str, Any] = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
}


class CatchUpSink(EventSink, Protocol):
    """The inbox, as a catch-up uses it (fsm_bot.engine.inbox.Inbox)."""

    def known_messages(self, keys: Sequence[str]) -> set[str]:
        """Which of these message keys are stored already, waiting or handled."""
        ...

    def backlog(self) -> int:
        """How many events wait to be handled."""
        ...


class _Stopped(Exception):
    """The bot is stopping: the catch-up ends where it is (what it offered is stored)."""


@dataclass(frozen=True)
class CatchUpReport:
    """What one catch-up did, for the log and the tests."""

    conversations: int  # read back from VK
    offered: int  # messages put into the inbox (new to it)
    marked_read: int  # conversations marked read (their messages stored, or all too old to answer)
    requests: int  # VK requests it made


@dataclass(frozen=True)
class _Conversation:
    peer_id: int
    unread: bool


class CatchUp:
    """Reads what the event source missed; `request(reason)` from any thread, the work in its own.

    `share` is the catch-up's requests per second, taken from (not added to) the token's budget;
    `max_backlog` is how many events may wait in the inbox before it offers more.
    """

    def __init__(
        self,
        client: VkClient,
        group_id: int,
        sink: CatchUpSink,
        *,
        hours: float = 24.0,
        share: int = 2,
        batch: int = 10,
        max_backlog: int = 8,
        api_version: str = "5.199",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.group_id = group_id
        self.sink = sink
        self.hours = hours
        self.batch = batch
        self.max_backlog = max_backlog
        self.api_version = api_version
        self._clock = clock
        self._share = RateLimiter(share)
        self._stop = threading.Event()
        self._wanted = threading.Event()
        self._reasons: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._requests = 0
        self.idle = threading.Event()  # set while no catch-up is asked for or running (tests wait on it)
        self.idle.set()
        self.last: CatchUpReport | None = None
        self.reasons: list[str] = []  # why catch-ups were asked for, oldest first (the log says the same)

    # --- life cycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"catch-up-{self.group_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def request(self, reason: str) -> None:
        """Ask for a catch-up; requests made while one waits or runs are folded into the next one."""
        with self._lock:
            self.idle.clear()
            self.reasons.append(reason)
            if reason not in self._reasons:
                self._reasons.append(reason)
            self._wanted.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                return
            with self._lock:
                self._wanted.clear()
                reasons, self._reasons = self._reasons, []
            try:
                self.run_once("; ".join(reasons))
            except _Stopped:
                return
            except VkAuthError as error:
                log.error("catch-up stopped: %s", error)
                return
            except Exception as error:  # VK unavailable, the database down: the messages wait in VK
                if self._stop.is_set():
                    return  # the bot is stopping; the next start catches up
                log.warning(
                    "catch-up failed (%s: %s); trying again in %.0f s", type(error).__name__, error, RETRY_SECONDS
                )
                if self._stop.wait(RETRY_SECONDS):
                    return
                self.request(reasons[0] if reasons else "retry")
                continue
            with self._lock:
                if not self._wanted.is_set():
                    self.idle.set()

    # --- one catch-up

    def run_once(self, reason: str = "asked") -> CatchUpReport:
        """List, read, offer, mark read; returns what it did (also kept in `last`)."""
        self._requests = 0
        cutoff = self._clock() - self.hours * 3600
        fresh, stale = self._conversations(cutoff)
        offered = 0
        for start in range(0, len(fresh), MAX_CALLS_PER_EXECUTE):
            chunk = fresh[start : start + MAX_CALLS_PER_EXECUTE]
            offered += self._offer(self._read(chunk, cutoff))
        to_mark = [c.peer_id for c in fresh if c.unread] + stale
        self._mark_read(to_mark)
        report = CatchUpReport(len(fresh), offered, len(to_mark), self._requests)
        self.last = report
        log.info(
            "catch-up (%s): %d conversation(s) read, %d message(s) offered, %d marked read, %d request(s)",
            reason,
            report.conversations,
            report.offered,
            report.marked_read,
            report.requests,
        )
        return report

    def _conversations(self, cutoff: float) -> tuple[list[_Conversation], list[int]]:
        """Unanswered and unread conversations with a message younger than `cutoff` (to read), and the
        unread ones whose last message is older (to mark read only). VK lists the newest first."""
        fresh: dict[int, _Conversation] = {}
        stale: dict[int, None] = {}
        for kind in ("unanswered", "unread"):
            offset = 0
            while not self._stop.is_set():
                answer = self._call(
                    "messages.getConversations",
                    {"filter": kind, "offset": offset, "count": PAGE, "group_id": self.group_id},
                )
                items = answer.get("items") or []
                reached_old = False
                for item in items:
                    conversation, last = item.get("conversation") or {}, item.get("last_message") or {}
                    peer = int((conversation.get("peer") or {}).get("id", 0))
                    if not peer:
                        continue
                    unread = bool(conversation.get("unread_count", 0))
                    if int(last.get("date", 0)) >= cutoff:
                        known = fresh.get(peer)
                        fresh[peer] = _Conversation(peer, unread or (known is not None and known.unread))
                    else:
                        reached_old = True
                        if unread and peer not in fresh:
                            stale[peer] = None
                offset += len(items)
                if not items or offset >= int(answer.get("count", 0)) or (reached_old and kind == "unanswered"):
                    break
        return list(fresh.values()), [peer for peer in stale if peer not in fresh]

    def _read(self, chunk: list[_Conversation], cutoff: float) -> list[IncomingEvent]:
        """The messages of these conversations the inbox does not hold yet, each peer's oldest first."""
        found: dict[int, list[IncomingEvent]] = {c.peer_id: [] for c in chunk}
        pending = [(c.peer_id, 0) for c in chunk]
        while pending and not self._stop.is_set():
            calls = [
                ("messages.getHistory", {"peer_id": peer, "offset": offset, "count": PAGE, "group_id": self.group_id})
                for peer, offset in pending
            ]
            answers = self._execute(calls)
            more = []
            for (peer, offset), answer in zip(pending, answers, strict=True):
                if not isinstance(answer, dict):
                    log.warning("catch-up: the history of peer %d could not be read now", peer)
                    continue
                items = [m for m in answer.get("items") or [] if isinstance(m, dict)]
                young = [m for m in items if int(m.get("date", 0)) >= cutoff]
                events = [e for e in (self._event(m) for m in young) if e is not None]
                keys = [k for k in (message_key(e) for e in events) if k is not None]
                known = self.sink.known_messages(keys)
                new = [e for e in events if message_key(e) not in known]
                found[peer].extend(new)
                # Read on while this page was all young and brought something new (the gap may go further back).
                if new and len(items) == PAGE and len(young) == len(items):
                    more.append((peer, offset + PAGE))
            pending = more
        ordered: list[IncomingEvent] = []
        for events in found.values():
            ordered.extend(sorted(events, key=lambda e: (e.conversation_message_id, e.message_id)))
        return ordered

    def _event(self, message: dict[str, Any]) -> IncomingEvent | None:
        """A history message as the long poll's message_new envelope; None for ours or what cannot be read."""
        if message.get("out") == 1 or message.get("from_id") == -self.group_id:
            return None
        envelope = {
            "type": "message_new",
            "group_id": self.group_id,
            "event_id": "",
            "v": self.api_version,
            "object": {"message": message, "client_info": dict(CLIENT_INFO)},
        }
        try:
            probe = parse_update({**envelope, "event_id": "catch-up"})
        except MalformedEvent as error:
            log.warning("catch-up: skipped a message that cannot be read: %s", error)
            return None
        key = message_key(probe)
        if key is None:
            return None
        # An event id of its own (VK gives a history message none); the message key is what dedups.
        envelope["event_id"] = f"catch-up:{key.removeprefix('message:')}"[:64]
        return parse_update(envelope)

    def _offer(self, events: list[IncomingEvent]) -> int:
        """Into the inbox in small batches, each only once the backlog is short (live events go first)."""
        for start in range(0, len(events), self.batch):
            while self.sink.backlog() > self.max_backlog:
                if self._stop.wait(0.05):
                    return start
            self.sink.accept(events[start : start + self.batch])
        return len(events)

    def _mark_read(self, peers: list[int]) -> None:
        for start in range(0, len(peers), MAX_CALLS_PER_EXECUTE):
            if self._stop.is_set():
                return
            chunk = peers[start : start + MAX_CALLS_PER_EXECUTE]
            self._execute(
                [
                    (
                        "messages.markAsRead",
                        {"peer_id": peer, "group_id": self.group_id, "mark_conversation_as_read": 1},
                    )
                    for peer in chunk
                ]
            )

    # --- VK calls, paced by the catch-up's share

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        if self._share.acquire(self._stop) is None:
            raise _Stopped
        self._requests += 1
        return self.client.call(method, params)

    def _execute(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Up to 25 calls in one request; a call that failed comes back as None."""
        if len(calls) == 1:
            method, params = calls[0]
            try:
                return [self._call(method, params)]
            except VkCallError as error:
                if type(error) is not VkCallError:
                    raise
                return [None]
        code = "return [" + ",".join(f"API.{method}({json.dumps(params)})" for method, params in calls) + "];"
        if self._share.acquire(self._stop) is None:
            raise _Stopped
        self._requests += 1
        raw = self.client.call("execute", {"code": code}, raw=True)
        answers = raw.get("response") if isinstance(raw, dict) else None
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise VkCallError("execute", 0, f"unexpected execute answer: {str(answers)[:200]}")
        return [None if answer is False else answer for answer in answers]
