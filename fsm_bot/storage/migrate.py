"""Schema migrations run from code, so `fsm-bot db upgrade` and start-up need no alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> str | None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    return upgrade(engine, "head")


def upgrade(engine: Engine, revision: str) -> str | None:
    with engine.begin() as connection:
        _one_at_a_time(connection)
        command.upgrade(_config(connection), revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    with engine.begin() as connection:
        _one_at_a_time(connection)
        command.downgrade(_config(connection), revision)
    return current_revision(engine)


def _one_at_a_time(connection: Connection) -> None:
    """Several workers start at once and each migrates: on PostgreSQL the first does it while the
    others wait here, then find the schema at head (DDL is transactional there, the lock ends with it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('fsm_bot:migrations' || current_schema(), 0))")
        )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
