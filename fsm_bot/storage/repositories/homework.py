"""Homework as stored: a group's assignments, who was told of each, and who marked it done."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fsm_bot.storage.homework_models import Homework, HomeworkRecipient
from fsm_bot.storage.models import Member, MemberStatus
from fsm_bot.storage.repositories._upsert import insert_all_if_absent
from fsm_bot.storage.types import utcnow


@dataclass(frozen=True)
class Addressee:
    """Someone a message about an assignment goes to, in the language they read."""

    member_id: int
    vk_id: int
    locale: str | None


class HomeworkRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def add(
        self, study_group_id: int, subject: str, text: str, attachments: Sequence[str], due_at: datetime, by: int
    ) -> Homework:
        row = Homework(
            community_id=self.community_id,
            study_group_id=study_group_id,
            subject=subject,
            text=text,
            attachments=list(attachments),
            due_at=due_at,
            created_by=by,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, homework_id: int) -> Homework | None:
        row = self.session.get(Homework, homework_id)
        return row if row is not None and row.community_id == self.community_id else None

    def upcoming(self, study_group_id: int, after: datetime, limit: int) -> list[Homework]:
        """The group's assignments not cancelled and due after `after`, the nearest first."""
        return list(
            self.session.scalars(
                select(Homework)
                .where(
                    Homework.study_group_id == study_group_id,
                    Homework.cancelled_at.is_(None),
                    Homework.due_at > after,
                )
                .order_by(Homework.due_at, Homework.id)
                .limit(limit)
            )
        )

    def due_between(self, since: datetime, until: datetime) -> list[Homework]:
        """Assignments of the community (cancelled ones left out) due in (since, until]."""
        return list(
            self.session.scalars(
                select(Homework)
                .where(
                    Homework.community_id == self.community_id,
                    Homework.cancelled_at.is_(None),
                    Homework.due_at > since,
                    Homework.due_at <= until,
                )
                .order_by(Homework.due_at, Homework.id)
            )
        )

    def audience(self, study_group_id: int, leaving_out: int) -> list[Addressee]:
        """The group's active members who have VK (the one who gave the assignment left out)."""
        rows = self.session.execute(
            select(Member.id, Member.vk_id, func.coalesce(Member.locale, Member.app_locale))
            .where(
                Member.community_id == self.community_id,
                Member.study_group_id == study_group_id,
                Member.is_member.is_(True),
                Member.status == MemberStatus.ACTIVE.value,
                Member.vk_id > 0,
                Member.vk_id != leaving_out,
            )
            .order_by(Member.last_name, Member.first_name)
        )
        return [Addressee(member_id, vk_id, locale) for member_id, vk_id, locale in rows]

    def tell(self, homework_id: int, member_ids: Iterable[int]) -> int:
        """Record who was told (once each); returns how many are new."""
        now = utcnow()
        rows = [{"homework_id": homework_id, "member_id": member_id, "told_at": now} for member_id in member_ids]
        return insert_all_if_absent(self.session, HomeworkRecipient.__table__, rows)

    def told(self, homework_id: int, leaving_out: int) -> list[Addressee]:
        """Those told of an assignment who are still in the community (`leaving_out`: the one changing it)."""
        rows = self.session.execute(
            select(Member.id, Member.vk_id, func.coalesce(Member.locale, Member.app_locale))
            .join(HomeworkRecipient, HomeworkRecipient.member_id == Member.id)
            .where(
                HomeworkRecipient.homework_id == homework_id,
                Member.is_member.is_(True),
                Member.vk_id > 0,
                Member.vk_id != leaving_out,
            )
            .order_by(Member.last_name, Member.first_name)
        )
        return [Addressee(member_id, vk_id, locale) for member_id, vk_id, locale in rows]

    def done_of(self, member_id: int, homework_ids: Iterable[int]) -> set[int]:
        wanted = list(set(homework_ids))
        if not wanted:
            return set()
        return set(
            self.session.scalars(
                select(HomeworkRecipient.homework_id).where(
                    HomeworkRecipient.member_id == member_id,
                    HomeworkRecipient.homework_id.in_(wanted),
                    HomeworkRecipient.done_at.is_not(None),
                )
            )
        )

    def done_by(self, homework_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(assignment, VK id) of everyone who marked one of these done: no reminder goes to them."""
        wanted = list(set(homework_ids))
        if not wanted:
            return set()
        rows = self.session.execute(
            select(HomeworkRecipient.homework_id, Member.vk_id)
            .join(Member, Member.id == HomeworkRecipient.member_id)
            .where(HomeworkRecipient.homework_id.in_(wanted), HomeworkRecipient.done_at.is_not(None))
        )
        return {(homework_id, vk_id) for homework_id, vk_id in rows}

    def set_done(self, homework_id: int, member_id: int, done: bool) -> None:
        """Done or not again; someone who joined after the assignment was given gets their row now."""
        self.tell(homework_id, [member_id])
        self.session.execute(
            update(HomeworkRecipient)
            .where(HomeworkRecipient.homework_id == homework_id, HomeworkRecipient.member_id == member_id)
            .values(done_at=utcnow() if done else None)
        )
