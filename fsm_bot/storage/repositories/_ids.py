"""`id IN (...)` for the thousands of ids a delivery settles at once.

On PostgreSQL an IN list of 2,500 ids is 2,500 bind parameters, which SQLAlchemy renders one by one at
each execution; with psycopg's default placeholders psycopg also parsed the query text to number them
(the engine now passes PostgreSQL's own $n through unparsed: storage/db.py). Together that cost a
broadcast's settle more than the database did (bench/broadcast.py under py-spy). `= ANY(array)` is one
parameter whatever the count. SQLite has no arrays, and no such cost in process: there it stays IN.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, ColumnElement, SQLColumnExpression, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def id_among(session: Session, column: SQLColumnExpression[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """`column` is one of `ids`, in the cheapest form for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(list(ids))
