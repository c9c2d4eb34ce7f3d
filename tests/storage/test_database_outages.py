"""A database that is locked or gone for a moment costs a short wait, not a lost event."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from fsm_bot.storage import Database
from fsm_bot.storage.db import is_transient
from fsm_bot.storage.migrate import upgrade_to_head
from fsm_bot.storage.repositories import CommunityRepository, CursorRepository


def test_a_briefly_locked_sqlite_file_is_waited_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}")
    upgrade_to_head(db.engine)
    with db.unit_of_work() as session:
        CommunityRepository(session).ensure(1)

    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process is in the middle of writing
    released = threading.Event()

    def release_soon() -> None:
        time.sleep(0.5)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release_soon).start()
    db.transaction(lambda session: CursorRepository(session, 1).set("9"))
    assert released.is_set()
    with db.unit_of_work() as session:
        assert CursorRepository(session, 1).get() == "9"
    holder.close()
    db.dispose()


def test_postgres_connections_killed_under_the_bot_are_replaced(postgres_schema_url: str) -> None:
    """A PostgreSQL restart or failover drops every pooled connection; the next unit of work must not fail."""
    db = Database(postgres_schema_url)
    upgrade_to_head(db.engine)
    db.transaction(lambda session: CommunityRepository(session).ensure(1))

    with db.engine.connect() as connection:
        own_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = Database(postgres_schema_url)
    with killer.engine.begin() as connection:
        killed = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": own_pid},
        ).scalar()
    assert killed == 1

    db.transaction(lambda session: CursorRepository(session, 1).set("5"))
    assert db.transaction(lambda session: CursorRepository(session, 1).get()) == "5"
    db.dispose()
    killer.dispose()


def test_a_real_error_is_not_retried_forever(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    calls = []

    def broken(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        db.transaction(broken, attempts=3, base_delay=0.001)
    # "no such table" is an OperationalError in SQLite's vocabulary, but about the statement, not the
    # file: repeating it cannot help, so it is not repeated.
    assert len(calls) == 1
    db.dispose()


def test_only_connection_failures_count_as_outages(database: Database) -> None:
    """The database's own refusals of a statement, raised for real on each backend, are not outages."""

    def refused(statement: str) -> BaseException:
        with pytest.raises(Exception) as raised:
            database.transaction(lambda session: session.execute(text(statement)), attempts=1)
        return raised.value

    assert not is_transient(refused("INSERT INTO community (id) VALUES (1), (1)"))  # IntegrityError
    assert not is_transient(refused("SELECT * FROM no_such_table"))
    if database.backend == "postgresql":
        assert not is_transient(refused("SELECT CAST(99999999999 AS INTEGER)"))  # DataError: out of range
        too_long = "CREATE TEMP TABLE t (name VARCHAR(100)); INSERT INTO t VALUES (REPEAT('я', 199))"
        assert not is_transient(refused(too_long))  # DataError: value too long
        assert is_transient(refused("SELECT pg_terminate_backend(pg_backend_pid())"))  # the connection dropped
