from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
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

        FOR UPDATE serialises two events of one user handled by two workers on PostgreSQL;
        SQLite has no row locks (SQLAlchemy omits the clause) and serialises writers itself.
        """
        query = select(Dialog).where(
            Dialog.community_id == self.community_id,
            Dialog.peer_id == peer_id,
            Dialog.user_id == user_id,
        )
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

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
        existing = self.load(peer_id, user_id)
        if existing is not None:
            existing.flow, existing.state = flow, state
            existing.data = dict(data or {})
            existing.version += 1
            existing.expires_at = expires_at
            self.session.flush()
            return existing
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
        self.session.flush()
        return dialog

    def finish(self, dialog: Dialog) -> None:
        """Back to idle. The row stays so its version keeps growing: a button from a finished
        dialog must never match a later dialog that happens to reuse a version number."""
        dialog.flow, dialog.state, dialog.data = IDLE, IDLE, {}
        dialog.expires_at = None
        dialog.version += 1
        self.session.flush()

    def expired(self, now: datetime, limit: int = 500) -> list[Dialog]:
        return list(
            self.session.scalars(
                select(Dialog)
                .where(Dialog.community_id == self.community_id, Dialog.expires_at <= now)
                .order_by(Dialog.expires_at)
                .limit(limit)
            )
        )
