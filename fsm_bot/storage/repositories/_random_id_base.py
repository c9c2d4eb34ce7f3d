"""A community's random_id base, read once per database and process.

The base is drawn when the community row is made (models.Community) and never written again, so
the senders' claims need not read it every time. The cache is per engine: a process that opens a
second database (a test, a bench on both backends) reads that database's own base.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fsm_bot.storage.models import Community

_bases: WeakKeyDictionary[Engine, dict[int, int]] = WeakKeyDictionary()


def random_id_base(session: Session, community_id: int) -> int:
    """The community's base (LookupError if it has no row): a dict lookup after the first call."""
    engine = session.get_bind().engine
    known = _bases.setdefault(engine, {})
    base = known.get(community_id)
    if base is None:
        base = session.scalar(select(Community.random_id_base).where(Community.id == community_id))
        if base is None:
            raise LookupError(f"community {community_id} is not registered")
        known[community_id] = base
    return base
