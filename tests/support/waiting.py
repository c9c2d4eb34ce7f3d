"""Waiting without sleeping blind: `wait_until` a condition, or until the bot has `settled`.

A test that asserts "never twice" or "nothing else" needs a moment after which nothing more can
come. A fixed sleep guesses that moment (too short on a busy machine, wasted time on a quiet one);
`settled` observes it instead: every inbox event handled, nothing unsent in the reply outbox or a
broadcast queue, no dialog timeout, scheduled message or broadcast nudge already due, and the
sandbox quiet (no call that sends, edits or answers anything) for a short moment. Only then can a
copy sent twice no longer be on its way, so a duplicate would be in the conversation already.
The model is tests/support/person.py, which waits for one event that way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Dialog,
    OutgoingMessage,
    OutgoingStatus,
    ProcessedEvent,
    RecipientStatus,
    ScheduledMessage,
)
from fsm_bot.storage.repositories.dialogs import IDLE

Value = TypeVar("Value")
HANG_GUARD = 30.0  # seconds: far beyond any answer on a quiet machine; only a hang reaches it
QUIET = 0.4  # seconds without a sending call at the sandbox: the bot's loops turn several times in it
UNSENT = (OutgoingStatus.UPLOADING.value, OutgoingStatus.PENDING.value, OutgoingStatus.SENDING.value)
UNDELIVERED = (RecipientStatus.PENDING.value, RecipientStatus.SENDING.value)
# The sandbox methods that reach a person (stats()["calls"]); reads, polls and "typing..." are not activity.
SENDING_CALLS = ("messages.send", "messages.edit", "messages.delete", "messages.sendMessageEventAnswer", "messages.pin")


class BotStore(Protocol):
    """What `settled` reads: a running `Bot` has both; `store_of` gives them for a bot in another process."""

    database: Database
    community_id: int


@dataclass
class Store:
    database: Database
    community_id: int


@contextmanager
def store_of(database_url: str, community_id: int) -> Iterator[Store]:
    """The database of a bot running in another process (`BotProcess`, a cluster), to pass to `settled`."""
    database = Database(database_url)
    try:
        yield Store(database, community_id)
    finally:
        database.dispose()


def wait_until(
    condition: Callable[[], Value], timeout: float = 20.0, what: str = "condition", interval: float = 0.02
) -> Value:
    """Poll `condition` until it is truthy and return that value; fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pending_work(bot: BotStore, now: datetime | None = None) -> dict[str, int]:
    """What the bot still has to do, by kind (only the non-zero ones); empty when it has nothing left."""
    moment = now or datetime.now(UTC)
    community = bot.community_id

    def count(session: Session, query) -> int:  # type: ignore[no-untyped-def]
        return session.execute(query).scalar_one()

    def read(session: Session) -> dict[str, int]:
        counts = {
            "unhandled events": count(
                session,
                select(func.count()).where(
                    ProcessedEvent.community_id == community, ProcessedEvent.handled_at.is_(None)
                ),
            ),
            "unsent replies": count(
                session,
                select(func.count()).where(
                    OutgoingMessage.community_id == community, OutgoingMessage.status.in_(UNSENT)
                ),
            ),
            "undelivered broadcast copies": count(
                session,
                select(func.count())
                .select_from(BroadcastRecipient)
                .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
                .where(Broadcast.community_id == community, BroadcastRecipient.status.in_(UNDELIVERED)),
            ),
            "due nudges": count(
                session,
                select(func.count()).where(
                    Broadcast.community_id == community,
                    Broadcast.nudged.is_(False),
                    Broadcast.nudge_at <= moment,
                    Broadcast.status != BroadcastStatus.DELETED.value,
                ),
            ),
            "due scheduled messages": count(
                session,
                select(func.count()).where(
                    ScheduledMessage.community_id == community,
                    ScheduledMessage.sent.is_(False),
                    ScheduledMessage.due_at <= moment,
                ),
            ),
            "due dialog timeouts": count(
                session,
                select(func.count()).where(
                    Dialog.community_id == community, Dialog.flow != IDLE, Dialog.expires_at <= moment
                ),
            ),
        }
        return {kind: number for kind, number in counts.items() if number}

    return bot.database.transaction(read)


def sandbox_activity(sandbox: SandboxClient) -> tuple[int, ...]:
    """A fingerprint of everything that reached people: it changes with every send, edit or answer."""
    stats = sandbox.stats()
    return (stats["delivered"], *(stats["calls"].get(method, 0) for method in SENDING_CALLS))


def settled(bot: BotStore, sandbox: SandboxClient, *, quiet: float = QUIET, timeout: float = HANG_GUARD) -> None:
    """Return once the bot has nothing left to do and the sandbox heard nothing new for `quiet` seconds.

    The barrier before asserting "never twice" or "nothing else arrived" (see the module's docstring).
    """
    deadline = time.monotonic() + timeout
    while True:
        left = pending_work(bot)
        if not left:
            before = sandbox_activity(sandbox)
            time.sleep(quiet)
            if sandbox_activity(sandbox) == before and not pending_work(bot):
                return
        assert time.monotonic() < deadline, f"the bot did not settle in {timeout:.0f} s; still: {left or 'busy'}"
        time.sleep(0.02)


def wait_for(probe: Callable[[], Value], done: Callable[[Value], bool], what: str, timeout: float = 15.0) -> Value:
    """`wait_until` for a value: poll `probe` until `done(value)`, return it; a failure shows the last one seen."""
    seen: list[Value] = []

    def ready() -> bool:
        seen[:] = [probe()]
        return done(seen[0])

    try:
        wait_until(ready, timeout, what)
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; last seen: {seen[0]!r}"[:2000]) from None
    return seen[0]


def replanned(bot: Any, present: Iterable[str] = (), absent: Iterable[str] = (), timeout: float = 20.0) -> None:
    """Wait until the scheduler holds the jobs `present` and none of `absent`: a commit that changes reminders asks
    the leading process to re-plan after it, so the answer a person reads may come before the plan."""
    want, gone = set(present), set(absent)

    def done() -> bool:
        jobs = set(bot.scheduler.job_ids())
        return want <= jobs and not (gone & jobs)

    wait_until(done, timeout, f"jobs {sorted(want)} planned and {sorted(gone)} gone")
