"""Class reminders and evening digests: which are due, each sent exactly once, and when to look again.

The rule that keeps reminders from repeating or vanishing: a reminder is identified by its
subscription and occurrence ("digest:2026-11-28", "lesson:2026-11-28T09:00"); it is recorded in
`fired_reminder` in the same transaction that queues its message, and a run only sends what is not
recorded yet. Any run may therefore look back over a window and catch up: a job that fired twice,
a restart after kill -9, or a late plan all end in one message. APScheduler only decides *when*
to look; what to send is decided here, from the subscriptions and the timetable as they are now.

The misfire policy: a before-class reminder more than `late_drop` late is dropped (and recorded
as dropped, so the log says so once); a digest is still sent up to `digest_grace` late, unless
the day it describes has already begun.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.homework_models import Homework
from fsm_bot.storage.repositories import Firing, OutboxRepository, Subscriber, SubscriptionRepository
from fsm_bot.storage.repositories.homework import HomeworkRepository
from fsm_bot.storage.repositories.timetable import TimetableRepository
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.timetable import Change, Lesson, Semester, Slot, lessons_between
from fsm_bot.timetable.render import day_text, lesson_line

log = logging.getLogger(__name__)

Translate = Callable[..., str]


@runtime_checkable
class Languages(Protocol):
    """Every language's catalog (`fsm_bot.texts.Catalogs`): a subscriber's locale in, their words out."""

    def __getitem__(self, locale: str | None) -> Translate: ...


def _translate_for(t: Translate | Languages) -> Callable[[str | None], Translate]:
    if isinstance(t, Languages):
        return t.__getitem__
    return lambda _locale: t


REMINDER_KINDS = (SubscriptionKind.DIGEST, SubscriptionKind.BEFORE_FIRST, SubscriptionKind.BEFORE_EACH)


@dataclass(frozen=True)
class ReminderPolicy:
    timezone: ZoneInfo
    late_drop: timedelta = timedelta(minutes=10)
    digest_grace: timedelta = timedelta(hours=12)

    @property
    def lookback(self) -> timedelta:
        """How far back a run looks for reminders it has not recorded yet."""
        return max(self.late_drop, self.digest_grace)


@dataclass(frozen=True)
class DueReminder:
    subscriber: Subscriber
    occurrence: str
    due_at: datetime
    day: date  # the day whose lessons it is about
    lessons: tuple[Lesson, ...]
    homework: tuple[str, ...] = ()  # a digest's: subjects of the assignments due that day, not done by its reader


@dataclass
class FireReport:
    sent: int = 0
    dropped: int = 0
    messages: int = 0  # distinct texts queued (each goes out as peer_ids calls of up to 100)
    peers_by_text: dict[str, list[int]] = field(default_factory=dict)
    homework: int = 0  # reminders of homework due times queued (scheduler/homework_reminders.py)


class _Timetables:
    """Each (group, subgroup)'s lessons over a span of days, read once per run."""

    def __init__(self, repository: TimetableRepository, first: date, last: date) -> None:
        self.repository = repository
        self.first, self.last = first, last
        self.semester: Semester | None = repository.semester()
        self._slots: dict[int, tuple[list[Slot], list[Change]]] = {}
        self._lessons: dict[tuple[int, int | None], dict[date, list[Lesson]]] = {}

    def lessons(self, group_id: int, subgroup: int | None, day: date) -> list[Lesson]:
        key = (group_id, subgroup)
        if key not in self._lessons:
            if group_id not in self._slots:
                self._slots[group_id] = (
                    self.repository.slots(group_id),
                    self.repository.changes(group_id, self.first, self.last),
                )
            slots, changes = self._slots[group_id]
            by_day: dict[date, list[Lesson]] = defaultdict(list)
            for lesson in lessons_between(self.semester, slots, changes, self.first, self.last, subgroup):
                by_day[lesson.date].append(lesson)
            self._lessons[key] = by_day
        return [lesson for lesson in self._lessons[key].get(day, []) if lesson.takes_place]


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def due_between(
    subscribers: Iterable[Subscriber], timetables: _Timetables, tz: ZoneInfo, since: datetime, until: datetime
) -> list[DueReminder]:
    """Every reminder whose due time falls in (since, until], whether or not it was sent."""
    found: list[DueReminder] = []
    first_day = _local(since, tz).date()
    last_day = _local(until, tz).date()
    for subscriber in subscribers:
        try:
            found += _due_for(subscriber, timetables, tz, since, until, first_day, last_day)
        except Exception:
            # One subscription whose reminders cannot be worked out must not stop everyone's.
            log.exception("subscription %d: its reminders cannot be worked out; skipped", subscriber.subscription_id)
    return found


