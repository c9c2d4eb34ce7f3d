"""The group's list (issue 17, point 3): who of it is in the community, who is not yet.

A headman has the dean's list, not VK ids. Each line is matched to a member by VK id or link first (a short
address, vk.com/olga_b, is asked of VK: `resolve_screen_names`, given by the runtime), then
by name (ё and case folded, either order); a name two members share, or only a surname, is asked about; a
line that matches nobody has not joined the community yet (a link to forward is offered), and stays in
the attendance register all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.services.roster_files import MAX_ROSTER_BYTES, RosterFile, RosterLine, RosterUnreadable, read_roster
from fsm_bot.storage.models import Member, MemberStatus
from fsm_bot.storage.repositories import CommunityRepository, MemberRepository
from fsm_bot.vk.errors import VkCallError
from fsm_bot.vk.files import DownloadFailed, documents_of, download

log = logging.getLogger(__name__)

ScreenNameResolver = Callable[[Sequence[str]], dict[str, int]]  # addresses -> user ids VK knows (lower-cased)

ROSTER_EXTENSIONS = ("xlsx", "csv", "txt")


@dataclass(frozen=True)
class Person:
    """A member of the community as a line of the list may name them."""

    vk_id: int
    last_name: str
    first_name: str

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip() or f"id{self.vk_id}"


@dataclass(frozen=True)
class RosterMatch:
    """Line numbers (0-based) of the list: matched to a member, shared by several, or nobody's."""

    matched: dict[int, int]  # line -> vk id
    ambiguous: dict[int, tuple[Person, ...]]
    missing: tuple[int, ...]


def _key(last: str, first: str) -> str:
    return fold(" ".join(f"{last} {first}".split()))


def match_roster(lines: Sequence[RosterLine], people: Sequence[Person]) -> RosterMatch:
    by_id = {person.vk_id: person for person in people}
    matched: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.vk_id is not None and line.vk_id in by_id and line.vk_id not in matched.values():
            matched[index] = line.vk_id
    by_name: dict[str, list[Person]] = {}
    for person in people:
        by_name.setdefault(_key(person.last_name, person.first_name), []).append(person)
    ambiguous: dict[int, tuple[Person, ...]] = {}
    missing: list[int] = []
    for index, line in enumerate(lines):
        if index in matched:
            continue
        if line.vk_id is not None:  # a link to someone who is not (yet) in the community
            missing.append(index)
            continue
        taken = set(matched.values())
        found = by_name.get(_key(line.last_name, line.first_name)) or by_name.get(_key(line.first_name, line.last_name))
        if not found:  # VK names are often short forms (Саша for Александр): the surname alone is asked about
            found = [person for person in people if fold(person.last_name) == fold(line.last_name)]
            free = tuple(person for person in found if person.vk_id not in taken)
            if free:
                ambiguous[index] = free
            else:
                missing.append(index)
            continue
        free = tuple(person for person in found if person.vk_id not in taken)
        if len(free) == 1:
            matched[index] = free[0].vk_id
        elif free:
            ambiguous[index] = free
        else:
            missing.append(index)
    return RosterMatch(matched, ambiguous, tuple(missing))


@dataclass(frozen=True)
class RosterSaved:
    placed: int  # members now in the group
    offline: int  # list lines without VK, added to the register
    expected: int  # known VK ids that have not joined yet
    merged: int = 0  # rows without VK whose person has joined: one row now, their absences kept


