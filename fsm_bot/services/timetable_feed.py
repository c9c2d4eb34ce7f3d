"""A group's timetable feed (settings `timetable.feeds`, issue 17 point 4): what one refresh means.

The fetch itself (HTTP, its limits) is the runtime's (fsm_bot/runtime/feed_fetch.py); this module gets
its outcome and decides, in one transaction: nothing new (304, or the same bytes as last applied); a new
week, applied the way «Применить» applies a leader's document (`TimetableService.replace_week`) and told
to the group's subscribers with the same digest; or a problem, told to the group's headman once per
distinct problem (a feed down for a day must not write to them every hour), and its end told once too.
A broken file never replaces a week, and an empty one is taken for a broken one: a calendar export
that lost every event is likelier than a group with no lessons at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fsm_bot.members.info import MemberInfo
from fsm_bot.services.timetable import TimetableService
from fsm_bot.services.timetable_digest import week_digest
from fsm_bot.services.timetable_upload import TimetableFileError, parse_upload
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import (
    CommunityRepository,
    FeedMemory,
    MemberRepository,
    OutboxRepository,
    TimetableFeedRepository,
)

log = logging.getLogger(__name__)

Translate = Callable[..., str]
PROBLEM_DETAIL = 300  # characters of a problem kept and quoted (a parser's first mistakes)


@dataclass(frozen=True)
class Feed:
    """One entry of `timetable.feeds`: whose week, where it is published."""

    group: str
    url: str

    @property
    def host(self) -> str:
        """What logs name: the address's host only (a private calendar link carries its secret in the path)."""
        return urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class FeedFetched:
    content: bytes
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FeedNotModified:
    """304: the server has what we applied last."""


@dataclass(frozen=True)
class FeedFailed:
    """The fetch failed; `kind` names the catalog text (timetable_feed.problems.<kind>)."""

    kind: str
    detail: str = ""


FeedOutcome = FeedFetched | FeedNotModified | FeedFailed


@dataclass(frozen=True)
class FeedReport:
    """What one refresh did: whether the week was replaced (reminders need re-planning) and messages queued."""

    applied: bool = False
    messages: int = 0


def request_headers(session: Session, community_id: int, feed: Feed) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last applied response: a 304 then costs the server nothing."""
    memory = TimetableFeedRepository(session, community_id).recall(feed.group, feed.url)
    headers = {}
    if memory.etag:
        headers["If-None-Match"] = memory.etag
    if memory.last_modified:
        headers["If-Modified-Since"] = memory.last_modified
    return headers


class FeedRefresh:
    """One refresh of one feed, inside the caller's transaction."""

    def __init__(
        self,
        session: Session,
        community_id: int,
        feed: Feed,
        translate: Translate,
        timezone: ZoneInfo,
        headman: int | None = None,
    ) -> None:
        self.session, self.community_id, self.feed = session, community_id, feed
        self.t, self.timezone = translate, timezone
        self.settings_headman = headman  # stream.groups.<group>.headman, when the database knows none
        self.repository = TimetableFeedRepository(session, community_id)
        self.memory = self.repository.recall(feed.group, feed.url)
        self.outbox = OutboxRepository(session, community_id)

    def settle(self, outcome: FeedOutcome) -> FeedReport:
        group = CommunityRepository(self.session).find_group(self.community_id, self.feed.group)
        if group is None:
            return self._problem(FeedFailed("no_group"))
        if isinstance(outcome, FeedFailed):
            return self._problem(outcome)
        if isinstance(outcome, FeedNotModified):
            return self._fine(self.memory)
        digest = hashlib.sha256(outcome.content).hexdigest()
        fetched = FeedMemory(outcome.etag, outcome.last_modified, digest)
        if digest == self.memory.content_hash:
            return self._fine(fetched)  # a server without validators, or new ones for the same bytes
        try:
            upload = parse_upload(outcome.content, f"{self.feed.group}.ics", self.feed.group, self.timezone)
        except TimetableFileError as error:
            return self._problem(FeedFailed("invalid", str(error)))
        if not upload.slots:
            return self._problem(FeedFailed("empty"))
        timetable = TimetableService(self.session, self.community_id, self._acting_headman(), self.timezone)
        preview = timetable.preview(upload)
        if preview.difference.same and not preview.semester_replaced:
            return self._fine(fetched)  # new bytes, same week (an export stamps each download with its time)
        applied = timetable.replace_week(upload)
        told = self.outbox.add_many(timetable.subscribers_for(None), week_digest(self.t, applied))
        log.info(
            "timetable feed of %s (%s): week replaced, %d lesson(s), %d subscriber(s) told",
            self.feed.group,
            self.feed.host,
            applied.difference.after,
            told,
        )
        return FeedReport(applied=True, messages=told + self._fine(fetched).messages)

    # --- the headman's side

    def _problem(self, failed: FeedFailed) -> FeedReport:
        """Told to the headman when it differs from the one told last; validators and hash stay as they were."""
        key = f"{failed.kind}:{failed.detail}"[:PROBLEM_DETAIL]
        self.repository.remember(self.feed.group, self.feed.url, replace(self.memory, problem=key))
        if key == self.memory.problem:
            log.debug("timetable feed of %s (%s): still %s", self.feed.group, self.feed.host, failed.kind)
            return FeedReport()
        log.warning(
            "timetable feed of %s (%s): %s %s; the week is unchanged",
            self.feed.group,
            self.feed.host,
            failed.kind,
            failed.detail[:PROBLEM_DETAIL],
        )
        problem = self.t(f"timetable_feed.problems.{failed.kind}", detail=failed.detail[:PROBLEM_DETAIL])
        told = self._tell_headman(self.t("timetable_feed.failed", group=self.feed.group, problem=problem))
        return FeedReport(messages=told)

    def _fine(self, memory: FeedMemory) -> FeedReport:
        self.repository.remember(self.feed.group, self.feed.url, memory)
        if self.memory.problem is None:
            return FeedReport()
        log.info("timetable feed of %s (%s): works again", self.feed.group, self.feed.host)
        return FeedReport(messages=self._tell_headman(self.t("timetable_feed.recovered", group=self.feed.group)))

    def _headman(self) -> int | None:
        group = CommunityRepository(self.session).find_group(self.community_id, self.feed.group)
        if group is not None:
            for leader in MemberRepository(self.session, self.community_id).leaders(group.id):
                if leader.role == Role.HEADMAN.value:
                    return leader.vk_id
        return self.settings_headman

    def _tell_headman(self, text: str) -> int:
        headman = self._headman()
        if headman is None:
            log.warning("timetable feed of %s: the group has no headman to tell", self.feed.group)
            return 0
        self.outbox.add(headman, text)
        return 1

    def _acting_headman(self) -> MemberInfo:
        """Whom the replacement is done for: the group's leader, as «Применить» checks (the feed is theirs)."""
        return MemberInfo(
            vk_id=self._headman() or 0,
            first_name="",
            last_name="",
            role=Role.HEADMAN,
            study_group=self.feed.group,
            subgroup=None,
            status="active",
            can_receive=False,
        )
