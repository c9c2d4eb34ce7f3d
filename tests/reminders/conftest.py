"""A study group with a known timetable (tests/support/autumn.py), on each database backend."""

from __future__ import annotations

import pytest

from fsm_bot.storage import Database
from tests.support.autumn import Stream, seed_autumn


@pytest.fixture
def stream(database: Database) -> Stream:
    return seed_autumn(database)
