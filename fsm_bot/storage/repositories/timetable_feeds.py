"""The state of each group's timetable feed: read before a fetch, written after it (one row per group)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from fsm_bot.storage.timetable_models import TimetableFeedState


@dataclass(frozen=True)
class FeedMemory:
    """What the last refreshes left: validators of the applied response, its hash, the problem reported."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    problem: str | None = None


class TimetableFeedRepository:
    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def recall(self, group: str, url: str) -> FeedMemory:
        """The feed's memory; a feed whose address changed in settings starts afresh (nothing to compare with)."""
        row = self.session.get(TimetableFeedState, (self.community_id, group))
        if row is None or row.url != url:
            return FeedMemory()
        return FeedMemory(row.etag, row.last_modified, row.content_hash, row.problem)

    def remember(self, group: str, url: str, memory: FeedMemory) -> None:
        row = self.session.get(TimetableFeedState, (self.community_id, group))
        if row is None:
            row = TimetableFeedState(community_id=self.community_id, group_name=group, url=url)
            self.session.add(row)
        row.url = url
        row.etag, row.last_modified = memory.etag, memory.last_modified
        row.content_hash, row.problem = memory.content_hash, memory.problem
        self.session.flush()