class RosterService:
    def __init__(
        self, session: Session, community_id: int, member: MemberInfo, resolve: ScreenNameResolver | None = None
    ) -> None:
        self.resolve = resolve
        self.session = session
        self.community_id = community_id
        self.member = member
        self.members = MemberRepository(session, community_id)

    def read(self, text: str, attachments: tuple[dict[str, Any], ...]) -> RosterFile:
        """The list from a message: its document (.xlsx, .csv, .txt), else its text; RosterUnreadable says why not."""
        return self._with_ids(self._read(text, attachments))

    def _read(self, text: str, attachments: tuple[dict[str, Any], ...]) -> RosterFile:
        documents = documents_of(attachments)
        if not documents:
            return read_roster(text.encode("utf-8"))
        document = documents[0]
        if document.ext not in ROSTER_EXTENSIONS:
            raise RosterUnreadable("wrong_type", title=document.title[:60])
        try:
            content = download(document, MAX_ROSTER_BYTES)
        except DownloadFailed as error:
            raise RosterUnreadable("download_failed", title=document.title[:60], error=str(error)) from None
        return read_roster(content, f"list.{document.ext}")

    def _with_ids(self, roster: RosterFile) -> RosterFile:
        """Lines that give a short address get VK's id for it, all in a few execute requests. Asked here, in
        the event's transaction, as the document itself is fetched (vk/files.py): the engine runs a flow's
        step in one unit of work. When VK cannot answer, those lines are matched by name instead: the
        list is not lost for it."""
        names = [line.screen_name for line in roster.people if line.screen_name and line.vk_id is None]
        if not names or self.resolve is None:
            return roster
        try:
            ids = self.resolve(names)
        except VkCallError as error:
            log.warning("screen names of a group list not resolved: %s", error)
            return roster
        people = tuple(
            replace(line, vk_id=ids.get(line.screen_name)) if line.screen_name and line.vk_id is None else line
            for line in roster.people
        )
        return RosterFile(people, roster.problems)

    def people(self) -> list[Person]:
        """Everyone in the community now, whom a line may name."""
        return [Person(m.vk_id, m.last_name, m.first_name) for m in self.members.current()]

    def match(self, lines: Sequence[RosterLine]) -> RosterMatch:
        return match_roster(lines, self.people())

    def person(self, vk_id: int) -> Person | None:
        member = self.members.get(vk_id)
        return None if member is None else Person(member.vk_id, member.last_name, member.first_name)

    def save(self, lines: Sequence[RosterLine], chosen: dict[int, int]) -> RosterSaved:
        """The list into the headman's group: `chosen` members join it, the other lines wait for VK."""
        group = CommunityRepository(self.session).find_group(self.community_id, self.member.study_group or "")
        if group is None:
            raise LookupError("the roster needs the headman's study group")
        placed = offline = expected = merged = 0
        for index, line in enumerate(lines):
            vk_id = chosen.get(index)
            member = self.members.get(vk_id) if vk_id is not None else None
            if member is not None:
                if member.study_group_id != group.id:
                    member.subgroup = None  # a subgroup of another group means nothing here
                member.study_group_id, member.status = group.id, MemberStatus.ACTIVE.value
                placed += 1
                row = self._offline_row(group.id, line)
                if row is not None:
                    self.members.merge_offline(row, member)
                    merged += 1
            elif line.vk_id is not None:
                self.members.add_expected(line.vk_id, group.id, line.last_name, line.first_name)
                expected += 1
            elif not self._already_offline(group.id, line):
                self.members.add_offline(group.id, line.last_name, line.first_name)
                offline += 1
        return RosterSaved(placed, offline, expected, merged)

    def _already_offline(self, group_id: int, line: RosterLine) -> bool:
        """The same list sent twice adds nobody twice."""
        key = _key(line.last_name, line.first_name)
        return any(_key(m.last_name, m.first_name) == key for m in self.members.offline(group_id))

    def _offline_row(self, group_id: int, line: RosterLine) -> Member | None:
        """The group's row without VK that this line, now matched to a member, was saved as before (the person
        has joined since). Only a name that exactly one such row has: two namesakes without VK are left as
        they are rather than guessed, and the headman sees both in the register."""
        key = _key(line.last_name, line.first_name)
        rows = [m for m in self.members.offline(group_id) if _key(m.last_name, m.first_name) == key]
        return rows[0] if len(rows) == 1 else None

    def invite_link(self) -> str:
        return f"https://vk.com/club{self.community_id}"
