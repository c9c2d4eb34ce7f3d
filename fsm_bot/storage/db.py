"""Engine and units of work.

Sessions are scoped to one unit of work (one event, one delivery batch), never global: a
global session would leak one user's half-done transaction into another user's event.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

Result = TypeVar("Result")

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg2 to SQLAlchemy; we ship psycopg 3, so say so explicitly."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the scheduler and the dispatcher read while one of them writes; the busy timeout
    # makes a briefly locked database a short wait instead of an immediate "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """An engine tuned for the backend: WAL and busy timeout on SQLite, pre-ping on PostgreSQL."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_transient(error: BaseException) -> bool:
    """A locked SQLite file or a PostgreSQL connection dropped mid-flight: worth another try."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    """One per process: the engine, the session factory and the retry policy for transactions."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work is committed together at the end, or not at all."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def transaction(self, work: Callable[[Session], Result], attempts: int = 5, base_delay: float = 0.05) -> Result:
        """Run `work` in a unit of work, again from the start if the database was briefly unavailable.

        `work` must be safe to repeat: it sees a fresh session each time, and nothing of a failed
        attempt was committed.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except DBAPIError as error:
                if attempt == attempts or not is_transient(error):
                    raise
                delay = base_delay * 2 ** (attempt - 1) * (1 + random.random())
                log.warning("database unavailable (%s); retrying in %.2fs", type(error.orig).__name__, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
