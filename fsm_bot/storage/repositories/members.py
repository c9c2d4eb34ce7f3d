from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, true, tuple_, update
from sqlalchemy.orm import Session, aliased

from fsm_bot.storage.attendance_models import Absence, AttendanceAudit
from fsm_bot.storage.models import NAME_LENGTH, Audience, Dialog, Member, MemberStatus, Role, StudyGroup
from fsm_bot.storage.repositories._rowcount import rowcount
from fsm_bot.storage.repositories.dialogs import DialogRepository
from fsm_bot.storage.types import utcnow


@dataclass(frozen=True)
class MemberProfile:
    """What VK tells us about a person (groups.getMembers / users.get)."""

    vk_id: int
    first_name: str
    last_name: str
    sex: int = 0  # VK's: 0 unknown, 1 female, 2 male


@dataclass(frozen=True)
class MemberAtHand:
    """A person writing to the bot as an event needs them: their row, their study group's row (kept here so
    the session's identity map, which holds rows weakly, answers later lookups of the group's name) and
    their dialog's row in the chat they write from, locked (DialogRepository.load)."""

    member: Member
    group: StudyGroup | None
    dialog: Dialog | None


# A batch's two reads, built once (every batch of events runs them; building cost about as much as running).
_MEMBERS_AT_HAND = (
    select(Member, StudyGroup)
    .outerjoin(StudyGroup, StudyGroup.id == Member.study_group_id)
    .where(Member.community_id == bindparam("community"), Member.vk_id.in_(bindparam("ids", expanding=True)))
)
_DIALOGS_AT_HAND = (
    select(Dialog)
    .where(
        Dialog.community_id == bindparam("community"),
        tuple_(Dialog.peer_id, Dialog.user_id).in_(bindparam("pairs", expanding=True)),
    )
    .with_for_update()
)


class MemberRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def get(self, vk_id: int) -> Member | None:
        return self.session.scalars(
            select(Member).where(Member.community_id == self.community_id, Member.vk_id == vk_id)
        ).one_or_none()

    def at_hand(self, vk_id: int, peer_id: int) -> MemberAtHand | None:
        """The member, their group and their dialog with `peer_id` in one query (None for a stranger): the
        three reads every message needs. The dialog is locked in a sub-select of its own, as `load` locks it
        (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join)."""
        dialog = aliased(Dialog, DialogRepository(self.session, self.community_id).owned_by(peer_id, vk_id).subquery())
        row = self.session.execute(
            select(Member, StudyGroup, dialog)
            .outerjoin(StudyGroup, StudyGroup.id == Member.study_group_id)
            .outerjoin(dialog, true())
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
        ).one_or_none()
        return None if row is None else MemberAtHand(*row)

    def all_at_hand(self, people: Sequence[tuple[int, int]]) -> dict[int, MemberAtHand]:
        """`at_hand` for a group-committed batch of (vk id, peer id), one pair per person, in two queries
        whatever its size: members with their groups, then their dialogs, locked. Keyed by vk id; a stranger
        is missing."""
        if not people:
            return {}
        peers = dict(people)
        found = self.session.execute(_MEMBERS_AT_HAND, {"community": self.community_id, "ids": list(peers)}).all()
        if not found:
            return {}
        pairs = [(peers[member.vk_id], member.vk_id) for member, _ in found]
        dialogs = {
            dialog.user_id: dialog
            for dialog in self.session.scalars(_DIALOGS_AT_HAND, {"community": self.community_id, "pairs": pairs})
        }
        return {member.vk_id: MemberAtHand(member, group, dialogs.get(member.vk_id)) for member, group in found}

    def known(self, vk_ids: Iterable[int]) -> set[int]:
        """Which of these people the community has a row for, in one query."""
        wanted = list(set(vk_ids))
        if not wanted:
            return set()
        query = select(Member.vk_id).where(Member.community_id == self.community_id, Member.vk_id.in_(wanted))
        return set(self.session.scalars(query))

    def upsert_profiles(self, profiles: Iterable[MemberProfile]) -> int:
        """Add new people and refresh names of known ones; returns how many were new.

        Roles, groups and the can_receive flag are ours, not VK's, so a sync never resets them.
        """
        by_id = {profile.vk_id: profile for profile in profiles}
        if not by_id:
            return 0
        known = {
            member.vk_id: member
            for member in self.session.scalars(
                select(Member).where(Member.community_id == self.community_id, Member.vk_id.in_(by_id))
            )
        }
        now = utcnow()
        for vk_id, profile in by_id.items():
            member = known.get(vk_id)
            if member is None:
                self.session.add(
                    Member(
                        community_id=self.community_id,
                        vk_id=vk_id,
                        first_name=profile.first_name[:NAME_LENGTH],
                        last_name=profile.last_name[:NAME_LENGTH],
                        sex=profile.sex,
                        role=Role.STUDENT.value,
                        can_receive=False,
                        is_member=True,
                        joined_at=now,
                    )
                )
            else:
                member.first_name, member.last_name = profile.first_name[:NAME_LENGTH], profile.last_name[:NAME_LENGTH]
                member.sex = profile.sex or member.sex  # a placeholder profile (a join event) knows no sex
                if not member.is_member:
                    member.is_member, member.left_at = True, None
        self.session.flush()
        return len(by_id) - len(known)

    def set_can_receive(self, vk_id: int, allowed: bool) -> bool:
        """message_allow / message_deny, or a 901 from VK; False when the person is unknown."""
        result = self.session.execute(
            update(Member)
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
            .values(can_receive=allowed, updated_at=utcnow())
        )
        return rowcount(result) == 1

    def mark_left(self, vk_id: int) -> bool:
        """group_leave: keep the row (the attendance register still needs the name)."""
        result = self.session.execute(
            update(Member)
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
            .values(is_member=False, left_at=utcnow(), updated_at=utcnow())
        )
        return rowcount(result) == 1

    def set_role(self, vk_id: int, role: Role) -> bool:
        result = self.session.execute(
            update(Member)
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
            .values(role=role.value, updated_at=utcnow())
        )
        return rowcount(result) == 1

    def assign_group(self, vk_id: int, study_group_id: int | None, subgroup: int | None = None) -> bool:
        result = self.session.execute(
            update(Member)
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
            .values(study_group_id=study_group_id, subgroup=subgroup, updated_at=utcnow())
        )
        return rowcount(result) == 1

    def set_subgroup(self, vk_id: int, subgroup: int | None) -> bool:
        result = self.session.execute(
            update(Member)
            .where(Member.community_id == self.community_id, Member.vk_id == vk_id)
            .values(subgroup=subgroup, updated_at=utcnow())
        )
        return rowcount(result) == 1

    def in_group(self, study_group_id: int, only_current: bool = True) -> list[Member]:
        query = select(Member).where(Member.community_id == self.community_id, Member.study_group_id == study_group_id)
        if only_current:
            query = query.where(Member.is_member.is_(True))
        return list(self.session.scalars(query.order_by(Member.last_name, Member.first_name)))

    def count(self) -> int:
        return (
            self.session.scalar(
                select(func.count()).select_from(Member).where(Member.community_id == self.community_id)
            )
            or 0
        )

    # --- who is who

    def current(self) -> list[Member]:
        """Everyone in the community now, by surname (a search matches names in Python: see find_members)."""
        return list(
            self.session.scalars(
                select(Member)
                .where(Member.community_id == self.community_id, Member.is_member.is_(True), Member.vk_id > 0)
                .order_by(Member.last_name, Member.first_name)
            )
        )

    def current_vk_ids(self) -> set[int]:
        return set(
            self.session.scalars(
                select(Member.vk_id).where(
                    Member.community_id == self.community_id, Member.is_member.is_(True), Member.vk_id > 0
                )
            )
        )

    def known_vk_ids(self) -> set[int]:
        """Everyone with a row, members or not (a manager need not be a member)."""
        return set(self.session.scalars(select(Member.vk_id).where(Member.community_id == self.community_id)))

    def locales(self, vk_ids: Iterable[int]) -> dict[int, str | None]:
        """The language each of these people reads (chosen, else their app's; None: the default), in one
        query, for messages the bot writes to them outside their own conversation."""
        wanted = sorted(set(vk_ids))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(Member.vk_id, func.coalesce(Member.locale, Member.app_locale)).where(
                Member.community_id == self.community_id, Member.vk_id.in_(wanted)
            )
        )
        found: dict[int, str | None] = dict.fromkeys(wanted)
        found.update({vk_id: locale for vk_id, locale in rows})
        return found

    def admins(self) -> list[Member]:
        return list(
            self.session.scalars(
                select(Member)
                .where(Member.community_id == self.community_id, Member.role == Role.ADMIN.value)
                .order_by(Member.id)
            )
        )

    def leaders(self, study_group_id: int) -> list[Member]:
        """The headman and deputies of a group who are still in the community."""
        return list(
            self.session.scalars(
                select(Member).where(
                    Member.community_id == self.community_id,
                    Member.study_group_id == study_group_id,
                    Member.role.in_([Role.HEADMAN.value, Role.DEPUTY.value]),
                    Member.is_member.is_(True),
                )
            )
        )

    def subgroups(self, study_group_id: int | None) -> list[int]:
        found = self.session.scalars(
            select(Member.subgroup)
            .where(Member.community_id == self.community_id, Member.study_group_id == study_group_id)
            .where(Member.subgroup.is_not(None))
            .distinct()
        )
        return sorted(subgroup for subgroup in found if subgroup is not None)

    def audience(
        self,
        audience: str,
        sender_vk_id: int,
        study_group_id: int | None,
        subgroup: int | None = None,
        chosen: Sequence[int] = (),
    ) -> list[Member]:
        """The active members a broadcast's audience names, the sender left out, by surname."""
        query = select(Member).where(
            Member.community_id == self.community_id,
            Member.is_member.is_(True),
            Member.status == MemberStatus.ACTIVE.value,
            Member.vk_id != sender_vk_id,
            Member.vk_id > 0,  # people of a group's list who have no VK (add_offline) get no messages
        )
        if audience == Audience.GROUP:
            query = query.where(Member.study_group_id == study_group_id)
        elif audience == Audience.SUBGROUP:
            query = query.where(Member.study_group_id == study_group_id, Member.subgroup == subgroup)
        elif audience == Audience.ADMINS:
            query = query.where(Member.role == Role.ADMIN.value)
        elif audience == Audience.CHOSEN:
            query = query.where(Member.vk_id.in_(list(chosen)))
        elif audience != Audience.STREAM:
            raise ValueError(f"unknown audience {audience!r}")
        return list(self.session.scalars(query.order_by(Member.last_name, Member.first_name)))

    # --- a group's list (services/roster.py)

    def add_offline(self, study_group_id: int, last_name: str, first_name: str) -> Member:
        """A student of the group's list who has no VK: a row of the attendance register all the same.

        Such rows have negative ids (VK's user ids are positive), so no message, sync or search reaches them."""
        lowest = self.session.scalar(select(func.min(Member.vk_id)).where(Member.community_id == self.community_id))
        member = Member(
            community_id=self.community_id,
            vk_id=min(lowest or 0, 0) - 1,
            first_name=first_name[:NAME_LENGTH],
            last_name=last_name[:NAME_LENGTH],
            role=Role.STUDENT.value,
            status=MemberStatus.ACTIVE.value,
            study_group_id=study_group_id,
            can_receive=False,
            is_member=True,
            joined_at=utcnow(),
        )
        self.session.add(member)
        self.session.flush()
        return member

    def offline(self, study_group_id: int) -> list[Member]:
        return list(
            self.session.scalars(
                select(Member).where(
                    Member.community_id == self.community_id,
                    Member.study_group_id == study_group_id,
                    Member.vk_id < 0,
                )
            )
        )

    def merge_offline(self, offline: Member, member: Member) -> int:
        """The person of a list row without VK (`offline`, negative id) has joined as `member`: their absences
        and the register's history move to the member and the offline row goes, in the caller's transaction.
        A lesson marked for both keeps the member's own mark (the newer, made with them in VK). Returns how
        many absences moved."""
        if offline.vk_id >= 0 or offline.community_id != member.community_id:
            raise ValueError("only a list row without VK merges into a member of the same community")
        own_sheets = select(Absence.sheet_id).where(Absence.member_id == member.id)
        self.session.execute(delete(Absence).where(Absence.member_id == offline.id, Absence.sheet_id.in_(own_sheets)))
        moved = rowcount(
            self.session.execute(update(Absence).where(Absence.member_id == offline.id).values(member_id=member.id))
        )
        self.session.execute(
            update(AttendanceAudit).where(AttendanceAudit.member_id == offline.id).values(member_id=member.id)
        )
        self.session.delete(offline)
        self.session.flush()
        return moved

    def add_expected(self, vk_id: int, study_group_id: int, last_name: str, first_name: str) -> Member:
        """Someone of the list, known by VK id, who has not joined the community yet: their group is
        waiting for them (a join keeps it, see upsert_profiles)."""
        member = self.get(vk_id)
        if member is None:
            member = Member(
                community_id=self.community_id,
                vk_id=vk_id,
                first_name=first_name[:NAME_LENGTH],
                last_name=last_name[:NAME_LENGTH],
                role=Role.STUDENT.value,
                can_receive=False,
                is_member=False,
            )
            self.session.add(member)
        if member.study_group_id is None:
            member.study_group_id, member.status = study_group_id, MemberStatus.ACTIVE.value
        self.session.flush()
        return member

    # --- roles decided elsewhere

    def set_admins(self, admin_ids: set[int]) -> None:
        """The community's managers are the stream admins (active at once); a former manager is a student."""
        in_community = Member.community_id == self.community_id
        self.session.execute(
            update(Member)
            .where(in_community, Member.vk_id.in_(admin_ids))
            .values(role=Role.ADMIN.value, status=MemberStatus.ACTIVE.value)
        )
        self.session.execute(
            update(Member)
            .where(in_community, Member.role == Role.ADMIN.value, Member.vk_id.not_in(admin_ids))
            .values(role=Role.STUDENT.value)
        )

    def demote_other_headmen(self, study_group_id: int, headman_vk_id: int) -> None:
        """A group has one headman: whoever else was it becomes a student."""
        for previous in self.session.scalars(
            select(Member).where(
                Member.community_id == self.community_id,
                Member.study_group_id == study_group_id,
                Member.role == Role.HEADMAN.value,
                Member.vk_id != headman_vk_id,
            )
        ):
            previous.role = Role.STUDENT.value
