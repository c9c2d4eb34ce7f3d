"""INSERT ... ON CONFLICT DO NOTHING on both backends: the race-free way to record "first time"."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """True when the row was inserted, False when a row with the same key already existed.

    A SELECT-then-INSERT would let two workers both see "absent"; the unique key decides instead.
    """
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    first_key = next(iter(table.primary_key.columns))
    # RETURNING rather than rowcount: psycopg reports rowcount -1 for these statements.
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(first_key)
    return session.execute(statement).first() is not None


def insert_all_if_absent(session: Session, table: Table, rows: Sequence[dict[str, Any]], chunk: int = 500) -> int:
    """`insert_if_absent` for many rows of the same columns, one statement per `chunk` (in their order, so ids
    follow it): how many were new. A batch of events from VK costs one round trip, not one per event.

    The statement is built once per table and backend and given the rows as an executemany, which SQLAlchemy
    renders as multi-row INSERTs from its compiled form ("insertmanyvalues"); `.values(rows)` made a bound
    parameter object of every value of every row first, at each callback push."""
    if not rows:
        return 0
    statement = _insert_if_absent(table, session.get_bind().dialect.name)
    added = 0
    for start in range(0, len(rows), chunk):
        added += len(session.execute(statement, list(rows[start : start + chunk])).all())
    return added


@functools.cache
def _insert_if_absent(table: Table, backend: str) -> ReturningInsert[Any]:
    dialect = sqlite if backend == "sqlite" else postgresql
    first_key = next(iter(table.primary_key.columns))
    return dialect.insert(table).on_conflict_do_nothing().returning(first_key)
