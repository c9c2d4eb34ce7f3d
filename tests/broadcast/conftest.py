"""Fixtures shared with the engine's tests: a running bot in this process, and the real process."""

from __future__ import annotations

from tests.engine.conftest import start_bot  # noqa: F401  (fixture)
from tests.engine.test_crashes import bot_process  # noqa: F401  (fixture)