def _due_for(
    subscriber: Subscriber,
    timetables: _Timetables,
    tz: ZoneInfo,
    since: datetime,
    until: datetime,
    first_day: date,
    last_day: date,
) -> list[DueReminder]:
    found: list[DueReminder] = []
    group, subgroup = subscriber.study_group_id, subscriber.subgroup
    if subscriber.kind is SubscriptionKind.DIGEST:
        at_time = subscriber.at_time or time(20, 0)
        day = first_day - timedelta(days=1)
        while day <= last_day:
            due = _at(day, at_time, tz)
            tomorrow = day + timedelta(days=1)
            if since < due <= until:
                lessons = timetables.lessons(group, subgroup, tomorrow)
                if lessons:  # no digest for a day off: an empty message every Saturday only annoys
                    found.append(DueReminder(subscriber, f"digest:{tomorrow}", due, tomorrow, tuple(lessons)))
            day = tomorrow
        return found
    lead = timedelta(minutes=subscriber.lead_minutes or 15)
    day = _local(since + lead, tz).date()  # the first day whose lessons can be due in (since, until]
    horizon = _local(until + lead, tz).date()
    while day <= horizon:
        lessons = timetables.lessons(group, subgroup, day)
        starts = sorted({lesson.start for lesson in lessons})
        if subscriber.kind is SubscriptionKind.BEFORE_FIRST:
            starts = starts[:1]
        for start in starts:
            due = _at(day, start, tz) - lead
            if since < due <= until:
                together = tuple(lesson for lesson in lessons if lesson.start == start)
                occurrence = (
                    f"first:{day}"
                    if subscriber.kind is SubscriptionKind.BEFORE_FIRST
                    else (f"lesson:{day}T{start:%H:%M}")
                )
                found.append(DueReminder(subscriber, occurrence, due, day, together))
        day += timedelta(days=1)
    return found


def _too_late(reminder: DueReminder, now: datetime, policy: ReminderPolicy) -> bool:
    late = now - reminder.due_at
    if reminder.subscriber.kind is SubscriptionKind.DIGEST:
        day_begun = bool(reminder.lessons) and now >= _at(reminder.day, reminder.lessons[0].start, policy.timezone)
        return late > policy.digest_grace or day_begun
    return late > policy.late_drop


def _text(t: Translate, reminder: DueReminder, semester: Semester | None, now: datetime, tz: ZoneInfo) -> str:
    show_subgroup = reminder.subscriber.subgroup is None
    kind = reminder.subscriber.kind
    if kind is SubscriptionKind.DIGEST:
        key = "notify.digest" if _local(now, tz).date() < reminder.day else "notify.digest_today"
        text = t(key, day=day_text(t, semester, reminder.day, reminder.lessons, show_subgroup))
        if reminder.homework:
            text += "\n\n" + t("homework.digest_line", subjects=", ".join(reminder.homework))
        return text
    lines = "\n".join(lesson_line(t, lesson, show_subgroup) for lesson in reminder.lessons)
    key = "notify.before_first" if kind is SubscriptionKind.BEFORE_FIRST else "notify.before_each"
    return t(key, minutes=reminder.subscriber.lead_minutes or 15, lessons=lines)


# What a reminder's text depends on (_text_key).
_TextKey = tuple[str | None, SubscriptionKind, int | None, bool, date, tuple[Lesson, ...], tuple[str, ...]]


def _text_key(reminder: DueReminder) -> _TextKey:
    """What a reminder's text depends on: reminders alike in these read alike."""
    subscriber = reminder.subscriber
    return (
        subscriber.locale,
        subscriber.kind,
        subscriber.lead_minutes,
        subscriber.subgroup is None,
        reminder.day,
        reminder.lessons,
        reminder.homework,
    )


def _render(
    t: Translate,
    reminder: DueReminder,
    semester: Semester | None,
    now: datetime,
    tz: ZoneInfo,
    texts: dict[_TextKey, str],
) -> None:
    key = _text_key(reminder)
    if key not in texts:
        texts[key] = _text(t, reminder, semester, now, tz)


def _read(
    session: Session, community_id: int, tz: ZoneInfo, since: datetime, until: datetime
) -> tuple[list[Subscriber], _Timetables]:
    subscribers = SubscriptionRepository(session, community_id).subscribers(REMINDER_KINDS)
    span_first = _local(since, tz).date() - timedelta(days=1)
    span_last = _local(until, tz).date() + timedelta(days=2)
    timetables = _Timetables(TimetableRepository(session, community_id), span_first, span_last)
    return subscribers, timetables


