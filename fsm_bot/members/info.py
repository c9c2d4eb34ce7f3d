"""The member as flows see it: a frozen snapshot, not an ORM row they could change by accident."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from fsm_bot.storage.models import Member, Role
from fsm_bot.storage.repositories import CommunityRepository


@dataclass(frozen=True)
class MemberInfo:
    vk_id: int
    first_name: str
    last_name: str
    role: Role
    study_group: str | None
    subgroup: int | None
    status: str
    can_receive: bool
    sex: int = 0  # VK's: 0 unknown, 1 female, 2 male (for a verb's form in a sentence about them)
    chosen_locale: str | None = None  # the language they picked in the menu: kept whatever their app says
    app_locale: str | None = None  # their VK app's language, as their last message reported it

    @property
    def locale(self) -> str | None:
        """The language they read; None: the settings' default."""
        return self.chosen_locale or self.app_locale

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def onboarded(self) -> bool:
        return self.status == "active"

    @classmethod
    def load(cls, session: Session, member: Member) -> MemberInfo:
        """The snapshot of a member row, with its study group's name looked up."""
        return cls.of(member, CommunityRepository(session).group_name(member.study_group_id))

    @classmethod
    def of(cls, member: Member, study_group: str | None) -> MemberInfo:
        return cls(
            vk_id=member.vk_id,
            first_name=member.first_name,
            last_name=member.last_name,
            role=Role(member.role),
            study_group=study_group,
            subgroup=member.subgroup,
            status=member.status,
            can_receive=member.can_receive,
            sex=member.sex,
            chosen_locale=member.locale,
            app_locale=member.app_locale,
        )
