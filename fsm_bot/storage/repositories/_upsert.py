"""INSERT ... ON CONFLICT DO NOTHING on both backends: the race-free way to record "first time"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """True when the row was inserted, False when a row with the same key already existed.

    A SELECT-then-INSERT would let two workers both see "absent"; the unique key decides instead.
    """
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    first_key = next(iter(table.primary_key.columns))
    # RETURNING rather than rowcount: psycopg reports rowcount -1 for these statements.
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(first_key)
    return session.execute(statement).first() is not None
