"""The schema is built by migrations alone, on both databases, and can be taken down and rebuilt."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fsm_bot.storage import Database
from fsm_bot.storage.migrate import current_revision, downgrade, head_revision, upgrade_to_head
from fsm_bot.storage.models import Base

ENGINE_TABLES = {
    "community",
    "study_group",
    "member",
    "dialog",
    "processed_event",
    "longpoll_cursor",
    "outgoing_message",
    "scheduled_message",
    "broadcast",
    "broadcast_recipient",
    "send_batch",
    "timetable_calendar",
    "timetable_slot",
    "timetable_change",
    "subscription",
    "fired_reminder",
    "attendance_sheet",
    "absence",
    "attendance_audit",
    "absence_notice",
}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_round_trip(database_url: str) -> None:
    db = Database(database_url)
    assert current_revision(db.engine) is None
    assert upgrade_to_head(db.engine) == head_revision()
    assert _tables(db) >= ENGINE_TABLES

    assert downgrade(db.engine, "base") is None
    assert _tables(db) == set()

    assert upgrade_to_head(db.engine) == head_revision()
    assert _tables(db) >= ENGINE_TABLES
    db.dispose()


def test_upgrade_twice_is_harmless(database: Database) -> None:
    assert upgrade_to_head(database.engine) == head_revision()


def test_models_and_migrations_agree(database: Database) -> None:
    """A model changed without a migration would break only on a deployer's machine; catch it here."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_fsm_bot_db_upgrade_builds_the_schema(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "FSM_BOT_DATABASE__URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "fsm_bot.cli", "db", "upgrade", "--config", os.devnull],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"schema at revision {head_revision()}" in result.stdout

    db = Database(database_url)
    assert _tables(db) >= ENGINE_TABLES
    db.dispose()

    result = subprocess.run(
        [sys.executable, "-m", "fsm_bot.cli", "db", "downgrade", "base", "--config", os.devnull],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    db = Database(database_url)
    assert _tables(db) == set()
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_messages_stored_before_0012_get_their_key_so_a_catch_up_does_not_answer_them_again(
    database_url: str,
) -> None:
    from sqlalchemy import text

    from fsm_bot.storage.migrate import upgrade
    from tests.support.vk import MESSAGE_NEW

    db = Database(database_url)
    upgrade(db.engine, "0011")
    chat = {**MESSAGE_NEW["object"]["message"], "id": 0, "peer_id": 2_000_000_001, "conversation_message_id": 7}
    rows = [
        ("lp-1", MESSAGE_NEW),
        ("lp-2", {**MESSAGE_NEW, "event_id": "lp-2", "object": {"message": chat}}),
        ("lp-3", {**MESSAGE_NEW, "event_id": "lp-3"}),  # the same message under another event id: keeps no key
        ("join", {"type": "group_join", "object": {"user_id": 1}}),
    ]
    insert = text(
        "INSERT INTO processed_event (community_id, event_id, type, user_id, payload, received_at) "
        "VALUES (1, :event_id, :type, 1, :payload, CURRENT_TIMESTAMP)"
    )
    with db.engine.begin() as connection:
        for event_id, payload in rows:
            connection.execute(insert, {"event_id": event_id, "type": payload["type"], "payload": json.dumps(payload)})
    upgrade_to_head(db.engine)
    with db.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT event_id, message_key FROM processed_event")).all())
    db.dispose()
    assert keys == {"lp-1": "message:101", "lp-2": "message:2000000001:7", "lp-3": None, "join": None}
