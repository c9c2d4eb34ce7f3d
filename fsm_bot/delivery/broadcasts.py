"""The broadcast outbox: one row per recipient, sent part by part in peer_ids batches of 100.

A batch's random_id comes from its own row in send_batch and is written to its recipients before
the request leaves, so a resend after a crash carries the same id and VK drops the copies it has
already delivered: the delivery log shows each recipient once (tests/delivery, kill -9).

A part may carry a keyboard per language (KEYBOARDS: the «Ознакомлен» button in each recipient's
language); its recipients are then batched by their language at the claim, a few batches rather than one,
each with its own random_id as ever. A language changed between a batch and its retry changes only the
button of a copy VK has not delivered yet.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy.orm import Session

from fsm_bot.delivery.sender import MAX_ATTEMPTS, Claimed, Delivery, RetryAt
from fsm_bot.storage.models import RecipientStatus
from fsm_bot.storage.repositories import BroadcastQueueRepository, MemberRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.vk.errors import Outcome
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_PEERS_PER_CALL, MessageContent, SendUnit
from fsm_bot.vk.sending import PeerResult, fit_execute

log = logging.getLogger(__name__)

CLAIM_LIMIT = MAX_CALLS_PER_EXECUTE * MAX_PEERS_PER_CALL  # one request's worth: 2,500 copies
PARTS_CACHED = 64  # broadcasts whose parts the queue keeps at hand
SIZING_RANDOM_ID = 2**31 - 1  # the longest a random_id can be written, for sizing a batch before it has one
ClaimRow = tuple[int, int, int, int, int, int]  # id, broadcast, vk_id, part, attempts, random_id
KEYBOARDS = "keyboards"  # a part's keyboard per locale ("" for readers whose language is not known)

_FINAL = {
    Outcome.CANNOT_RECEIVE: RecipientStatus.CANNOT_RECEIVE,
}


def _renderable(content: MessageContent) -> MessageContent:
    if not isinstance(content.text, str) or not (content.text.strip() or content.attachment or content.forward):
        raise ValueError("has nothing to send")
    return content


def _why(error: Exception) -> str:
    return str(error) if isinstance(error, ValueError) else f"is missing or malformed ({type(error).__name__})"


def keyboard_for(part: Mapping[str, Any], locale: str | None) -> str | None:
    """The part's keyboard for a reader of `locale` (None: unknown, the bot's default language): their
    language's if the part has one per language, else the one keyboard every reader gets."""
    by_locale = part.get(KEYBOARDS)
    if isinstance(by_locale, dict) and isinstance(by_locale.get(locale or ""), str):
        return str(by_locale[locale or ""])
    return part.get("keyboard")


def _per_language(parts: list[dict] | None, index: int) -> bool:
    """Whether part `index` has a keyboard per language (its recipients are then batched by language)."""
    if not isinstance(parts, list) or not 0 <= index < len(parts):  # a broken row is set aside later
        return False
    return isinstance(parts[index], dict) and KEYBOARDS in parts[index]


def part_content(part: dict) -> MessageContent:
    return MessageContent(
        text=part.get("text", ""),
        keyboard=part.get("keyboard"),
        attachment=part.get("attachment"),
        forward=part.get("forward"),
    )


