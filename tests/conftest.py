"""Shared fixtures: every storage test runs on SQLite and on the real PostgreSQL server.

PostgreSQL comes from FSM_BOT_TEST_DATABASE_URL (`.ci/run` sets it). Without it those tests skip
with a visible reason, unless FSM_BOT_TEST_REQUIRE_POSTGRES=1 makes a missing server a failure,
which is how CI guarantees that "passed" means "passed on both databases".
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fsm_bot.sandbox.fixtures import *  # noqa: F403  (sandbox_server, sandbox, sandbox_vk: one sandbox for all tests)
from fsm_bot.storage import Database, normalize_url
from fsm_bot.storage.migrate import upgrade_to_head
from tests.support import week
from tests.support.bots import bot_process, start_bot  # noqa: F401  (fixtures: a bot in this process, or the real one)
from tests.support.skips import pytest_terminal_summary  # noqa: F401  (skips grouped by reason, not one line each)

POSTGRES_URL_ENV = "FSM_BOT_TEST_DATABASE_URL"
REQUIRE_POSTGRES_ENV = "FSM_BOT_TEST_REQUIRE_POSTGRES"


def _postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_URL_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return normalize_url(url)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose search_path is a schema of its own, dropped afterwards: tests never see each other."""
    server_url = _postgres_server_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            raise
        pytest.skip(f"PostgreSQL at {make_url(server_url).render_as_string()} is unreachable: {error}")
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty database of each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database of each backend in turn."""
    db = Database(database_url)
    upgrade_to_head(db.engine)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture(autouse=True)
def _one_day_per_test() -> None:
    """No test begins in the last minutes before Moscow midnight: many stories expect «today» or «Завтра» as the
    bot will name them, and the bot reads its own clock. Costs one wait of at most 3 minutes in a run that
    crosses midnight, none otherwise."""
    week.wait_out_midnight()
