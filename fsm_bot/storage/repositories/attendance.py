"""The attendance register as stored: sheets of marked lessons, absences, audit, advance notices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.attendance_models import (
    Absence,
    AbsenceNotice,
    AbsenceReason,
    AttendanceAudit,
    AttendanceSheet,
    NoticeStatus,
)
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.repositories._upsert import insert_if_absent
from fsm_bot.storage.types import utcnow

PRESENT = "present"


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    version: int
    # When not saved: someone else saved this lesson since the marking began.
    other_by: int | None = None
    other_at: datetime | None = None


@dataclass(frozen=True)
class AbsenceRecord:
    member_id: int
    date: date
    lesson_key: str
    subject: str
    lesson_start: time | None
    reason: AbsenceReason

    @property
    def excused(self) -> bool:
        return self.reason.excused


class AttendanceRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    # --- sheets and marks

    def sheet(self, study_group_id: int, day: date, lesson_key: str) -> AttendanceSheet | None:
        return self.session.scalars(
            select(AttendanceSheet).where(
                AttendanceSheet.study_group_id == study_group_id,
                AttendanceSheet.date == day,
                AttendanceSheet.lesson_key == lesson_key,
            )
        ).one_or_none()

    def marks(self, sheet_id: int) -> dict[int, AbsenceReason]:
        rows = self.session.execute(select(Absence.member_id, Absence.reason).where(Absence.sheet_id == sheet_id))
        return {row.member_id: AbsenceReason(row.reason) for row in rows}

    def save(
        self,
        study_group_id: int,
        day: date,
        lesson_key: str,
        marks: Mapping[int, AbsenceReason],
        by: int,
        expected_version: int,
        subject: str = "",
        lesson_start: time | None = None,
        notices: Mapping[int, int] | None = None,
    ) -> SaveResult:
        """Replace the lesson's marks if nobody saved it since `expected_version` (0: never saved).

        The version check is a compare-and-set in SQL, so of two leaders saving at once exactly one
        wins and the other is told who saved first; every change is written to the audit trail.
        """
        sheet = self.sheet(study_group_id, day, lesson_key)
        if sheet is None:
            created = expected_version == 0 and insert_if_absent(
                self.session,
                AttendanceSheet.__table__,
                {
                    "community_id": self.community_id,
                    "study_group_id": study_group_id,
                    "date": day,
                    "lesson_key": lesson_key,
                    "subject": subject,
                    "lesson_start": lesson_start,
                    "version": 1,
                    "marked_by": by,
                    "marked_at": utcnow(),
                },
            )
            sheet = self.sheet(study_group_id, day, lesson_key)
            assert sheet is not None
            if not created:
                return SaveResult(False, sheet.version, sheet.marked_by, sheet.marked_at)
            version = 1
        else:
            moved = self.session.execute(
                update(AttendanceSheet)
                .where(AttendanceSheet.id == sheet.id, AttendanceSheet.version == expected_version)
                .values(
                    version=AttendanceSheet.version + 1,
                    marked_by=by,
                    marked_at=utcnow(),
                    subject=subject or sheet.subject,
                )
            )
            if not rowcount(moved):
                self.session.refresh(sheet)
                return SaveResult(False, sheet.version, sheet.marked_by, sheet.marked_at)
            version = expected_version + 1
        self._replace_marks(sheet.id, day, marks, by, notices or {})
        return SaveResult(True, version)

    def _replace_marks(
        self, sheet_id: int, day: date, marks: Mapping[int, AbsenceReason], by: int, notices: Mapping[int, int]
    ) -> None:
        before = self.marks(sheet_id)
        now = utcnow()
        for member_id in set(before) | set(marks):
            old = before.get(member_id)
            new = marks.get(member_id)
            if old == new:
                continue
            self.session.add(
                AttendanceAudit(
                    sheet_id=sheet_id,
                    member_id=member_id,
                    before=old.value if old else PRESENT,
                    after=new.value if new else PRESENT,
                    changed_by=by,
                    changed_at=now,
                )
            )
            if old is not None:
                self.session.execute(
                    delete(Absence).where(Absence.sheet_id == sheet_id, Absence.member_id == member_id)
                )
            if new is not None:
                self.session.add(
                    Absence(
                        sheet_id=sheet_id,
                        member_id=member_id,
                        date=day,
                        reason=new.value,
                        excused=new.excused,
                        notice_id=notices.get(member_id),
                        marked_by=by,
                        marked_at=now,
                    )
                )
        self.session.flush()

    def audit(self, sheet_id: int) -> list[AttendanceAudit]:
        return list(
            self.session.scalars(
                select(AttendanceAudit).where(AttendanceAudit.sheet_id == sheet_id).order_by(AttendanceAudit.id)
            )
        )

    # --- reading the register

    def sheets(self, study_group_id: int, first: date, last: date) -> list[AttendanceSheet]:
        return list(
            self.session.scalars(
                select(AttendanceSheet)
                .where(AttendanceSheet.study_group_id == study_group_id, AttendanceSheet.date.between(first, last))
                .order_by(AttendanceSheet.date, AttendanceSheet.lesson_start, AttendanceSheet.id)
            )
        )

    def absences(
        self, first: date, last: date, study_group_id: int | None = None, member_id: int | None = None
    ) -> list[AbsenceRecord]:
        statement = (
            select(
                Absence.member_id,
                Absence.date,
                Absence.reason,
                AttendanceSheet.lesson_key,
                AttendanceSheet.subject,
                AttendanceSheet.lesson_start,
            )
            .join(AttendanceSheet, AttendanceSheet.id == Absence.sheet_id)
            .where(AttendanceSheet.community_id == self.community_id, Absence.date.between(first, last))
            .order_by(Absence.date, AttendanceSheet.lesson_start, Absence.member_id)
        )
        if study_group_id is not None:
            statement = statement.where(AttendanceSheet.study_group_id == study_group_id)
        if member_id is not None:
            statement = statement.where(Absence.member_id == member_id)
        return [
            AbsenceRecord(
                row.member_id, row.date, row.lesson_key, row.subject, row.lesson_start, AbsenceReason(row.reason)
            )
            for row in self.session.execute(statement)
        ]

    # --- advance notices

    def add_notice(
        self,
        member_id: int,
        study_group_id: int,
        first: date,
        last: date,
        lesson_key: str,
        reason: AbsenceReason,
        comment: str,
    ) -> AbsenceNotice:
        notice = AbsenceNotice(
            community_id=self.community_id,
            member_id=member_id,
            study_group_id=study_group_id,
            first_date=first,
            last_date=last,
            lesson_key=lesson_key,
            reason=reason.value,
            comment=comment,
            status=NoticeStatus.PENDING.value,
        )
        self.session.add(notice)
        self.session.flush()
        return notice

    def notice(self, notice_id: int) -> AbsenceNotice | None:
        notice = self.session.get(AbsenceNotice, notice_id)
        return notice if notice is not None and notice.community_id == self.community_id else None

    def decide(self, notice_id: int, approve: bool, by: int) -> bool:
        """Decide a pending notice; False if it was decided already (two leaders pressing at once)."""
        result = self.session.execute(
            update(AbsenceNotice)
            .where(AbsenceNotice.id == notice_id, AbsenceNotice.status == NoticeStatus.PENDING.value)
            .values(
                status=(NoticeStatus.APPROVED if approve else NoticeStatus.REJECTED).value,
                decided_by=by,
                decided_at=utcnow(),
            )
        )
        return bool(rowcount(result))

    def approved_notices(self, study_group_id: int, day: date) -> list[AbsenceNotice]:
        return list(
            self.session.scalars(
                select(AbsenceNotice).where(
                    AbsenceNotice.study_group_id == study_group_id,
                    AbsenceNotice.status == NoticeStatus.APPROVED.value,
                    AbsenceNotice.first_date <= day,
                    AbsenceNotice.last_date >= day,
                )
            )
        )
