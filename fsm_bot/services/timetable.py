"""The timetable as a flow sees it, through `ctx.services.timetable`: the member's own lessons,
one-off changes by the headman, calendar files and reminder subscriptions.

Leaders (headman, deputies) see their whole group, subgroups marked; a student sees the group's
common lessons and their own subgroup's. Everything written here commits with the dialog step;
`changed` tells the engine to re-plan reminder jobs after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import allows
from fsm_bot.services.timetable_upload import (
    CHANGES_AHEAD,
    TimetableUpload,
    UploadPreview,
    difference,
    future_changes,
    has_document,
    read_upload,
    semester_after,
)
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import TIMETABLE_KINDS, SubscriptionKind
from fsm_bot.texts import Texts
from fsm_bot.timetable import (
    Change,
    ChangeKind,
    Lesson,
    LessonStatus,
    Parity,
    Semester,
    Slot,
    export_ics,
    lessons_between,
    lessons_on,
    parity_of,
)
from fsm_bot.timetable.render import day_text, lesson_line

__all__ = [
    "TIMETABLE_KINDS",
    "Change",
    "ChangeKind",
    "Lesson",
    "LessonStatus",
    "Parity",
    "Slot",
    "SubscriptionKind",
    "SubscriptionView",
    "TimetableService",
    "day_text",
    "lesson_line",
]


MOVE_REACH = timedelta(days=31)  # how far a moved lesson may travel; changes are read this far around a span


@dataclass(frozen=True)
class SubscriptionView:
    kind: SubscriptionKind
    at_time: time | None
    lead_minutes: int | None


class TimetableService:
    def __init__(self, session: Session, community_id: int, member: MemberInfo, timezone: ZoneInfo) -> None:
        self.session = session
        self.community_id = community_id
        self.member = member
        self.timezone = timezone
        self.repository = TimetableRepository(session, community_id)
        self.changed = False  # subscriptions or the timetable changed: reminder jobs need re-planning
        self._group_id: int | None = None
        if member.study_group:
            group = CommunityRepository(session).find_group(community_id, member.study_group)
            self._group_id = group.id if group is not None else None

    # --- reading

    @property
    def group_id(self) -> int | None:
        return self._group_id

    def subjects(self) -> list[str]:
        """The group's subjects in its weekly timetable, alphabetically (ё and case folded): the subject buttons
        of the dialogs that ask for one (homework, queues)."""
        if self._group_id is None:
            return []
        return sorted({slot.subject for slot in self.repository.slots(self._group_id) if slot.subject}, key=fold)

    @property
    def group(self) -> str | None:
        return self.member.study_group if self._group_id is not None else None

    @property
    def whole_group(self) -> bool:
        """Leaders see every subgroup's lessons; a student only what concerns them."""
        return allows(self.member.role, Role.DEPUTY)

    @property
    def viewer_subgroup(self) -> int | None:
        return None if self.whole_group else self.member.subgroup

    @property
    def marks_subgroups(self) -> bool:
        """Whoever sees more than one subgroup's lessons (a leader, a student not in a subgroup) is told
        whose each lesson is; a student of a subgroup sees only their own, so the mark would be noise."""
        return self.viewer_subgroup is None

    def has_timetable(self) -> bool:
        return self._group_id is not None and bool(self.repository.slots(self._group_id))

    def today(self) -> date:
        return datetime.now(self.timezone).date()

    def semester(self) -> Semester | None:
        return self.repository.semester()

    def parity(self, day: date) -> Parity:
        return parity_of(self.semester(), day)

    def _slots_and_changes(self, first: date, last: date) -> tuple[list[Slot], list[Change]]:
        """The group's week and the changes that can touch [first, last]: a lesson moved in from
        another day is stored under that day, so changes are read a month either side."""
        assert self._group_id is not None
        slots = self.repository.slots(self._group_id)
        return slots, self.repository.changes(self._group_id, first - MOVE_REACH, last + MOVE_REACH)

    def lessons(self, day: date) -> list[Lesson]:
        if self._group_id is None:
            return []
        slots, changes = self._slots_and_changes(day, day)
        return lessons_on(self.semester(), slots, changes, day, self.viewer_subgroup)

    def days(self, first: date, last: date) -> list[tuple[date, list[Lesson]]]:
        """Every day in [first, last] with its lessons (days without lessons are left out)."""
        if self._group_id is None:
            return []
        slots, changes = self._slots_and_changes(first, last)
        by_day: dict[date, list[Lesson]] = {}
        for lesson in lessons_between(self.semester(), slots, changes, first, last, self.viewer_subgroup):
            by_day.setdefault(lesson.date, []).append(lesson)
        return sorted(by_day.items())

    def ics(self, days: int, texts: Texts) -> bytes:
        """The member's lessons from today for `days` days as an .ics file for a phone calendar, in the words
        of `texts` (a moved lesson's note)."""
        assert self._group_id is not None and self.member.study_group is not None
        first = self.today()
        last = first + timedelta(days=days)
        slots, changes = self._slots_and_changes(first, last)
        name = self.member.study_group
        if self.viewer_subgroup is not None:
            name += f" / {self.viewer_subgroup}"
        semester, subgroup = self.semester(), self.viewer_subgroup
        return export_ics(name, semester, slots, changes, self.timezone, first, last, subgroup, t=texts)

    # --- changes (leaders only: the flow checks the role at every step, this checks again)

    def add_change(self, change: Change) -> int:
        if not self.whole_group or self._group_id is None:
            raise PermissionError("only a group's leaders change its timetable")
        if change.slot_id is not None:
            if change.slot_id not in {slot.id for slot in self.repository.slots(self._group_id)}:
                raise PermissionError("that lesson is not in this group's timetable")
            self.repository.remove_changes_of(self._group_id, change.slot_id, change.date)
        change_id = self.repository.add_change(self._group_id, change, self.member.vk_id)
        self.changed = True
        return change_id

    # --- a new week from a file (leaders only, their own group: checked again here, as for changes)

    def read_upload(self, attachments: tuple[dict[str, Any], ...]) -> TimetableUpload:
        """The group's week from a message's document: UploadRefused or TimetableFileError say why not."""
        if not self.whole_group or self.member.study_group is None:
            raise PermissionError("only a group's leaders load its timetable")
        return read_upload(attachments, self.member.study_group, self.timezone)

    @staticmethod
    def has_document(attachments: tuple[dict[str, Any], ...]) -> bool:
        """Whether a message brings a document at all (a sticker or a photo is no file to read)."""
        return has_document(attachments)

    def preview(self, upload: TimetableUpload) -> UploadPreview:
        """What «Применить» would change: lessons against the stored week, the semester, dropped changes."""
        before = self.repository.slots(self._group_id) if self._group_id is not None else []
        others = set(self.repository.groups_with_slots()) - {self._group_id}
        semester, replaced, kept_over = semester_after(upload.semester, self.semester(), not others)
        dropped, today = 0, self.today()
        if self._group_id is not None:
            dropped = future_changes(self.repository.changes(self._group_id, today, today + CHANGES_AHEAD), today)
        change = difference(before, upload.slots)
        return UploadPreview(upload, change, semester, replaced, kept_over, dropped, parity_of(semester, today))

    def replace_week(self, upload: TimetableUpload) -> UploadPreview:
        """The group's weekly timetable replaced by `upload`, in this event's transaction; reminders are
        re-planned after the commit. Returns what changed, as the preview said it (computed again now)."""
        if not self.whole_group or self.member.study_group is None or upload.group != self.member.study_group:
            raise PermissionError("only a group's leaders load its timetable")
        applied = self.preview(upload)
        group = CommunityRepository(self.session).study_group(self.community_id, upload.group)
        self._group_id = group.id
        self.repository.replace_slots(group.id, upload.slots)
        if applied.semester_replaced and upload.semester is not None:
            self.repository.set_semester(upload.semester)
        self.changed = True
        return applied

    def subscribers_for(self, subgroup: int | None) -> list[int]:
        """Who hears of a change at once: the group's subscribers (any kind) whom the lesson concerns."""
        if self._group_id is None:
            return []
        # Homework reminders (the homework_* kinds) are about deadlines, not lessons: they bring no changes.
        found = SubscriptionRepository(self.session, self.community_id).subscribers(
            TIMETABLE_KINDS, study_group_id=self._group_id
        )
        return sorted({s.vk_id for s in found if subgroup is None or s.subgroup is None or s.subgroup == subgroup})

    # --- subscriptions of this member

    def member_id(self) -> int:
        """The asking member's row id (subscriptions, notices and marks refer to it)."""
        member = MemberRepository(self.session, self.community_id).get(self.member.vk_id)
        assert member is not None
        return member.id

    def subscriptions(self) -> list[SubscriptionView]:
        rows = SubscriptionRepository(self.session, self.community_id).of_member(self.member_id())
        kinds = {kind.value for kind in TIMETABLE_KINDS}  # homework's are shown in «задания»
        views = [SubscriptionView(SubscriptionKind(row.kind), row.at_time, row.lead_minutes) for row in rows]
        return [view for view in views if view.kind.value in kinds]

    def subscribe(self, kind: SubscriptionKind, at_time: time | None = None, lead_minutes: int | None = None) -> None:
        repository = SubscriptionRepository(self.session, self.community_id)
        member_id = self.member_id()
        if kind in (SubscriptionKind.BEFORE_FIRST, SubscriptionKind.BEFORE_EACH):
            # One kind of before-class reminder at a time: both would say the first class twice.
            other = (
                SubscriptionKind.BEFORE_EACH if kind is SubscriptionKind.BEFORE_FIRST else SubscriptionKind.BEFORE_FIRST
            )
            repository.remove(member_id, other)
        repository.put(member_id, kind, at_time, lead_minutes)
        self.changed = True

    def unsubscribe(self, kind: SubscriptionKind | None = None) -> int:
        repository = SubscriptionRepository(self.session, self.community_id)
        removed = repository.remove(self.member_id(), kind, None if kind is not None else TIMETABLE_KINDS)
        self.changed = True
        return removed