def _with_homework(session: Session, community_id: int, tz: ZoneInfo, due: list[DueReminder]) -> list[DueReminder]:
    """Digests with the line about the assignments due on their day that their reader has not marked done."""
    days = {r.day for r in due if r.subscriber.kind is SubscriptionKind.DIGEST}
    if not days:
        return due
    first, last = _at(min(days), time(0), tz), _at(max(days) + timedelta(days=1), time(0), tz)
    homework = HomeworkRepository(session, community_id)
    assignments = homework.due_between(first - timedelta(microseconds=1), last)
    if not assignments:
        return due
    done = homework.done_by([each.id for each in assignments])
    by_group: dict[int, list[Homework]] = defaultdict(list)
    for each in assignments:
        by_group[each.study_group_id].append(each)
    found = []
    for reminder in due:
        if reminder.subscriber.kind is SubscriptionKind.DIGEST:
            subscriber = reminder.subscriber
            subjects = tuple(
                each.subject
                for each in by_group.get(subscriber.study_group_id, [])
                if each.due_at.astimezone(tz).date() == reminder.day and (each.id, subscriber.vk_id) not in done
            )
            reminder = replace(reminder, homework=subjects)
        found.append(reminder)
    return found


def fire_due_reminders(
    database: Database,
    community_id: int,
    policy: ReminderPolicy,
    t: Translate | Languages,
    now: datetime | None = None,
) -> FireReport:
    """Queue every reminder due by `now` that is not recorded yet, each in its reader's language (`t`: one
    catalog, or every language's); record each, sent or dropped."""
    translate_for = _translate_for(t)
    now = now or datetime.now(UTC)
    since = now - policy.lookback

    def fire(session: Session) -> FireReport:
        subscribers, timetables = _read(session, community_id, policy.timezone, since, now)
        due = due_between(subscribers, timetables, policy.timezone, since, now)
        report = FireReport()
        if not due:
            return report
        recorded = SubscriptionRepository(session, community_id).recorded(
            {r.subscriber.subscription_id for r in due}, since - timedelta(days=1)
        )
        fresh = [r for r in due if (r.subscriber.subscription_id, r.occurrence) not in recorded]
        if not fresh:
            return report
        fresh = _with_homework(session, community_id, policy.timezone, fresh)
        late = {id(r) for r in fresh if _too_late(r, now, policy)}
        texts: dict[_TextKey, str] = {}  # 10,000 digests are a few dozen distinct texts: render each once
        for reminder in fresh:
            if id(reminder) not in late:
                try:
                    t_of = translate_for(reminder.subscriber.locale)
                    _render(t_of, reminder, timetables.semester, now, policy.timezone, texts)
                except Exception:
                    # Recorded as dropped, so it is neither retried at every run nor holds up the rest.
                    log.exception(
                        "subscription %d: reminder %s cannot be written; dropped",
                        reminder.subscriber.subscription_id,
                        reminder.occurrence,
                    )
                    late.add(id(reminder))
        inserted = SubscriptionRepository(session, community_id).record_fired(
            [
                Firing(r.subscriber.subscription_id, r.occurrence, r.due_at, "dropped" if id(r) in late else "sent")
                for r in fresh
            ]
        )
        by_text: dict[str, list[int]] = defaultdict(list)
        for reminder in fresh:
            if (reminder.subscriber.subscription_id, reminder.occurrence) not in inserted:
                continue  # another run recorded it first
            if id(reminder) in late:
                report.dropped += 1
                continue
            by_text[texts[_text_key(reminder)]].append(reminder.subscriber.vk_id)
        outbox = OutboxRepository(session, community_id)
        for text, peers in by_text.items():
            outbox.add_many(peers, text)
            report.sent += len(peers)
        report.messages = len(by_text)
        report.peers_by_text = dict(by_text)
        return report

    report = database.transaction(fire)
    if report.sent or report.dropped:
        log.info(
            "reminders: %d queued (%d distinct texts), %d dropped as too late",
            report.sent,
            report.messages,
            report.dropped,
        )
    return report


def upcoming_instants(
    database: Database, community_id: int, policy: ReminderPolicy, now: datetime, horizon: timedelta
) -> list[datetime]:
    """The distinct moments in (now, now + horizon] at which some reminder falls due: where to wake up."""

    def read(session: Session) -> list[datetime]:
        subscribers, timetables = _read(session, community_id, policy.timezone, now, now + horizon)
        due = due_between(subscribers, timetables, policy.timezone, now, now + horizon)
        return sorted({reminder.due_at for reminder in due})

    return database.transaction(read)


def reminder_job_id(community_id: int, moment: datetime) -> str:
    return f"reminders:{community_id}:{moment.astimezone(UTC):%Y%m%dT%H%M%S}"


def wanted_jobs(community_id: int, instants: Sequence[datetime]) -> dict[str, datetime]:
    return {reminder_job_id(community_id, moment): moment for moment in instants}
