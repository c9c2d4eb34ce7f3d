"""Dialog timeouts: a persisted sweep job ends dialogs whose `expires_at` passed, and says so.

The deadline lives in the dialog row itself (moved forward at every step), and one interval job
in APScheduler's job store sweeps for passed deadlines. A job per dialog would be rescheduled
at every step of every dialog; the sweep costs one indexed query, survives restarts the same way
(the deadline is in the database, the job in the job store), and a deadline that passed while the
bot was down is found at the first sweep after the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from sqlalchemy.orm import Session

from fsm_bot.delivery.replies import queue_reply
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.members.info import MemberInfo
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import DialogRepository, MemberRepository
from fsm_bot.storage.repositories.dialogs import IDLE
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs, Texts, as_catalogs
from fsm_bot.vk.events import CHAT_PEER_OFFSET
from fsm_bot.vk.messages import MessageContent

log = logging.getLogger(__name__)

MenuFor = Callable[[MemberInfo, bool], str | None]  # the member, and whether the menu goes to a group chat


def expire_dialogs(
    database: Database,
    community_id: int,
    registry: FlowRegistry,
    texts: Texts | Catalogs,
    menu_for: MenuFor,
) -> int:
    """End every dialog past its deadline, telling each person in their language; returns how many were ended."""
    catalogs = as_catalogs(texts)
    now = utcnow()
    owners = database.transaction(
        lambda session: [(d.peer_id, d.user_id) for d in DialogRepository(session, community_id).expired(now)]
    )
    ended = 0
    for peer_id, user_id in owners:
        ended += database.transaction(
            partial(
                _expire_one,
                community_id=community_id,
                peer_id=peer_id,
                user_id=user_id,
                registry=registry,
                catalogs=catalogs,
                menu_for=menu_for,
            )
        )
    if ended:
        log.info("ended %d dialog(s) that timed out", ended)
    return ended


def _expire_one(
    session: Session,
    community_id: int,
    peer_id: int,
    user_id: int,
    registry: FlowRegistry,
    catalogs: Catalogs,
    menu_for: MenuFor,
) -> int:
    dialogs = DialogRepository(session, community_id)
    dialog = dialogs.load(peer_id, user_id)
    # Re-checked under the row lock: the person may have answered since the sweep looked.
    if dialog is None or dialog.flow == IDLE or dialog.expires_at is None or dialog.expires_at > utcnow():
        return 0
    dialogs.finish(dialog)
    member = MemberRepository(session, community_id).get(user_id)
    info = MemberInfo.load(session, member) if member is not None else None
    texts = catalogs[info.locale if info is not None else None]
    flow = registry.get(dialog.flow)
    name = texts(f"{flow.name}.title") if flow is not None and texts.has(f"{flow.name}.title") else dialog.flow
    keyboard = menu_for(info, peer_id >= CHAT_PEER_OFFSET) if info is not None else None
    queue_reply(session, community_id, peer_id, MessageContent(texts("dialog.timed_out", flow=name), keyboard))
    return 1
