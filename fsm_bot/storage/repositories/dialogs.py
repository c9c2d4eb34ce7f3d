from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Dialog

IDLE = ""  # flow and state of a person who is in no dialog


class DialogRepository:
    """Dialog rows keyed by (community, peer, user): per user, and per chat when in a chat."""

    def __init__(self, session: Session, community_id: int) -> None:
        self.session = session
        self.community_id = community_id

    def load(self, peer_id: int, user_id: int, lock: bool = True) -> Dialog | None:
        """The row for this person, locked until the unit of work ends.

        FOR UPDATE serialises an event of the user with the timeout sweep (engine/timeouts.py), which
        locks the row the same way (events of one user are serialised by InboxRepository.lock_user);
        SQLite has no row locks (SQLAlchemy omits the clause) and serialises writers itself.
        """
        return self.session.scalars(self.owned_by(peer_id, user_id, lock)).one_or_none()

    def owned_by(self, peer_id: int, user_id: int, lock: bool = True) -> Select[Dialog]:
        """The query of `load`, for a caller reading the row together with others (MemberRepository.at_hand)."""
        query = select(Dialog).where(
            Dialog.community_id == self.community_id,
            Dialog.peer_id == peer_id,
            Dialog.user_id == user_id,
        )
        return query.with_for_update() if lock else query

    def start(
        self,
        peer_id: int,
        user_id: int,
        flow: str,
        state: str,
        data: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> Dialog:
        """Begin a dialog, replacing whatever this person had; the version keeps growing so old buttons die."""
        return self.begin(self.load(peer_id, user_id), peer_id, user_id, flow, state, data, expires_at)

    def begin(
        self,
        current: Dialog | None,
        peer_id: int,
        user_id: int,
        flow: str,
        state: str,
        data: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> Dialog:
        """`start` for a caller that already holds this person's row (`current`, loaded and locked in this
        unit of work; None when they have none): no second read.

        Nothing is flushed: the row is written once, with whatever the event's steps change in it, at the
        next flush (the first write takes SQLite's write lock, so later is better; nothing needs a new
        row's id)."""
        if current is not None:
            current.flow, current.state = flow, state
            current.data = dict(data or {})
            current.version += 1
            current.expires_at = expires_at
            return current
        dialog = Dialog(
            community_id=self.community_id,
            peer_id=peer_id,
            user_id=user_id,
            flow=flow,
            state=state,
            data=dict(data or {}),
            version=1,
            expires_at=expires_at,
        )
        self.session.add(dialog)
        return dialog

    def finish(self, dialog: Dialog) -> None:
        """Back to idle (written at the next flush). The row stays so its version keeps growing: a button
        from a finished dialog must never match a later dialog that happens to reuse a version number."""
        dialog.flow, dialog.state, dialog.data = IDLE, IDLE, {}
        dialog.expires_at = None
        dialog.version += 1

    def expired(self, now: datetime, limit: int = 500) -> list[Dialog]:
        return list(
            self.session.scalars(
                select(Dialog)
                .where(Dialog.community_id == self.community_id, Dialog.expires_at <= now)
                .order_by(Dialog.expires_at)
                .limit(limit)
            )
        )
