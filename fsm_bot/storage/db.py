"""Engine and units of work.

Sessions are scoped to one unit of work (one event, one delivery batch), never global: a
global session would leak one user's half-done transaction into another user's event.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from fsm_bot.backoff import backoff_delay
from fsm_bot.storage.private_files import create_private

log = logging.getLogger(__name__)

Result = TypeVar("Result")

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg2 to SQLAlchemy; we ship psycopg 3, so say so explicitly."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets the scheduler and the dispatcher read while one of them writes; the busy timeout
    # makes a briefly locked database a short wait instead of an immediate "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database or a `file:` URI."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _private_file_creator(path: str) -> Callable[..., None]:
    """A do_connect listener creating the database file 0600 before SQLite would create it 0644 (it holds
    students' names and absences). SQLite gives the -wal and -shm files the main file's mode (os_unix.c,
    findCreateFileMode), so they are private too. Returning None lets SQLAlchemy connect as usual."""

    def create(*_: object) -> None:
        with contextlib.suppress(OSError):  # a missing folder, no permission: SQLite says so in its words
            create_private(path)

    return create


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """An engine tuned for the backend: WAL and busy timeout on SQLite; pre-ping and native placeholders on
    PostgreSQL."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _tune_sqlite)
        database_file = _sqlite_file(url)
        if database_file is not None:
            event.listen(engine, "do_connect", _private_file_creator(database_file))
        return engine
    if make_url(url).get_driver_name() != "psycopg":  # another driver, named in the URL on purpose
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
    # PostgreSQL's own $n placeholders, passed through as they are (psycopg's RawCursor): with psycopg's
    # default %(name)s, it parses every query that has more than 50 parameters or 4 KB again at each
    # execution to number them, which a batch's INSERT of all its replies always has; that parsing was 15%
    # of the engine's CPU per event (py-spy over bench/engine.py part (b)).
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        paramstyle="numeric_dollar",
        connect_args={"cursor_factory": psycopg.RawCursor},
    )


# SQLite raises OperationalError for a syntax error or a missing table as much as for a locked file;
# only these messages are about the file being briefly unavailable (sqlite3's result codes
# SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL).
SQLITE_OUTAGES = ("locked", "busy", "unable to open", "disk i/o", "database or disk is full")


def is_transient(error: BaseException) -> bool:
    """An outage, worth another try: the connection failed or dropped (OperationalError,
    InterfaceError, an invalidated connection), SQLite's file was locked, or PostgreSQL aborted the
    transaction for a serialization failure or a deadlock (psycopg raises both as OperationalError
    subclasses). Everything else the database says (DataError for a value too long or out of range,
    IntegrityError, ProgrammingError, SQLite's "no such table") is about the statement: repeating it
    fails the same way, so it is a bug in the event that caused it, never a reason to wait.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        message = str(error.orig).lower()
        return any(words in message for words in SQLITE_OUTAGES)
    return True


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

    def transaction(self, work: Callable[[Session], Result], attempts: int = 5, base_delay: float = 0.1) -> Result:
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
                delay = backoff_delay(attempt, base_delay)
                log.warning("database unavailable (%s); retrying in %.2fs", type(error.orig).__name__, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def answers(self) -> bool:
        """Whether the database takes a trivial statement now: tells an outage (everyone waits) from
        an error that only one event's statements meet."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except DBAPIError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
