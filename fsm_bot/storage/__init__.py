"""Persistence: SQLAlchemy models, repositories, migrations. Nothing above this floor opens sessions."""

from fsm_bot.storage import attendance_models as _attendance_tables  # noqa: F401  (registers the tables)
from fsm_bot.storage import homework_models as _homework_tables  # noqa: F401  (registers the tables)
from fsm_bot.storage import poll_models as _poll_tables  # noqa: F401  (registers the tables)
from fsm_bot.storage import queue_models as _queue_tables  # noqa: F401  (registers the tables)
from fsm_bot.storage import timetable_models as _timetable_tables  # noqa: F401  (registers the tables)
from fsm_bot.storage.db import Database, normalize_url
from fsm_bot.storage.migrate import upgrade_to_head

__all__ = ["Database", "normalize_url", "upgrade_to_head"]
