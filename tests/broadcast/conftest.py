"""A running bot (see tests/engine/conftest.py) and a study group of students who can be written to."""

from __future__ import annotations

from tests.engine.conftest import start_bot  # noqa: F401  (the fixture, shared)
