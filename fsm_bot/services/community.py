"""Community facts and changes a flow may ask for, through `ctx.services`.

Flows never open sessions; they call these methods, which run inside the event's unit of work,
so whatever a flow changes here commits or rolls back with its dialog state and replies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import Forbidden
from fsm_bot.services.attendance import AttendanceService
from fsm_bot.services.broadcasts import BroadcastService
from fsm_bot.services.homework import HomeworkService
from fsm_bot.services.inputs import parse_id
from fsm_bot.services.options import CommunityOptions
from fsm_bot.services.polls import PollService
from fsm_bot.services.queues import QueueService
from fsm_bot.services.roster import RosterService, ScreenNameResolver
from fsm_bot.services.setup import SetupService
from fsm_bot.services.timetable import TimetableService
from fsm_bot.storage.models import NAME_LENGTH, Member, MemberStatus, Role, StudyGroup
from fsm_bot.storage.repositories import CommunityRepository, MemberRepository
from fsm_bot.vk.events import CHAT_PEER_OFFSET


class CommunityServices:
    def __init__(
        self,
        session: Session,
        community_id: int,
        member_vk_id: int,
        member: MemberInfo | None = None,
        options: CommunityOptions | None = None,
        flow_names: frozenset[str] = frozenset(),
        resolve_screen_names: ScreenNameResolver | None = None,
    ) -> None:
        self.options = options or CommunityOptions()
        self._resolve_screen_names = resolve_screen_names  # VK's, for list links by address
        self.flow_names = flow_names  # the dialogs this bot offers: offer a button only for those
        self._attendance: AttendanceService | None = None
        self._homework: HomeworkService | None = None
        self._queues: QueueService | None = None
        self._timetable: TimetableService | None = None
        self._member_info = member
        self._session = session
        self._community_id = community_id
        self._vk_id = member_vk_id
        self._members = MemberRepository(session, community_id)

    # --- the deployer's settings, as flows read them

    @property
    def timezone(self) -> ZoneInfo:
        return self.options.timezone

    @property
    def auto_approve(self) -> bool:
        """Newcomers join without the headman: the database's switch («⚙ Настройка»), seeded by settings."""
        return CommunityRepository(self._session).auto_approve(self._community_id) or False

    @property
    def nudge_after(self) -> timedelta:
        return self.options.nudge_after

    @property
    def ics_days(self) -> int:
        return self.options.ics_days

    @property
    def hours_per_lesson(self) -> int:
        return self.options.hours_per_lesson

    @property
    def broadcasts(self) -> BroadcastService:
        """Broadcasts sent by this member (the dialog asks; the service writes in this event's transaction)."""
        if self._member_info is None:
            raise RuntimeError("broadcasts need the member who sends them")
        group = self._group(self._member_info.study_group or "")
        chat = group.chat_peer_id if group is not None else None
        return BroadcastService(self._session, self._community_id, self._member_info, chat)

    @property
    def polls(self) -> PollService:
        """Polls: a recipient's answer, their author's result, reminder and close."""
        if self._member_info is None:
            raise RuntimeError("polls need the member who answers or asks")
        return PollService(self._session, self._community_id, self._member_info)

    @property
    def timetable(self) -> TimetableService:
        """The member's timetable, changes and reminder subscriptions (one service per event)."""
        if self._member_info is None:
            raise RuntimeError("the timetable needs the member who asks")
        if self._timetable is None:
            self._timetable = TimetableService(self._session, self._community_id, self._member_info, self.timezone)
        return self._timetable

    @property
    def attendance(self) -> AttendanceService:
        """The group's attendance register: marking, absences, advance notices (one service per event)."""
        if self._attendance is None:
            self._attendance = AttendanceService(
                self._session, self._community_id, self.timetable.member, self.timetable, self.hours_per_lesson
            )
        return self._attendance

    @property
    def homework(self) -> HomeworkService:
        """The group's assignments: given by its leaders, read and marked done by its members (one per event)."""
        if self._homework is None:
            self._homework = HomeworkService(
                self._session, self._community_id, self.timetable.member, self.timetable, self.timezone
            )
        return self._homework

    @property
    def queues(self) -> QueueService:
        """The group's queues (lab defence, consultations): opened by its leaders, joined by its members."""
        if self._queues is None:
            self._queues = QueueService(self._session, self._community_id, self.timetable, self.timezone)
        return self._queues

    @property
    def roster(self) -> RosterService:
        """The group's list, read, matched to members and saved (issue 17, point 3)."""
        if self._member_info is None:
            raise RuntimeError("the roster needs the headman who sends it")
        return RosterService(self._session, self._community_id, self._member_info, self._resolve_screen_names)

    @property
    def setup(self) -> SetupService:
        """A stream admin's changes to groups, subgroups and approval; refused (Forbidden) to anyone else."""
        if self._member_info is None:
            raise RuntimeError("the set-up needs the manager who makes it")
        return SetupService(self._session, self._community_id, self._member_info, self.auto_approve)

    @property
    def timetable_changed(self) -> bool:
        """Reminder jobs need re-planning: the timetable, subscriptions or homework due times changed."""
        homework = self._homework is not None and self._homework.changed
        return homework or (self._timetable is not None and self._timetable.changed)

    def study_groups(self) -> list[str]:
        return [group.name for group in CommunityRepository(self._session).study_groups(self._community_id)]

    def member(self, vk_id: int) -> MemberInfo | None:
        member = self._members.get(vk_id)
        return None if member is None else MemberInfo.load(self._session, member)

    def _group(self, name: str) -> StudyGroup | None:
        return CommunityRepository(self._session).find_group(self._community_id, name)

    def leaders_of(self, group_name: str) -> list[MemberInfo]:
        """The headman and deputies of a group: who approves newcomers and receives their notices."""
        group = self._group(group_name)
        if group is None:
            return []
        return [MemberInfo.of(member, group.name) for member in self._members.leaders(group.id)]

    def stream_admins(self) -> list[MemberInfo]:
        return [MemberInfo.load(self._session, member) for member in self._members.admins()]

    def set_name(self, first_name: str, last_name: str) -> None:
        member = self._require(self._vk_id)
        member.first_name, member.last_name = first_name.strip()[:NAME_LENGTH], last_name.strip()[:NAME_LENGTH]

    def locales_of(self, vk_ids: Iterable[int]) -> dict[int, str | None]:
        """The language each of these people reads (None: the default), for messages to them."""
        return self._members.locales(vk_ids)

    def set_locale(self, locale: str | None) -> None:
        """The language this person reads, kept whatever their app says; None: follow their app again."""
        self._require(self._vk_id).locale = locale

    def request_group(self, group_name: str, approved: bool) -> None:
        """Join a study group: at once when approved (auto-approve, admins), else pending the headman."""
        group = self._group(group_name)
        if group is None:
            raise LookupError(f"no study group {group_name!r}")
        member = self._require(self._vk_id)
        member.study_group_id = group.id
        member.status = (MemberStatus.ACTIVE if approved else MemberStatus.PENDING).value

    def decide_membership(self, vk_id: int, approve: bool) -> MemberInfo | None:
        """A leader's answer to a join request; None if there is no such pending request."""
        member = self._members.get(vk_id)
        if member is None or member.status != MemberStatus.PENDING.value:
            return None
        if approve:
            member.status = MemberStatus.ACTIVE.value
        else:
            member.status, member.study_group_id = MemberStatus.NEW.value, None
        return MemberInfo.load(self._session, member)

    def find_members(self, query: str, limit: int = 10) -> list[MemberInfo]:
        """Members by surname prefix (case-insensitive), or by VK id / vk.com/id link."""
        query = query.strip()
        digits = query.rsplit("id", 1)[-1] if "vk.com/id" in query else query
        vk_id = parse_id(digits)
        if vk_id is not None:
            found = self.member(vk_id)
            return [found] if found is not None else []
        # Python-side matching: SQLite's lower() folds only ASCII, and surnames here are Cyrillic.
        needle = fold(query)
        matches = [row for row in self._members.current() if fold(row.last_name).startswith(needle)]
        return [MemberInfo.load(self._session, row) for row in matches[:limit]]

    def appoint(self, vk_id: int, group_name: str, role: Role) -> MemberInfo | None:
        """Make someone the headman or a deputy of a group (or a plain student again).

        A group has one headman: appointing a new one makes the previous headman a student.
        """
        group = self._group(group_name)
        member = self._members.get(vk_id)
        if group is None or member is None:
            return None
        if role is Role.HEADMAN:
            self._members.demote_other_headmen(group.id, vk_id)
        if member.role != Role.ADMIN.value:
            member.role = role.value
        member.study_group_id, member.status = group.id, MemberStatus.ACTIVE.value
        return MemberInfo.of(member, group.name)

    def chat_groups(self) -> list[str]:
        """The groups whose chat this member may bind: every group for a stream admin, their own for a leader."""
        info = self._member_info
        if info is None or info.role is Role.STUDENT:
            return []
        if info.role is Role.ADMIN:
            return self.study_groups()
        return [info.study_group] if info.study_group else []

    def bind_chat(self, group_name: str, peer_id: int) -> bool:
        """The chat `peer_id` is `group_name`'s from now on (a broadcast to the group can be posted and pinned
        there); False for no such group or no chat. The leader of another group is refused (Forbidden)."""
        if group_name not in self.chat_groups():
            raise Forbidden(Role.HEADMAN)
        group = self._group(group_name)
        if group is None or peer_id < CHAT_PEER_OFFSET:
            return False
        CommunityRepository(self._session).bind_chat(self._community_id, group, peer_id)
        return True

    def chat_group(self, peer_id: int) -> str | None:
        """The group a chat is bound to, if any."""
        return next(
            (
                g.name
                for g in CommunityRepository(self._session).study_groups(self._community_id)
                if g.chat_peer_id == peer_id
            ),
            None,
        )

    def _require(self, vk_id: int) -> Member:
        member = self._members.get(vk_id)
        if member is None:
            raise LookupError(f"member {vk_id} is not registered")
        return member


def services_factory(
    community_id: int,
    options: CommunityOptions,
    flow_names: frozenset[str],
    resolve_screen_names: ScreenNameResolver | None = None,
) -> Callable[[Session, MemberInfo], CommunityServices]:
    """What the engine calls for each event's `ctx.services`: this community's services for the member
    the event is from, in the event's unit of work (`resolve_screen_names`: VK's answer for vk.com/<name>)."""

    def make(session: Session, member: MemberInfo) -> CommunityServices:
        return CommunityServices(
            session,
            community_id,
            member.vk_id,
            member=member,
            options=options,
            flow_names=flow_names,
            resolve_screen_names=resolve_screen_names,
        )

    return make


def headman_sex(leaders: Sequence[MemberInfo]) -> int:
    """Whose gender «Я напишу, когда она подтвердит» follows: the group's headman, or its only leader
    (VK's `sex`; 0, the neutral «староста», when neither is known)."""
    headmen = [leader for leader in leaders if leader.role is Role.HEADMAN]
    addressed = headmen or list(leaders)
    return addressed[0].sex if len(addressed) == 1 else 0
