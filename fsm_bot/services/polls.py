"""What the poll flows may ask for (`ctx.services.polls`), and how a poll's result reads.

A poll is a broadcast whose last part carries answer buttons (services/broadcasts.py creates both in the
confirming transaction). A press is checked against the poll, not the payload's word: the presser must be
one of the broadcast's recipients, the option must exist, the poll must be open. An anonymous poll's
answers are counted but never shown with a name, in the report, the file or the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session

from fsm_bot.delivery.replies import queue_reply
from fsm_bot.members.info import MemberInfo
from fsm_bot.services.dates import parse_day
from fsm_bot.storage import Database
from fsm_bot.storage.models import Broadcast, BroadcastStatus, RecipientStatus, Role
from fsm_bot.storage.poll_models import Poll
from fsm_bot.storage.repositories import MemberRepository, OutboxRepository, PollRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs, Texts, as_catalogs
from fsm_bot.vk.keyboards import KeyboardButton, build_keyboard
from fsm_bot.vk.messages import MessageContent
from fsm_bot.vk.payloads import COMMAND_KEY, VALUE_KEY

log = logging.getLogger(__name__)

VOTE_FLOW, REMIND_FLOW, EXPORT_FLOW, CLOSE_FLOW = "poll_vote", "poll_remind", "poll_export", "poll_close"
PREVIEW = "preview"  # the answer buttons of a preview carry this instead of a poll's id
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_OPTION = 40  # characters: VK's button label
ONE_PER_ROW = 6  # an inline keyboard has at most 6 rows: more options go two to a row
MAX_NAMES = 30
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
END_OF_DAY = time(23, 59)


class VoteOutcome:
    RECORDED = "recorded"
    CLOSED = "closed"
    NOT_RECIPIENT = "not_recipient"
    NO_OPTION = "no_option"
    DELETED = "deleted"


@dataclass(frozen=True)
class PollDraft:
    """A poll as the broadcast dialog composed it."""

    options: tuple[str, ...]
    multiple: bool = False
    anonymous: bool = False
    closes_at: datetime | None = None
    closes_label: str = ""  # the deadline in the author's words and time zone, for every text that names it


@dataclass(frozen=True)
class Vote:
    outcome: str
    chosen: tuple[str, ...] = ()  # the presser's options after the press


@dataclass(frozen=True)
class OptionResult:
    label: str
    count: int
    names: tuple[str, ...]  # always empty for an anonymous poll


@dataclass(frozen=True)
class PollResults:
    poll_id: int
    broadcast_id: int
    question: str
    multiple: bool
    anonymous: bool
    closes_label: str
    closed: bool
    options: tuple[OptionResult, ...]
    answered: int
    delivered: int
    unanswered: tuple[str, ...]
    unanswered_ids: tuple[int, ...]
    voters: tuple[tuple[str, tuple[str, ...]], ...]  # (name, chosen labels) by name; empty when anonymous


def parse_deadline(text: str, now: datetime) -> datetime | None:
    """«завтра 18:00», «25.12 18:00», «18:00» (today), «25.12» (that day's end), in `now`'s time zone."""
    words = text.strip().lower().split()
    if not words:
        return None
    clock = _CLOCK.fullmatch(words[-1])
    if clock is not None:
        moment, words = time(int(clock[1]), int(clock[2])), words[:-1]
    else:
        moment = END_OF_DAY
    day = parse_day(" ".join(words), now.date()) if words else now.date()
    if day is None:
        return None
    return datetime.combine(day, moment, tzinfo=now.tzinfo)


def is_closed(poll: Poll, now: datetime | None = None) -> bool:
    """Closed by hand or by the sweep, or past its deadline (a press between the deadline and the sweep)."""
    now = now or utcnow()
    return poll.closed_at is not None or (poll.closes_at is not None and poll.closes_at <= now)


def vote_keyboard(poll: int | str, options: Sequence[str]) -> str:
    """The answer buttons under the poll's message: callback buttons carrying the poll and the option's number."""
    buttons = [
        KeyboardButton(label, {COMMAND_KEY: VOTE_FLOW, VALUE_KEY: [poll, index]}, "primary", callback=True)
        for index, label in enumerate(options)
    ]
    per_row = 1 if len(buttons) <= ONE_PER_ROW else 2
    rows = [buttons[start : start + per_row] for start in range(0, len(buttons), per_row)]
    return build_keyboard(rows, inline=True)


def results_of(session: Session, community_id: int, poll: Poll, broadcast: Broadcast) -> PollResults:
    polls = PollRepository(session, community_id)
    recipients = polls.recipients(broadcast.id)
    names = {vk_id: name for vk_id, name, _status in recipients}
    by_option: list[list[str]] = [[] for _ in poll.options]
    chosen: dict[int, list[str]] = {}
    for vk_id, option in polls.votes(poll.id):
        if vk_id in names and 0 <= option < len(poll.options):
            by_option[option].append(names[vk_id])
            chosen.setdefault(vk_id, []).append(poll.options[option])
    delivered = [(vk_id, name) for vk_id, name, status in recipients if status == RecipientStatus.SENT.value]
    waiting = [(vk_id, name) for vk_id, name in delivered if vk_id not in chosen]
    return PollResults(
        poll_id=poll.id,
        broadcast_id=broadcast.id,
        question=poll.question,
        multiple=poll.multiple,
        anonymous=poll.anonymous,
        closes_label=poll.closes_label,
        closed=is_closed(poll),
        options=tuple(
            OptionResult(label, len(found), () if poll.anonymous else tuple(sorted(found)))
            for label, found in zip(poll.options, by_option, strict=True)
        ),
        answered=len(chosen),
        delivered=len(delivered),
        unanswered=tuple(name for _vk_id, name in waiting),
        unanswered_ids=tuple(vk_id for vk_id, _name in waiting),
        voters=()
        if poll.anonymous
        else tuple(sorted((names[vk_id], tuple(labels)) for vk_id, labels in chosen.items())),
    )


def poll_results(session: Session, broadcast: Broadcast) -> PollResults | None:
    """The poll of a broadcast, if it is one (for its report)."""
    poll = PollRepository(session, broadcast.community_id).of_broadcast(broadcast.id)
    return None if poll is None else results_of(session, broadcast.community_id, poll, broadcast)


def _names(texts: Texts, names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (texts("poll.more_names", count=len(names) - MAX_NAMES) if len(names) > MAX_NAMES else "")


def kind_line(texts: Texts, multiple: bool, anonymous: bool, closes_label: str) -> str:
    """«Опрос: один вариант, именной, до 25.12 18:00»: what students are told under the question too."""
    words = [texts("poll.kind_multiple" if multiple else "poll.kind_single")]
    words.append(texts("poll.kind_anonymous" if anonymous else "poll.kind_named"))
    if closes_label:
        words.append(texts("poll.kind_until", deadline=closes_label))
    return texts("poll.kind", kind=", ".join(words))


def render_results(texts: Texts, results: PollResults) -> list[str]:
    """The poll's lines of a report: each option with its count (and, named, who), who has not answered."""
    lines = [kind_line(texts, results.multiple, results.anonymous, results.closes_label)]
    for number, option in enumerate(results.options, start=1):
        if option.names:
            lines.append(
                texts("poll.option_named", number=number, label=option.label, count=option.count,
                      names=_names(texts, option.names))
            )  # fmt: skip
        else:
            lines.append(texts("poll.option", number=number, label=option.label, count=option.count))
    lines.append(texts("poll.answered", answered=results.answered, delivered=results.delivered))
    if results.unanswered:
        lines.append(texts("poll.unanswered", count=len(results.unanswered), names=_names(texts, results.unanswered)))
    if results.closed:
        lines.append(texts("poll.closed"))
    return lines


def result_buttons(texts: Texts, results: PollResults) -> list[KeyboardButton]:
    """«Напомнить» (while open, to those who have not answered), the file, «Закрыть опрос» (while open)."""
    value = str(results.poll_id)
    buttons = []
    if not results.closed and results.unanswered:
        buttons.append(KeyboardButton(texts("poll.remind_button"), {COMMAND_KEY: REMIND_FLOW, VALUE_KEY: value}))
    buttons.append(KeyboardButton(texts("poll.export_button"), {COMMAND_KEY: EXPORT_FLOW, VALUE_KEY: value}))
    if not results.closed:
        buttons.append(
            KeyboardButton(texts("poll.close_button"), {COMMAND_KEY: CLOSE_FLOW, VALUE_KEY: value}, "negative")
        )
    return buttons


def result_message(texts: Texts, results: PollResults) -> MessageContent:
    """The result as the author gets it when the poll closes: the question, the tally, the file's button."""
    text = "\n".join([texts("poll.result_title", id=results.poll_id, question=results.question),
                      *render_results(texts, results)])  # fmt: skip
    buttons = result_buttons(texts, results)
    return MessageContent(text, build_keyboard([[button] for button in buttons], inline=True))


class PollService:
    def __init__(self, session: Session, community_id: int, member: MemberInfo) -> None:
        self.session = session
        self.community_id = community_id
        self.member = member
        self.repository = PollRepository(session, community_id)

    def vote(self, poll_id: int, option: int) -> Vote:
        """A student's press of an answer button."""
        found = self.repository.get(poll_id)
        if found is None or found[1].status == BroadcastStatus.DELETED.value:
            return Vote(VoteOutcome.DELETED)
        poll, broadcast = found
        if self.repository.recipient_name(broadcast.id, self.member.vk_id) is None:
            return Vote(VoteOutcome.NOT_RECIPIENT)
        if not 0 <= option < len(poll.options):
            return Vote(VoteOutcome.NO_OPTION)
        if is_closed(poll):
            return Vote(VoteOutcome.CLOSED)
        chosen = self.repository.choose(poll.id, self.member.vk_id, option, poll.multiple)
        broadcast.report_dirty = True  # the author's report shows the new tally (services/reports.py)
        log.debug("poll %d: an answer recorded", poll.id)  # never who, never what: the poll may be anonymous
        return Vote(VoteOutcome.RECORDED, tuple(poll.options[index] for index in chosen))

    def _own(self, poll_id: int) -> tuple[Poll, Broadcast] | None:
        """The poll if this member may act on it: its author, or a stream admin."""
        found = self.repository.get(poll_id)
        if found is None or found[1].status == BroadcastStatus.DELETED.value:
            return None
        if found[1].sender_vk_id != self.member.vk_id and self.member.role is not Role.ADMIN:
            return None
        return found

    def results(self, poll_id: int) -> PollResults | None:
        """The live result, for the author (or a stream admin) only."""
        found = self._own(poll_id)
        return None if found is None else results_of(self.session, self.community_id, *found)

    def remind(self, poll_id: int, texts_for: Callable[[str | None], Texts]) -> int | None:
        """Remind those who got the poll and have not answered, each in their language, with the answer
        buttons; None if this member may not, 0 when the poll is closed or everyone answered."""
        found = self._own(poll_id)
        if found is None:
            return None
        poll, broadcast = found
        results = results_of(self.session, self.community_id, poll, broadcast)
        if results.closed:
            return 0
        keyboard = vote_keyboard(poll.id, poll.options)
        outbox = OutboxRepository(self.session, self.community_id)
        locales = MemberRepository(self.session, self.community_id).locales(results.unanswered_ids)
        for vk_id in results.unanswered_ids:
            reader = texts_for(locales.get(vk_id))
            text = reader("poll.nudge", question=poll.question)
            queue_reply(self.session, self.community_id, vk_id, MessageContent(text, keyboard), outbox)
        return len(results.unanswered_ids)

    def close(self, poll_id: int) -> PollResults | None:
        """Close it by hand; the result (None if this member may not). Closing twice changes nothing."""
        found = self._own(poll_id)
        if found is None:
            return None
        poll, broadcast = found
        if self.repository.close(poll.id, self.member.vk_id):
            broadcast.report_dirty = True
            self.session.refresh(poll)
        return results_of(self.session, self.community_id, poll, broadcast)


def close_due_polls(database: Database, community_id: int, texts: Texts | Catalogs) -> int:
    """Close every poll past its deadline and send its author the result, in their language, exactly once:
    the close and the message commit together, and only the UPDATE that closed the poll queues it."""
    catalogs = as_catalogs(texts)

    def close(session: Session) -> int:
        polls = PollRepository(session, community_id)
        members = MemberRepository(session, community_id)
        closed = 0
        for poll, broadcast in polls.due(utcnow()):
            if not polls.close(poll.id, 0):
                continue
            session.refresh(poll)
            broadcast.report_dirty = True
            author = catalogs[members.locales([broadcast.sender_vk_id])[broadcast.sender_vk_id]]
            message = result_message(author, results_of(session, community_id, poll, broadcast))
            queue_reply(session, community_id, broadcast.sender_vk_id, message)
            log.info("poll %d closed at its deadline", poll.id)
            closed += 1
        return closed

    return database.transaction(close)
