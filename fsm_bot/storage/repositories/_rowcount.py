"""How many rows an UPDATE or DELETE matched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """`result.rowcount` of an UPDATE or DELETE. SQLAlchemy answers those with a CursorResult, but
    Session.execute is typed to return any Result, which has no rowcount."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} has no rowcount: not the result of an UPDATE or DELETE")
    return result.rowcount
