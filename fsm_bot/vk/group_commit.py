"""Callback pushes stored together: every push waits for its event to be durable before VK hears «ok», and
with many pushes in flight one transaction per push was most of the bot's work per event (bench/scale.py).

Leader and followers, no thread of its own: the first push to find nobody writing writes everything waiting
then, in one `accept`; pushes arriving meanwhile wait and go in the next write, together. Each push returns
(or raises) only when the write that held its event committed (or failed), so the promise of `accept` holds
for every caller: «ok» means stored, an error means VK must offer it again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from fsm_bot.vk.events import EventSink, IncomingEvent


@dataclass
class _Ticket:
    events: Sequence[IncomingEvent]
    done: bool = False
    error: BaseException | None = None


class GroupCommitSink:
    """An EventSink that stores concurrent cursor-less `accept`s in one call to the sink it wraps."""

    def __init__(self, sink: EventSink, most: int = 200) -> None:
        self._sink = sink
        self._most = most  # events in one write at most, so one write stays short
        self._changed = threading.Condition()
        self._waiting: list[_Ticket] = []
        self._writing = False

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        if cursor is not None:
            self._sink.accept(events, cursor)  # a Long Poll batch comes with its cursor: already one write
            return
        ticket = _Ticket(events)
        with self._changed:
            self._waiting.append(ticket)
            self._changed.wait_for(lambda: ticket.done or not self._writing)
            if not ticket.done:
                batch = self._take()
        if not ticket.done:
            self._write(batch)
        if ticket.error is not None:
            raise ticket.error

    def _take(self) -> list[_Ticket]:
        """The waiting pushes, up to `most` events, oldest first (the lock held); this caller now writes."""
        batch: list[_Ticket] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0].events) <= self._most):
            ticket = self._waiting.pop(0)
            batch.append(ticket)
            size += len(ticket.events)
        self._writing = True
        return batch

    def _write(self, batch: list[_Ticket]) -> None:
        error: BaseException | None = None
        try:
            self._sink.accept([event for ticket in batch for event in ticket.events])
        except Exception as failure:  # every push of the write is told: VK offers each again
            error = failure
        with self._changed:
            for ticket in batch:
                ticket.done, ticket.error = True, error
            self._writing = False
            self._changed.notify_all()

    def resume_cursor(self) -> str | None:
        return self._sink.resume_cursor()
