"""Time-activated work of one bot: class reminders, digests and scheduled commands.

APScheduler decides when to wake up; what is due is decided from the database, so every wake-up
may safely look back and catch up (see fsm_bot.scheduler.reminders). Jobs in APScheduler's table
hold only the community id and a key; the live objects are found through `job_target`.

Jobs:
- `reminders:<community>:<UTC time>`: one-off, at each moment some reminder (before class, a digest, before
  a homework's due time) falls due in the next day; re-planned at start, every few minutes and after anyone
  changes subscriptions, the timetable or an assignment.
- `reminders-plan:<community>`: every few minutes: catch up (anything due and not recorded) and plan.
- `command:<community>:<key>:<HHMM>`: cron, one per scheduled command and time of day.
- `timetable-feed:<community>:<group>`: every `every_minutes`, one per `timetable.feeds` entry: fetch the
  group's .ics, apply a new week, tell the subscribers (or the headman of a problem, once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.config import Settings
from fsm_bot.engine.inbox import Inbox
from fsm_bot.runtime.feed_fetch import fetch_feed
from fsm_bot.scheduler import BotScheduler, register_job_target
from fsm_bot.scheduler.commands import WEEKDAYS, ScheduledCommand, due_runs, parse_clock
from fsm_bot.scheduler.homework_reminders import fire_due_homework, homework_instants
from fsm_bot.scheduler.reminders import (
    FireReport,
    ReminderPolicy,
    fire_due_reminders,
    upcoming_instants,
    wanted_jobs,
)
from fsm_bot.scheduler.runtime import job_target, unregister_job_target
from fsm_bot.services.timetable_feed import Feed, FeedRefresh, FeedReport, request_headers
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.vk.events import parse_update

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(minutes=5)
PLAN_HORIZON = timedelta(hours=24)
COMMAND_GRACE = timedelta(hours=1)  # a scheduled command missed while down is made up this late at most
FEED_FIRST_RUN = timedelta(minutes=1)  # after a start, not a whole interval (an hour by default) later


def scheduled_commands(
    settings: Settings, chats: Mapping[str, int] | None = None
) -> tuple[list[ScheduledCommand], list[str]]:
    """The `schedule` entries resolved to peers and people; problems are returned, not raised, so
    one mistyped entry does not stop the bot (it is named in the log at start). `chats`: the study
    groups' chats as the database has them (bound from VK); settings' chat_peer_id only seeds those."""
    commands, problems = [], []
    groups = settings.stream.groups
    chats = chats or {}
    for number, entry in enumerate(settings.schedule, start=1):
        target = entry.to
        group = groups.get(str(target)) if not isinstance(target, int) else None
        if isinstance(target, int) or str(target).lstrip("-").isdigit():
            peer_id = int(target)
        elif str(target) in chats:
            peer_id = chats[str(target)]
        elif group is not None and group.chat_peer_id is not None:
            peer_id = group.chat_peer_id
        else:
            problems.append(
                f"schedule entry {number} ({entry.command!r}): {target!r} is neither a peer id nor a study group "
                "with a chat (add the bot to the group's chat, or stream.groups.<group>.chat_peer_id)"
            )
            continue
        run_as = entry.run_as or (group.headman if group is not None else None)
        if run_as is None:
            problems.append(
                f"schedule entry {number} ({entry.command!r}): say on whose behalf it runs (run_as: <VK id>)"
            )
            continue
        commands.append(
            ScheduledCommand(
                command=entry.command,
                peer_id=peer_id,
                run_as=run_as,
                times=tuple(parse_clock(value) for value in entry.times),
                days=frozenset(WEEKDAYS.index(day) for day in entry.days),
            )
        )
    return commands, problems


class Timekeeper:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        community_id: int,
        scheduler: BotScheduler,
        inbox: Inbox,
        translate: Callable[..., str],
        wake_sender: Callable[[], None],
    ) -> None:
        self.community_id = community_id
        self.database = database
        self.scheduler = scheduler
        self.inbox = inbox
        self.translate = translate
        self.wake_sender = wake_sender
        self.timezone = ZoneInfo(settings.timezone)
        self.policy = ReminderPolicy(
            self.timezone,
            late_drop=timedelta(minutes=settings.reminders.late_drop_minutes),
            digest_grace=timedelta(hours=settings.reminders.digest_grace_hours),
        )
        self.commands, problems = scheduled_commands(settings, database.transaction(self._group_chats))
        for problem in problems:
            log.warning("%s; the entry is skipped", problem)
        self._plan_lock = threading.Lock()
        self.feeds = {
            entry.group: (Feed(entry.group, entry.url), entry.every_minutes) for entry in settings.timetable.feeds
        }
        self._headmen = {name: group.headman for name, group in settings.stream.groups.items()}
        self._feed_lock = threading.Lock()  # a refresh at a time: two would both tell the headman

    def _group_chats(self, session: Session) -> dict[str, int]:
        return {
            group.name: group.chat_peer_id
            for group in CommunityRepository(session).study_groups(self.community_id)
            if group.chat_peer_id is not None
        }

    @property
    def job_name(self) -> str:
        return f"timekeeper:{self.community_id}"

    def start(self) -> None:
        """After the scheduler started: catch up on what fell due while the bot was down, then plan."""
        register_job_target(self.job_name, self)
        self.run_due_commands()
        self.fire_reminders()
        self.plan()
        self.scheduler.every(
            f"reminders-plan:{self.community_id}",
            reminders_plan_job,
            PLAN_EVERY.total_seconds(),
            community_id=self.community_id,
        )
        keys = []
        for command in self.commands:
            for moment in command.times:
                job_id = f"command:{self.community_id}:{command.key}:{moment:%H%M}"
                keys.append(job_id)
                self.scheduler.cron(
                    job_id,
                    command_job,
                    hour=moment.hour,
                    minute=moment.minute,
                    day_of_week=command.day_of_week(),
                    misfire_grace_time=int(COMMAND_GRACE.total_seconds()),
                    community_id=self.community_id,
                )
        removed = self.scheduler.remove_jobs(f"command:{self.community_id}:", keep=keys)
        if removed:
            log.info("removed %d scheduled command job(s) no longer in settings", removed)
        self._schedule_feeds()

    def _schedule_feeds(self) -> None:
        keys = []
        for group, (_feed, every_minutes) in self.feeds.items():
            keys.append(f"timetable-feed:{self.community_id}:{group}")
            self.scheduler.every(
                keys[-1],
                timetable_feed_job,
                every_minutes * 60,
                first_at=datetime.now(UTC) + FEED_FIRST_RUN,
                community_id=self.community_id,
                group=group,
            )
        self.scheduler.remove_jobs(f"timetable-feed:{self.community_id}:", keep=keys)

    def stop(self) -> None:
        unregister_job_target(self.job_name)

    # --- reminders

    def fire_reminders(self, now: datetime | None = None) -> FireReport:
        report = fire_due_reminders(self.database, self.community_id, self.policy, self.translate, now)
        report.homework = fire_due_homework(self.database, self.community_id, self.policy, self.translate, now)
        if report.sent or report.homework:
            self.wake_sender()
        return report

    def plan(self, now: datetime | None = None) -> int:
        """Jobs for the moments reminders fall due in the next day; idempotent, so call it freely."""
        now = now or datetime.now(UTC)
        with self._plan_lock:
            instants = upcoming_instants(self.database, self.community_id, self.policy, now, PLAN_HORIZON)
            instants += homework_instants(self.database, self.community_id, self.policy, now, PLAN_HORIZON)
            wanted = wanted_jobs(self.community_id, instants)
            added, removed = self.scheduler.sync_date_jobs(
                f"reminders:{self.community_id}:",
                wanted,
                reminders_job,
                misfire_grace_time=int(self.policy.lookback.total_seconds()),
                community_id=self.community_id,
            )
        if added or removed:
            log.debug("reminder jobs: %d added, %d removed, %d planned", added, removed, len(wanted))
        return len(wanted)

    # --- scheduled commands

    def run_due_commands(self, now: datetime | None = None, since: datetime | None = None) -> int:
        """Put every run due in (since, now] into the inbox; repeats are dropped by its unique key."""
        now = now or datetime.now(UTC)
        since = since or now - COMMAND_GRACE
        runs = due_runs(self.commands, self.timezone, since, now)
        if runs:
            self.inbox.accept([parse_update(command.event(self.community_id, due)) for command, due in runs])
        return len(runs)

    def run_command_now(self) -> int:
        """A cron job fired (perhaps late): its run, and any other not yet in the inbox, goes there."""
        return self.run_due_commands()

    # --- timetable feeds

    def refresh_feed(self, group: str) -> FeedReport:
        """Fetch the group's feed and settle what it brought; never raises (a job that did would only be
        logged by APScheduler, and the headman would hear nothing)."""
        if group not in self.feeds:
            return FeedReport()  # removed from settings since the job was stored
        feed = self.feeds[group][0]
        with self._feed_lock:
            try:
                headers = self.database.transaction(lambda session: request_headers(session, self.community_id, feed))
                outcome = fetch_feed(feed.url, headers)
                report = self.database.transaction(
                    lambda session: FeedRefresh(
                        session, self.community_id, feed, self.translate, self.timezone, self._headmen.get(group)
                    ).settle(outcome)
                )
            except Exception:
                log.exception("timetable feed of %s (%s): refresh failed; next time again", group, feed.host)
                return FeedReport()
        if report.applied:
            self.plan()
        if report.messages:
            self.wake_sender()
        return report


def _timekeeper(community_id: int) -> Timekeeper:
    target = job_target(f"timekeeper:{community_id}")
    assert isinstance(target, Timekeeper)
    return target


def reminders_job(community_id: int) -> None:
    """Persisted one-off job: send the reminders due now (and any not sent yet)."""
    _timekeeper(community_id).fire_reminders()


def reminders_plan_job(community_id: int) -> None:
    """Persisted interval job: catch up, then plan the next day's wake-ups."""
    keeper = _timekeeper(community_id)
    keeper.fire_reminders()
    keeper.plan()


def command_job(community_id: int) -> None:
    """Persisted cron job of a scheduled command."""
    _timekeeper(community_id).run_command_now()


def timetable_feed_job(community_id: int, group: str) -> None:
    """Persisted interval job: refresh one group's timetable feed."""
    _timekeeper(community_id).refresh_feed(group)


__all__: Sequence[str] = ["Timekeeper", "scheduled_commands"]
