"""Queues for lab defence and consultations, as flows ask for them (`ctx.services.queues`).

A leader opens a queue for a subject and a window; students of that group join and leave; «Следующий» calls
the first one waiting. Whoever asks sees only their own group's queues: a forged button of another group's
queue finds nothing. Every answer is a frozen value; the rows stay here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.roles import allows
from fsm_bot.services.dates import parse_day
from fsm_bot.services.timetable import TimetableService
from fsm_bot.storage.models import Role
from fsm_bot.storage.queue_models import EntryStatus, Queue, QueueStatus, SwapStatus
from fsm_bot.storage.repositories import MemberRepository
from fsm_bot.storage.repositories.queues import EntryRow, QueueRepository
from fsm_bot.storage.types import utcnow

SHOWN_AFTER_END = timedelta(hours=12)  # an open queue whose window ended stays in «очередь» this long
_CLOCK = re.compile(r"(?<![\d.:])(\d{1,2})(?:[:.](\d{2}))?(?![\d.:])")


class JoinOutcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"
    NOT_YET = "not_yet"
    ENDED = "ended"
    CLOSED = "closed"
    MISSING = "missing"


class LeaveOutcome(StrEnum):
    LEFT = "left"
    NOT_IN = "not_in"
    MISSING = "missing"


class CallOutcome(StrEnum):
    CALLED = "called"
    EMPTY = "empty"
    STALE = "stale"  # someone pressed «Следующий» since this button was sent
    CLOSED = "closed"
    FORBIDDEN = "forbidden"
    MISSING = "missing"


class SwapOutcome(StrEnum):
    OFFERED = "offered"
    PENDING = "pending"  # offered already, not answered yet
    ACCEPTED = "accepted"
    DECLINED = "declined"  # by the other one
    WITHDRAWN = "withdrawn"  # by the one who asked
    STALE = "stale"  # either moved since the offer
    SETTLED = "settled"  # answered already
    NOT_IN = "not_in"  # the asker does not wait in the queue
    GONE = "gone"  # the other one no longer waits
    MISSING = "missing"  # no such queue or offer for this person


@dataclass(frozen=True)
class QueueView:
    id: int
    subject: str
    opens_at: datetime
    closes_at: datetime
    status: str
    calls: int
    helper_vk_id: int | None

    @property
    def open(self) -> bool:
        return self.status == QueueStatus.OPEN.value

    @classmethod
    def of(cls, queue: Queue) -> QueueView:
        return cls(
            queue.id, queue.subject, queue.opens_at, queue.closes_at, queue.status, queue.calls, queue.helper_vk_id
        )


@dataclass(frozen=True)
class Place:
    """A person in a queue; `rank` is the place they see (1 for the first one waiting), 0 once called."""

    entry_id: int
    vk_id: int
    name: str
    short_name: str
    rank: int
    sex: int


@dataclass(frozen=True)
class Line:
    queue: QueueView
    waiting: tuple[Place, ...]
    called: tuple[Place, ...]  # in the order they were called

    def place_of(self, vk_id: int) -> Place | None:
        return next((place for place in self.waiting if place.vk_id == vk_id), None)


@dataclass(frozen=True)
class JoinResult:
    outcome: JoinOutcome
    rank: int = 0
    queue: QueueView | None = None


@dataclass(frozen=True)
class CallResult:
    outcome: CallOutcome
    line: Line | None = None
    called: Place | None = None
    next_up: Place | None = None


@dataclass(frozen=True)
class SwapResult:
    outcome: SwapOutcome
    swap_id: int = 0
    queue: QueueView | None = None
    asker: Place | None = None
    other: Place | None = None


@dataclass(frozen=True)
class Classmate:
    vk_id: int
    name: str
    locale: str | None
    can_receive: bool


class QueueService:
    def __init__(self, session: Session, community_id: int, timetable: TimetableService, timezone: ZoneInfo) -> None:
        self.session = session
        self.community_id = community_id
        self.member = timetable.member  # the member who asks, as the timetable service already knows them
        self.timezone = timezone
        self.repository = QueueRepository(session, community_id)
        self._members = MemberRepository(session, community_id)
        self.group_id = timetable.group_id  # the member's group, looked up once per event

    # --- what a leader opens

    def classmates(self, query: str = "") -> list[Classmate]:
        """The group's other members (by surname prefix), for the teacher's helper and the announcement."""
        if self.group_id is None:
            return []
        needle = fold(query.strip())
        return [
            Classmate(row.vk_id, row.full_name or f"id{row.vk_id}", row.locale or row.app_locale, row.can_receive)
            for row in self._members.in_group(self.group_id)
            if row.vk_id > 0 and row.vk_id != self.member.vk_id and row.status == "active"
            if not needle or fold(row.last_name).startswith(needle)
        ]

    def open(self, subject: str, opens_at: datetime, closes_at: datetime, helper_vk_id: int | None) -> QueueView:
        if not self.leads or self.group_id is None:
            raise PermissionError("only a group's leader opens its queues")
        if helper_vk_id is not None and all(mate.vk_id != helper_vk_id for mate in self.classmates()):
            helper_vk_id = None  # not of this group (a forged button): no helper rather than a stranger
        queue = self.repository.create(self.group_id, subject, opens_at, closes_at, helper_vk_id, self.member.vk_id)
        return QueueView.of(queue)

    @property
    def leads(self) -> bool:
        """A leader of the group: opens its queues and calls the next one in any of them."""
        return self.group_id is not None and allows(self.member.role, Role.DEPUTY)

    def now(self) -> datetime:
        return utcnow()

    def today(self) -> date:
        return self.local(self.now()).date()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone)

    # --- reading

    def _own(self, queue_id: int) -> Queue | None:
        """The queue if it is of this member's group: anyone else's is not there at all."""
        queue = self.repository.get(queue_id)
        if queue is None or self.group_id is None or queue.study_group_id != self.group_id:
            return None
        return queue

    def queue(self, queue_id: int) -> QueueView | None:
        queue = self._own(queue_id)
        return QueueView.of(queue) if queue is not None else None

    def open_queues(self) -> list[QueueView]:
        if self.group_id is None:
            return []
        return [QueueView.of(q) for q in self.repository.open_queues(self.group_id, self.now() - SHOWN_AFTER_END)]

    def line(self, queue_id: int) -> Line | None:
        queue = self._own(queue_id)
        if queue is None:
            return None
        rows = self.repository.entries(queue.id)
        waiting = [row for row in rows if row.status == EntryStatus.WAITING.value]
        called = [row for row in rows if row.status == EntryStatus.CALLED.value]
        return Line(
            QueueView.of(queue),
            tuple(_place(row, rank) for rank, row in enumerate(waiting, start=1)),
            tuple(
                _place(row, 0) for row in sorted(called, key=lambda row: (row.called_at or queue.created_at, row.place))
            ),
        )

    def may_call(self, queue: QueueView) -> bool:
        """A leader of the queue's group, or the helper named when it was opened (checked at every press)."""
        return self.leads or queue.helper_vk_id == self.member.vk_id

    # --- a student's presses

    def join(self, queue_id: int) -> JoinResult:
        queue = self._own(queue_id)
        if queue is None or self._member_id() is None:
            return JoinResult(JoinOutcome.MISSING)
        view, now = QueueView.of(queue), self.now()
        if not view.open:
            return JoinResult(JoinOutcome.CLOSED, queue=view)
        if now < queue.opens_at:
            return JoinResult(JoinOutcome.NOT_YET, queue=view)
        if now >= queue.closes_at:
            return JoinResult(JoinOutcome.ENDED, queue=view)
        joined = self.repository.join(queue.id, self._require_member_id())
        line = self.line(queue.id)
        assert line is not None
        mine = line.place_of(self.member.vk_id)
        rank = mine.rank if mine is not None else 0
        return JoinResult(JoinOutcome.JOINED if joined is not None else JoinOutcome.ALREADY, rank, view)

    def leave(self, queue_id: int) -> LeaveOutcome:
        queue = self._own(queue_id)
        member_id = self._member_id()
        if queue is None or member_id is None:
            return LeaveOutcome.MISSING
        return LeaveOutcome.LEFT if self.repository.leave(queue.id, member_id) else LeaveOutcome.NOT_IN

    # --- «Следующий» and closing

    def call_next(self, queue_id: int, seen_calls: int) -> CallResult:
        queue = self._own(queue_id)
        if queue is None:
            return CallResult(CallOutcome.MISSING)
        view = QueueView.of(queue)
        if not self.may_call(view):
            return CallResult(CallOutcome.FORBIDDEN)
        if not view.open:
            return CallResult(CallOutcome.CLOSED, self.line(queue_id))
        counted, called_id = self.repository.call_next(queue.id, seen_calls)
        line = self.line(queue_id)
        assert line is not None
        if not counted:
            return CallResult(CallOutcome.STALE, line)
        if called_id is None:
            return CallResult(CallOutcome.EMPTY, line)
        called = next(place for place in line.called if place.entry_id == called_id)
        return CallResult(CallOutcome.CALLED, line, called, line.waiting[0] if line.waiting else None)

    def close(self, queue_id: int) -> CallResult:
        queue = self._own(queue_id)
        if queue is None:
            return CallResult(CallOutcome.MISSING)
        if not self.may_call(QueueView.of(queue)):
            return CallResult(CallOutcome.FORBIDDEN)
        closed = self.repository.close(queue.id)
        return CallResult(CallOutcome.CALLED if closed else CallOutcome.CLOSED, self.line(queue_id))

    # --- swaps

    def offer_swap(self, queue_id: int, other_entry_id: int) -> SwapResult:
        queue, member_id = self._own(queue_id), self._member_id()
        if queue is None or member_id is None:
            return SwapResult(SwapOutcome.MISSING)
        asker = self.repository.entry(queue.id, member_id)
        other = self.repository.entry_by_id(other_entry_id)
        if asker is None or asker.status != EntryStatus.WAITING.value:
            return SwapResult(SwapOutcome.NOT_IN)
        if other is None or other.queue_id != queue.id or other.id == asker.id:
            return SwapResult(SwapOutcome.MISSING)
        if other.status != EntryStatus.WAITING.value:
            return SwapResult(SwapOutcome.GONE)
        pending = self.repository.pending_swap(asker.id, other.id)
        if pending is not None and (pending.asker_place, pending.other_place) == (asker.place, other.place):
            return SwapResult(SwapOutcome.PENDING)  # one offer at a time: pressing again sends no second
        swap = self.repository.offer_swap(queue.id, asker, other)
        return self._swap_result(SwapOutcome.OFFERED, swap.id, queue.id, asker.id, other.id)

    def answer_swap(self, swap_id: int, accept: bool) -> SwapResult:
        """The other one's «Согласен» / «Отказаться», or the asker's «Отменить»; anyone else finds nothing."""
        swap = self.repository.swap(swap_id)
        member_id = self._member_id()
        queue = self._own(swap.queue_id) if swap is not None else None
        if swap is None or queue is None or member_id is None:
            return SwapResult(SwapOutcome.MISSING)
        asker = self.repository.entry_by_id(swap.asker_entry_id)
        other = self.repository.entry_by_id(swap.other_entry_id)
        assert asker is not None and other is not None
        is_asker, is_other = asker.member_id == member_id, other.member_id == member_id
        if not (is_other or (is_asker and not accept)):
            return SwapResult(SwapOutcome.MISSING)

        def result(outcome: SwapOutcome) -> SwapResult:
            return self._swap_result(outcome, swap.id, queue.id, asker.id, other.id)

        if swap.status != SwapStatus.PENDING.value:
            return result(SwapOutcome.SETTLED)
        if not accept:
            self.repository.decide_swap(swap.id, SwapStatus.DECLINED)
            return result(SwapOutcome.DECLINED if is_other else SwapOutcome.WITHDRAWN)
        if queue.status != QueueStatus.OPEN.value or not self.repository.exchange(swap):
            self.repository.decide_swap(swap.id, SwapStatus.STALE)
            return result(SwapOutcome.STALE)
        if not self.repository.decide_swap(swap.id, SwapStatus.ACCEPTED):
            raise RuntimeError("a swap settled while this event held its entries")  # rolls the exchange back
        return result(SwapOutcome.ACCEPTED)

    def _swap_result(self, outcome: SwapOutcome, swap_id: int, queue_id: int, asker: int, other: int) -> SwapResult:
        line = self.line(queue_id)
        assert line is not None
        people = {place.entry_id: place for place in (*line.waiting, *line.called)}
        everyone = {row.entry_id: row for row in self.repository.entries(queue_id)}
        return SwapResult(
            outcome,
            swap_id,
            line.queue,
            people.get(asker) or _place(everyone[asker], 0),
            people.get(other) or _place(everyone[other], 0),
        )

    # --- who

    def _member_id(self) -> int | None:
        member = self._members.get(self.member.vk_id)
        if member is None or self.group_id is None or member.study_group_id != self.group_id:
            return None
        return member.id

    def _require_member_id(self) -> int:
        member_id = self._member_id()
        assert member_id is not None
        return member_id


def _place(row: EntryRow, rank: int) -> Place:
    full = f"{row.last_name} {row.first_name}".strip() or f"id{row.vk_id}"
    short = f"{row.last_name} {row.first_name[:1]}.".strip() if row.first_name else full
    return Place(row.entry_id, row.vk_id, full, short, rank, row.sex)


# --- the window, as a leader types it


def parse_window(text: str, today: date, timezone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """«13:00-15:00», «13-15», «с 13 до 15:30», «завтра 9:00–10:30», «05.12 13:00 15:00»: a day (today when
    none is given) and two times; None when it is not that or the end is not after the start."""
    words = text.strip().lower().replace("—", "-").replace("–", "-").split()
    day = today
    if words and (found := parse_day(words[0], today)) is not None:
        day, words = found, words[1:]
    clocks = []
    for hours, minutes in _CLOCK.findall(" ".join(words)):
        try:
            clocks.append(time(int(hours), int(minutes or 0)))
        except ValueError:
            return None
    if len(clocks) != 2 or clocks[1] <= clocks[0]:
        return None
    start, end = (datetime.combine(day, clock, timezone) for clock in clocks)
    return start, end