class BroadcastQueue:
    """The Sender's view of one community's broadcasts."""

    name = "broadcasts"

    def __init__(self, community_id: int) -> None:
        self.community_id = community_id
        # A broadcast's parts are fixed once its confirming transaction commits; claims and settles
        # of a 10,000-copy delivery would otherwise read them again for every request.
        self._parts: OrderedDict[int, list[dict]] = OrderedDict()
        self._parts_lock = threading.Lock()

    def _parts_of(self, broadcasts: BroadcastQueueRepository, broadcast_ids: Iterable[int]) -> dict[int, list[dict]]:
        wanted = set(broadcast_ids)
        with self._parts_lock:
            known = {b: self._parts[b] for b in wanted if b in self._parts}
        missing = wanted - known.keys()
        if missing:
            fetched = broadcasts.parts(missing)
            with self._parts_lock:
                self._parts.update(fetched)
                while len(self._parts) > PARTS_CACHED:
                    self._parts.popitem(last=False)
            known.update(fetched)
        return known

    def _contents(
        self, broadcasts: BroadcastQueueRepository, wanted: set[tuple[int, int]]
    ) -> dict[tuple[int, int], MessageContent]:
        """The message of each (broadcast, part) to be sent. A broadcast that cannot become one (no
        parts, a part that is not a message) is set aside as failed here, in the claim's transaction,
        so one bad row never stops the queue for everyone else's broadcasts."""
        parts = self._parts_of(broadcasts, {b for b, _ in wanted})
        contents, broken = {}, {}
        for broadcast_id, part in wanted:
            try:
                contents[(broadcast_id, part)] = _renderable(part_content(parts[broadcast_id][part]))
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
                broken[broadcast_id] = f"cannot be sent: part {part + 1} {_why(error)}"
        for broadcast_id, reason in broken.items():
            log.error("broadcast %d %s; set aside as failed", broadcast_id, reason)
            broadcasts.set_aside([broadcast_id], reason)
        return {key: content for key, content in contents.items() if key[0] not in broken}

    def _readers(
        self, session: Session, broadcasts: BroadcastQueueRepository, rows: Sequence[ClaimRow]
    ) -> dict[int, str]:
        """The locale ("" unknown) of each recipient whose next part has a keyboard per language, in one
        query; recipients of other parts are not looked up. Rows are (id, broadcast, vk_id, part, ...)."""
        parts = self._parts_of(broadcasts, {row[1] for row in rows})
        per_language = {
            (b, part) for b, part in {(row[1], row[3]) for row in rows} if _per_language(parts.get(b), part)
        }
        wanted = [row[2] for row in rows if (row[1], row[3]) in per_language] if per_language else []
        if not wanted:
            return {}
        locales = MemberRepository(session, self.community_id).locales(wanted)
        return {vk_id: locale or "" for vk_id, locale in locales.items()}

    def requeue_interrupted(self, session: Session, expired_before: datetime | None = None) -> int:
        return BroadcastQueueRepository(session, self.community_id).requeue_interrupted(expired_before)

    def has_work(self, session: Session, now: datetime) -> bool:
        return BroadcastQueueRepository(session, self.community_id).has_claimable(now)

    def claim(self, session: Session, busy_peers: set[int], lease_until: datetime) -> tuple[list[Claimed], bool]:
        broadcasts = BroadcastQueueRepository(session, self.community_id)
        # Rows in flight are marked sending and not fetched; one more than a request holds says
        # whether more is waiting, without another look (and another rate-limit slot) to find out.
        rows = broadcasts.claimable(utcnow(), CLAIM_LIMIT + 1, lock=True)
        # Plain tuples (id, broadcast, vk_id, part, attempts, random_id): a claim walks 2,500 of them
        # on the delivery's critical path, and a Row's attribute access costs several times a tuple's.
        usable_rows = cast(list[ClaimRow], [tuple(row) for row in rows if row.vk_id not in busy_peers])
        readers = self._readers(session, broadcasts, usable_rows)
        groups: dict[tuple[int, int, int, str | None], list[ClaimRow]] = defaultdict(list)
        for row in usable_rows:
            # A batch tried before keeps its random_id, so its retry is dropped where it arrived.
            groups[(row[1], row[3], row[5] if row[4] else 0, readers.get(row[2]))].append(row)
        chunks = [
            (key, group[start : start + MAX_PEERS_PER_CALL])
            for key, group in groups.items()
            for start in range(0, len(group), MAX_PEERS_PER_CALL)
        ][:MAX_CALLS_PER_EXECUTE]
        contents = self._contents(broadcasts, {(b, part) for (b, part, _, _), _ in chunks})
        chunks = [chunk for chunk in chunks if (chunk[0][0], chunk[0][1]) in contents]
        parts = self._parts_of(broadcasts, {b for (b, _, _, _), _ in chunks})

        def content(broadcast_id: int, part: int, locale: str | None) -> MessageContent:
            found = contents[(broadcast_id, part)]
            if locale is None:
                return found
            return replace(found, keyboard=keyboard_for(parts[broadcast_id][part], locale))

        sizing = [
            SendUnit(tuple(row[2] for row in chunk), random_id or SIZING_RANDOM_ID, content(b, part, locale))
            for (b, part, random_id, locale), chunk in chunks
        ]
        count = fit_execute(sizing)  # a long part to 100 peers fills the code before 25 calls do
        chunks, sizing = chunks[:count], sizing[:count]
        fresh = iter(broadcasts.new_random_ids([(b, part) for (b, part, random_id, _), _ in chunks if not random_id]))
        claimed = []
        for ((broadcast_id, part, random_id, _), chunk), unit in zip(chunks, sizing, strict=True):
            claimed.append(
                Claimed(
                    unit if random_id else replace(unit, random_id=next(fresh)),
                    {row[2]: row[0] for row in chunk},
                    max(row[4] for row in chunk) + 1,
                    owner=broadcast_id,
                    stage=part,
                )
            )
        broadcasts.mark_sending([(list(item.row_ids.values()), item.unit.random_id) for item in claimed], lease_until)
        taken = sum(len(item.row_ids) for item in claimed)
        return claimed, taken < len(usable_rows)

    def settle(
        self, session: Session, claimed: Sequence[Claimed], results: Sequence[list[PeerResult]], retry_at: RetryAt
    ) -> list[Delivery]:
        broadcasts = BroadcastQueueRepository(session, self.community_id)
        delivered: dict[int, list[int]] = defaultdict(list)  # part -> rows it reached
        retry: list[int] = []
        deliveries = []
        for item, unit_results in zip(claimed, results, strict=True):
            for result in unit_results:
                row_id = item.row_ids[result.peer_id]
                if result.outcome is Outcome.SENT:
                    delivered[item.stage].append(row_id)
                elif result.outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
                    retry.append(row_id)
                else:
                    status = _FINAL.get(result.outcome, RecipientStatus.FAILED)
                    broadcasts.give_up(row_id, status, result.error_code, result.error, part=item.stage)
                    deliveries.append(
                        Delivery(
                            self.name, row_id, result.peer_id, result.outcome, None, result.error_code, result.error
                        )
                    )
        touched = {item.owner for item in claimed if item.owner is not None}
        parts = self._parts_of(broadcasts, touched)
        broadcasts.part_delivered(delivered, {broadcast_id: len(p) for broadcast_id, p in parts.items()})
        if retry:
            broadcasts.retry_later(retry, retry_at(max(item.attempts for item in claimed)))
        broadcasts.touch(touched)
        return deliveries

    def release(self, session: Session, row_ids: Sequence[int], not_before: datetime | None) -> None:
        BroadcastQueueRepository(session, self.community_id).retry_later(row_ids, not_before or utcnow())
