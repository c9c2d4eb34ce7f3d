"""Homework and deadlines as a flow sees them, through `ctx.services.homework`.

A leader (headman, deputy) gives their group an assignment; each active member of the group is told,
and who was told is kept, so an edit or a cancellation reaches the same people. A member reads and marks
only their own group's assignments: a forged button naming another group's gets None, never a view of it.
Reminders before a due time are `subscription` rows of the homework_* kinds, fired by
scheduler/homework_reminders.py; `changed` tells the engine to re-plan the reminder jobs after the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import Forbidden, allows
from fsm_bot.services.dates import parse_day
from fsm_bot.services.timetable import TimetableService
from fsm_bot.storage.homework_models import SUBJECT_LENGTH, Homework
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import SubscriptionRepository
from fsm_bot.storage.repositories.homework import Addressee, HomeworkRepository
from fsm_bot.storage.timetable_models import HOMEWORK_KINDS, SubscriptionKind
from fsm_bot.vk.attachments import MAX_ATTACHMENTS, read_attachments

__all__ = ["LEADS", "Addressee", "Assignment", "Files", "HomeworkService", "SubscriptionKind"]

# The lead times a student may choose, each a subscription kind of its own (one row per member and kind).
LEADS = {
    SubscriptionKind.HOMEWORK_DAY: 24 * 60,
    SubscriptionKind.HOMEWORK_HOURS: 3 * 60,
    SubscriptionKind.HOMEWORK_HOUR: 60,
}
NEXT_LESSON_REACH = timedelta(days=28)  # «к следующей паре» looks this far ahead
SHOWN = 10  # assignments «задания» lists
TEXT_LENGTH = 3000  # room for the subject and due date in one VK message of 4096
END_OF_DAY = time(23, 59)
_CLOCK = re.compile(r"(.*?)\s*(\d{1,2})[:.](\d{2})\s*$")


@dataclass(frozen=True)
class Assignment:
    id: int
    group: str
    subject: str
    text: str
    files: tuple[str, ...]  # VK attachment strings, sent on as they came
    due_at: datetime  # in the community's time zone
    done: bool = False  # by the member who asks
    cancelled: bool = False


@dataclass(frozen=True)
class Files:
    """What a message brought besides its text: attachments to carry, links to add to the text."""

    strings: tuple[str, ...]
    links: tuple[str, ...]
    unsupported: bool

    @property
    def too_many(self) -> bool:
        return len(self.strings) > MAX_ATTACHMENTS


class HomeworkService:
    def __init__(
        self, session: Session, community_id: int, member: MemberInfo, timetable: TimetableService, timezone: ZoneInfo
    ) -> None:
        self.session = session
        self.community_id = community_id
        self.member = member
        self.timetable = timetable
        self.timezone = timezone
        self.repository = HomeworkRepository(session, community_id)
        self.changed = False  # assignments or subscriptions changed: reminder jobs need re-planning

    # --- who may

    @property
    def group(self) -> str | None:
        return self.timetable.group

    @property
    def leads(self) -> bool:
        """A leader of a group: may give, change and cancel its assignments."""
        return allows(self.member.role, Role.DEPUTY) and self.timetable.group_id is not None

    def _require_leader(self) -> int:
        group_id = self.timetable.group_id
        if not allows(self.member.role, Role.DEPUTY) or group_id is None:
            raise Forbidden(Role.DEPUTY)
        return group_id

    def _ours(self, homework_id: int) -> Homework | None:
        """The assignment if it is this member's group's: anything else reads as absent."""
        row = self.repository.get(homework_id)
        if row is None or self.timetable.group_id is None or row.study_group_id != self.timetable.group_id:
            return None
        return row

    # --- what a leader is helped with

    def now(self) -> datetime:
        return datetime.now(self.timezone)

    def next_lesson(self, subject: str) -> datetime | None:
        """When the group next has `subject` (any subgroup's lesson; a cancelled one does not count)."""
        now = self.now()
        wanted = fold(subject.strip())
        for day, lessons in self.timetable.days(now.date(), now.date() + NEXT_LESSON_REACH):
            for lesson in sorted(lessons, key=lambda each: each.start):
                start = datetime.combine(day, lesson.start, tzinfo=self.timezone)
                if lesson.takes_place and fold(lesson.subject) == wanted and start > now:
                    return start
        return None

    def parse_due(self, text: str) -> datetime | None:
        """«05.12 18:00», «завтра 10:00», «05.12» (the end of that day); None if not a time still ahead."""
        text = text.strip()
        match = _CLOCK.fullmatch(text)
        at = END_OF_DAY
        if match is not None:
            hours, minutes = int(match[2]), int(match[3])
            if hours > 23 or minutes > 59:
                return None
            text, at = match[1], time(hours, minutes)
        today = self.now().date()
        day: date | None = parse_day(text, today) if text else today
        if day is None:
            return None
        due = datetime.combine(day, at, tzinfo=self.timezone)
        return due if due > self.now() else None

    @staticmethod
    def read_files(attachments: tuple[dict[str, Any], ...]) -> Files:
        media = read_attachments(attachments)
        return Files(media.strings, media.links, bool(media.unsupported))

    # --- giving, changing, cancelling (leaders of the group only, checked here at every call)

    def add(
        self, subject: str, text: str, files: tuple[str, ...], due_at: datetime
    ) -> tuple[Assignment, list[Addressee]]:
        """The assignment and everyone of the group to tell of it, recorded as told in this transaction."""
        group_id = self._require_leader()
        row = self.repository.add(
            group_id, subject.strip()[:SUBJECT_LENGTH], text[:TEXT_LENGTH], files, due_at, self.member.vk_id
        )
        told = self.repository.audience(group_id, leaving_out=self.member.vk_id)
        self.repository.tell(row.id, [person.member_id for person in told])
        self.changed = True
        return self._view(row), told

    def for_leader(self, homework_id: int) -> Assignment | None:
        """An assignment this leader may change (their group's, not cancelled)."""
        self._require_leader()
        row = self._ours(homework_id)
        return None if row is None or row.cancelled_at is not None else self._view(row)

    def change_text(self, homework_id: int, text: str) -> tuple[Assignment, list[Addressee]] | None:
        return self._change(homework_id, text=text[:TEXT_LENGTH])

    def change_due(self, homework_id: int, due_at: datetime) -> tuple[Assignment, list[Addressee]] | None:
        return self._change(homework_id, due_at=due_at)

    def cancel(self, homework_id: int) -> tuple[Assignment, list[Addressee]] | None:
        return self._change(homework_id, cancelled_at=datetime.now(UTC))

    def _change(self, homework_id: int, **values: Any) -> tuple[Assignment, list[Addressee]] | None:
        """The changed assignment and those told of it, or None if it is not this leader's to change."""
        self._require_leader()
        row = self._ours(homework_id)
        if row is None or row.cancelled_at is not None:
            return None
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()
        self.changed = True
        return self._view(row), self.repository.told(row.id, leaving_out=self.member.vk_id)

    # --- a member's side

    def upcoming(self) -> list[Assignment]:
        """The group's assignments still ahead, the nearest first, each marked done if this member did it."""
        group_id = self.timetable.group_id
        if group_id is None:
            return []
        rows = self.repository.upcoming(group_id, datetime.now(UTC), SHOWN)
        member_id = self.timetable.member_id()
        done = self.repository.done_of(member_id, [row.id for row in rows])
        return [self._view(row, row.id in done) for row in rows]

    def mark_done(self, homework_id: int, done: bool = True) -> Assignment | None:
        """Done (or not done again); None for an assignment of another group, or cancelled."""
        row = self._ours(homework_id)
        if row is None or row.cancelled_at is not None:
            return None
        self.repository.set_done(row.id, self.timetable.member_id(), done)
        return self._view(row, done)

    def _view(self, row: Homework, done: bool = False) -> Assignment:
        return Assignment(
            row.id,
            self.group or "",
            row.subject,
            row.text,
            tuple(row.attachments or ()),
            row.due_at.astimezone(self.timezone),
            done,
            row.cancelled_at is not None,
        )

    # --- reminders before a due time

    def reminder_leads(self) -> set[SubscriptionKind]:
        rows = SubscriptionRepository(self.session, self.community_id).of_member(self.timetable.member_id())
        kinds = {kind.value for kind in HOMEWORK_KINDS}
        return {SubscriptionKind(row.kind) for row in rows if row.kind in kinds}

    def toggle_reminder(self, kind: SubscriptionKind) -> bool:
        """On if it was off, off if it was on; returns whether it is on now."""
        if kind not in LEADS:
            raise ValueError(f"{kind} is no homework reminder")
        repository = SubscriptionRepository(self.session, self.community_id)
        member_id = self.timetable.member_id()
        on = kind not in self.reminder_leads()
        if on:
            repository.put(member_id, kind, lead_minutes=LEADS[kind])
        else:
            repository.remove(member_id, kind)
        self.changed = True
        return on
