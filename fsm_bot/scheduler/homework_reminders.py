"""Reminders before an assignment's due time, each sent exactly once: the class reminders' rule, reused.

A reminder is identified by its subscription (a member's homework_* kind: a day, three hours or an hour
before) and the occurrence "homework:<assignment>@<due time, UTC>"; it is recorded in `fired_reminder` in the
transaction that queues its message, and only the run whose insert wins sends it, so a job that fires twice,
a restart after kill -9 or two workers end in one message. A new due time is a new occurrence: the edit's
notice told people of it, and the reminders follow it.

Not reminded: an assignment its member marked done, a cancelled one, one given after its reminder's moment
(the announcement itself was the reminder), and one whose due time has passed while the bot was down.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from fsm_bot.scheduler.reminders import Languages, ReminderPolicy, Translate, _translate_for
from fsm_bot.storage import Database
from fsm_bot.storage.homework_models import Homework
from fsm_bot.storage.repositories import Firing, OutboxRepository, Subscriber, SubscriptionRepository
from fsm_bot.storage.repositories.homework import HomeworkRepository
from fsm_bot.storage.timetable_models import HOMEWORK_KINDS
from fsm_bot.timetable.render import WEEKDAY_KEYS

log = logging.getLogger(__name__)

LONGEST_LEAD = timedelta(days=1)  # the longest lead a subscription can choose (services/homework.py LEADS)


@dataclass(frozen=True)
class DueHomework:
    subscriber: Subscriber
    homework: Homework
    due_at: datetime  # when the reminder falls due: the deadline less the lead

    @property
    def occurrence(self) -> str:
        return f"homework:{self.homework.id}@{self.homework.due_at.astimezone(UTC):%Y%m%dT%H%M}"


def _due(session: Session, community_id: int, since: datetime, until: datetime) -> list[DueHomework]:
    """Every homework reminder falling due in (since, until], done ones left out, sent or not."""
    subscribers = SubscriptionRepository(session, community_id).subscribers(HOMEWORK_KINDS)
    if not subscribers:
        return []
    repository = HomeworkRepository(session, community_id)
    assignments = repository.due_between(since, until + LONGEST_LEAD)
    done = repository.done_by([homework.id for homework in assignments])
    by_group: dict[int, list[Homework]] = defaultdict(list)
    for homework in assignments:
        by_group[homework.study_group_id].append(homework)
    found = []
    for subscriber in subscribers:
        lead = timedelta(minutes=subscriber.lead_minutes or 60)
        for homework in by_group.get(subscriber.study_group_id, []):
            moment = homework.due_at - lead
            if since < moment <= until and moment > homework.created_at and (homework.id, subscriber.vk_id) not in done:
                found.append(DueHomework(subscriber, homework, moment))
    return found


def _when(t: Translate, moment: datetime, policy: ReminderPolicy) -> str:
    local = moment.astimezone(policy.timezone)
    return f"{t(f'timetable.weekdays.{WEEKDAY_KEYS[local.weekday()]}')} {local:%d.%m %H:%M}"


def _text(t: Translate, reminder: DueHomework, policy: ReminderPolicy) -> str:
    homework = reminder.homework
    return t(
        "homework.remind",
        lead=t(f"homework_reminders.lead.{reminder.subscriber.kind.value}"),
        subject=homework.subject,
        when=_when(t, homework.due_at, policy),
        text=homework.text,
    ).strip()


def fire_due_homework(
    database: Database,
    community_id: int,
    policy: ReminderPolicy,
    t: Translate | Languages,
    now: datetime | None = None,
) -> int:
    """Queue every homework reminder due by `now` and not recorded yet; returns how many were queued."""
    translate_for = _translate_for(t)
    now = now or datetime.now(UTC)
    since = now - policy.lookback

    def fire(session: Session) -> int:
        due = _due(session, community_id, since, now)
        if not due:
            return 0
        subscriptions = SubscriptionRepository(session, community_id)
        recorded = subscriptions.recorded({r.subscriber.subscription_id for r in due}, since - timedelta(days=1))
        fresh = [r for r in due if (r.subscriber.subscription_id, r.occurrence) not in recorded]
        # The deadline passed while nobody was looking: a reminder of it now would only mislead.
        late = {id(r) for r in fresh if r.homework.due_at <= now}
        inserted = subscriptions.record_fired(
            [
                Firing(r.subscriber.subscription_id, r.occurrence, r.due_at, "dropped" if id(r) in late else "sent")
                for r in fresh
            ]
        )
        by_text: dict[str, list[int]] = defaultdict(list)
        for reminder in fresh:
            if (reminder.subscriber.subscription_id, reminder.occurrence) not in inserted or id(reminder) in late:
                continue  # another run recorded it first, or it is too late
            theirs = translate_for(reminder.subscriber.locale)
            by_text[_text(theirs, reminder, policy)].append(reminder.subscriber.vk_id)
        outbox = OutboxRepository(session, community_id)
        return sum(outbox.add_many(peers, text) for text, peers in by_text.items())

    sent = database.transaction(fire)
    if sent:
        log.info("homework reminders: %d queued", sent)
    return sent


def homework_instants(
    database: Database, community_id: int, policy: ReminderPolicy, now: datetime, horizon: timedelta
) -> list[datetime]:
    """The moments in (now, now + horizon] at which a homework reminder falls due: where to wake up."""

    def read(session: Session) -> list[datetime]:
        return sorted({reminder.due_at for reminder in _due(session, community_id, now, now + horizon)})

    return database.transaction(read)
