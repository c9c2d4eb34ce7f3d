"""The attendance register as a flow sees it, through `ctx.services.attendance`.

Leaders (headman, deputies) mark their own group's lessons; a student reads their own absences and
tells the headman in advance. Every write checks again that the people named belong to the
leader's group: a button payload can name anyone. Hours: one lesson is `hours_per_lesson`
academic hours; a whole-day mark counts every lesson the student had that day (at least one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.orm import Session

from fsm_bot.attendance import Register, RegisterLesson, RegisterMark, RegisterStudent, register_xlsx
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import allows
from fsm_bot.services.timetable import MOVE_REACH, TimetableService
from fsm_bot.storage.attendance_models import WHOLE_DAY, AbsenceNotice, AbsenceReason, NoticeStatus
from fsm_bot.storage.models import MemberStatus, Role
from fsm_bot.storage.repositories import AbsenceRecord, AttendanceRepository, MemberRepository, SaveResult
from fsm_bot.storage.repositories.timetable import TimetableRepository
from fsm_bot.texts import Texts
from fsm_bot.timetable import Lesson, lessons_between

__all__ = [
    "WHOLE_DAY",
    "AbsenceReason",
    "AttendanceService",
    "NoticeStatus",
    "NoticeView",
    "SaveResult",
    "Student",
    "Totals",
    "register_xlsx",
]


@dataclass(frozen=True)
class Student:
    member_id: int
    vk_id: int
    last_name: str
    first_name: str
    subgroup: int | None

    @property
    def short_name(self) -> str:
        """«Иванова А.»: what fits on a button."""
        initial = f" {self.first_name[:1]}." if self.first_name else ""
        return f"{self.last_name}{initial}".strip() or str(self.vk_id)

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


@dataclass(frozen=True)
class NoticeView:
    """An advance notice as the dialogs read it: a snapshot, never the row itself."""

    id: int
    member_id: int
    study_group_id: int
    first_date: date
    last_date: date
    lesson_key: str
    reason: AbsenceReason
    comment: str
    status: str  # a NoticeStatus value

    @classmethod
    def of(cls, notice: AbsenceNotice) -> NoticeView:
        return cls(
            id=notice.id,
            member_id=notice.member_id,
            study_group_id=notice.study_group_id,
            first_date=notice.first_date,
            last_date=notice.last_date,
            lesson_key=notice.lesson_key,
            reason=AbsenceReason(notice.reason),
            comment=notice.comment,
            status=notice.status,
        )


@dataclass
class Totals:
    lessons: int = 0
    excused_hours: int = 0
    unexcused_hours: int = 0

    @property
    def hours(self) -> int:
        return self.excused_hours + self.unexcused_hours


def lesson_key(lesson: Lesson) -> str:
    return f"{lesson.start:%H:%M}"


class AttendanceService:
    def __init__(
        self,
        session: Session,
        community_id: int,
        member: MemberInfo,
        timetable: TimetableService,
        hours_per_lesson: int = 2,
    ) -> None:
        self.session = session
        self.community_id = community_id
        self.member = member
        self.timetable = timetable
        self.hours_per_lesson = hours_per_lesson
        self.repository = AttendanceRepository(session, community_id)
        self.group_id = timetable.group_id  # the same member's group, looked up once per event

    @property
    def group(self) -> str | None:
        return self.member.study_group if self.group_id is not None else None

    @property
    def may_mark(self) -> bool:
        return self.group_id is not None and allows(self.member.role, Role.DEPUTY)

    def today(self) -> date:
        return self.timetable.today()

    # --- the group

    def students(self) -> list[Student]:
        if self.group_id is None:
            return []
        return group_students(self.session, self.community_id, self.group_id)

    # --- marking

    def lessons(self, day: date) -> list[Lesson]:
        """The lessons of that day that took place: what a leader can mark (whole group's view)."""
        return [lesson for lesson in self.timetable.lessons(day) if lesson.takes_place]

    def saved(self, day: date, key: str) -> tuple[int, dict[int, AbsenceReason]]:
        """(version, marks) of a lesson marked before; (0, {}) if never."""
        if self.group_id is None:
            return 0, {}
        sheet = self.repository.sheet(self.group_id, day, key)
        if sheet is None:
            return 0, {}
        return sheet.version, self.repository.marks(sheet.id)

    def from_notices(self, day: date, key: str) -> dict[int, tuple[AbsenceReason, int]]:
        """Students with an approved advance notice covering this lesson: member id -> (reason, notice id)."""
        if self.group_id is None:
            return {}
        found = {}
        for notice in self.repository.approved_notices(self.group_id, day):
            if notice.lesson_key in (WHOLE_DAY, key):
                found[notice.member_id] = (AbsenceReason(notice.reason), notice.id)
        return found

    def save(
        self,
        day: date,
        key: str,
        marks: Mapping[int, AbsenceReason],
        expected_version: int,
        subject: str = "",
        start: time | None = None,
        notices: Mapping[int, int] | None = None,
    ) -> SaveResult:
        if not self.may_mark or self.group_id is None:
            raise PermissionError("only the group's leaders mark its attendance")
        if day > self.today():
            raise ValueError("a day in the future cannot be marked")
        ours = {student.member_id for student in self.students()}
        strangers = set(marks) - ours
        if strangers:
            raise PermissionError(f"not in {self.group}: member ids {sorted(strangers)}")
        return self.repository.save(
            self.group_id, day, key, marks, self.member.vk_id, expected_version, subject, start, notices
        )

    def marker_name(self, vk_id: int) -> str:
        member = MemberRepository(self.session, self.community_id).get(vk_id)
        return member.full_name if member is not None and member.full_name else f"id{vk_id}"

    def marker_sex(self, vk_id: int) -> int:
        """VK's `sex` of who saved the marks (0 unknown), for «сохранила» / «сохранил»."""
        member = MemberRepository(self.session, self.community_id).get(vk_id)
        return member.sex if member is not None else 0

    # --- reading the register

    def _lessons_per_day(self, first: date, last: date) -> dict[tuple[date, int | None], int]:
        """How many lessons each subgroup had each day: what a whole-day absence counts."""
        if self.group_id is None:
            return {}
        repository = TimetableRepository(self.session, self.community_id)
        slots = repository.slots(self.group_id)
        changes = repository.changes(self.group_id, first - MOVE_REACH, last + MOVE_REACH)
        counts: dict[tuple[date, int | None], int] = defaultdict(int)
        subgroups = {None} | {slot.subgroup for slot in slots}
        semester = repository.semester()
        for subgroup in subgroups:
            for lesson in lessons_between(semester, slots, changes, first, last, subgroup):
                if lesson.takes_place:
                    counts[(lesson.date, subgroup)] += 1
        return counts

    def totals(self, records: list[AbsenceRecord], first: date, last: date) -> dict[int, Totals]:
        subgroups = {student.member_id: student.subgroup for student in self.students()}
        per_day = self._lessons_per_day(first, last)
        totals: dict[int, Totals] = defaultdict(Totals)
        for record in records:
            lessons = 1
            if record.lesson_key == WHOLE_DAY:
                lessons = max(1, per_day.get((record.date, subgroups.get(record.member_id)), 0))
            entry = totals[record.member_id]
            entry.lessons += lessons
            if record.excused:
                entry.excused_hours += lessons * self.hours_per_lesson
            else:
                entry.unexcused_hours += lessons * self.hours_per_lesson
        return dict(totals)

    def my_absences(self, first: date, last: date) -> tuple[list[AbsenceRecord], Totals]:
        member_id = self.timetable.member_id()
        records = self.repository.absences(first, last, member_id=member_id)
        return records, self.totals(records, first, last).get(member_id, Totals())

    def group_absences(self, first: date, last: date) -> list[AbsenceRecord]:
        if self.group_id is None:
            return []
        return self.repository.absences(first, last, study_group_id=self.group_id)

    def register(self, first: date, last: date, texts: Texts) -> Register:
        """The dean's office register of the period: students in rows, marked lessons in columns."""
        assert self.group_id is not None and self.group is not None
        return group_register(
            self.session, self.community_id, self.group_id, self.group, first, last, self.hours_per_lesson, texts
        )

    # --- advance notices

    def create_notice(self, first: date, last: date, key: str, reason: AbsenceReason, comment: str) -> NoticeView:
        if self.group_id is None:
            raise PermissionError("only a member of a group can tell its headman")
        member_id = self.timetable.member_id()
        return NoticeView.of(self.repository.add_notice(member_id, self.group_id, first, last, key, reason, comment))

    def notice_for_leader(self, notice_id: int) -> tuple[NoticeView, Student] | None:
        """A notice this leader may decide: of their own group (a payload can name any id)."""
        notice = self.repository.notice(notice_id)
        if notice is None or not self.may_mark or notice.study_group_id != self.group_id:
            return None
        student = next((s for s in self.students() if s.member_id == notice.member_id), None)
        return (NoticeView.of(notice), student) if student is not None else None

    def decide(self, notice_id: int, approve: bool) -> bool:
        if self.notice_for_leader(notice_id) is None:
            raise PermissionError("not a notice of this leader's group")
        return self.repository.decide(notice_id, approve, self.member.vk_id)


def group_students(session: Session, community_id: int, group_id: int) -> list[Student]:
    """The group's current, approved members, by surname: the rows of the register."""
    members = MemberRepository(session, community_id).in_group(group_id)
    return [
        Student(m.id, m.vk_id, m.last_name, m.first_name, m.subgroup)
        for m in members
        if m.status == MemberStatus.ACTIVE.value
    ]


def group_register(
    session: Session,
    community_id: int,
    group_id: int,
    group: str,
    first: date,
    last: date,
    hours_per_lesson: int,
    texts: Texts,
) -> Register:
    """Students in rows; in columns every marked lesson (a whole-day mark spread over that day's
    lessons in the timetable, or one whole-day column when the timetable has none). Reasons are in the
    words of `texts` (`register.reasons.*`), the register's reader's."""
    students = group_students(session, community_id, group_id)
    attendance = AttendanceRepository(session, community_id)
    timetable = TimetableRepository(session, community_id)
    per_day_lessons: dict[date, list[Lesson]] = defaultdict(list)
    for lesson in lessons_between(
        timetable.semester(), timetable.slots(group_id), timetable.changes(group_id, first, last), first, last
    ):
        if lesson.takes_place:
            per_day_lessons[lesson.date].append(lesson)
    columns: dict[str, RegisterLesson] = {}
    for sheet in attendance.sheets(group_id, first, last):
        if sheet.lesson_key == WHOLE_DAY and per_day_lessons.get(sheet.date):
            for lesson in per_day_lessons[sheet.date]:
                key = f"{sheet.date}T{lesson_key(lesson)}"
                columns.setdefault(key, RegisterLesson(key, sheet.date, lesson.start, lesson.subject, lesson.kind))
        else:
            key = f"{sheet.date}T{sheet.lesson_key}"
            columns[key] = RegisterLesson(key, sheet.date, sheet.lesson_start, sheet.subject)
    subgroups = {student.member_id: student.subgroup for student in students}
    marks = []
    for record in attendance.absences(first, last, study_group_id=group_id):
        reason = "" if record.reason is AbsenceReason.UNEXCUSED else texts(f"register.reasons.{record.reason.value}")
        if record.lesson_key == WHOLE_DAY and per_day_lessons.get(record.date):
            for lesson in per_day_lessons[record.date]:
                if lesson.subgroup is None or lesson.subgroup == subgroups.get(record.member_id):
                    key = f"{record.date}T{lesson_key(lesson)}"
                    marks.append(RegisterMark(record.member_id, key, record.excused, reason))
        else:
            marks.append(RegisterMark(record.member_id, f"{record.date}T{record.lesson_key}", record.excused, reason))
    return Register(
        group=group,
        first=first,
        last=last,
        students=[RegisterStudent(s.member_id, s.last_name, s.first_name) for s in students],
        lessons=list(columns.values()),
        marks=marks,
        hours_per_lesson=hours_per_lesson,
    )
