"""The scheduler: APScheduler's BackgroundScheduler with its SQLAlchemyJobStore in our database.

Persisted jobs are stored as a textual reference to a function plus pickled arguments, so the
function must be importable and its arguments plain data; the live objects a job needs (the
database, the sender) are found through `register_job_target` by name when the job fires.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

log = logging.getLogger(__name__)

_targets: dict[str, Any] = {}
_targets_lock = threading.Lock()


def register_job_target(name: str, target: Any) -> None:
    """Make a live object available to persisted jobs under `name` (one per community)."""
    with _targets_lock:
        _targets[name] = target


def unregister_job_target(name: str) -> None:
    with _targets_lock:
        _targets.pop(name, None)


def job_target(name: str) -> Any:
    with _targets_lock:
        target = _targets.get(name)
    if target is None:
        raise LookupError(f"no live object registered as {name!r} (job fired after its bot stopped?)")
    return target


class BotScheduler:
    """Thin owner of one BackgroundScheduler; jobs are added with stable ids so restarts replace, not add."""

    def __init__(self, engine: Engine, timezone: str) -> None:
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=timezone,
        )

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def every(self, job_id: str, function: Callable[..., Any], seconds: float, **kwargs: Any) -> None:
        """An interval job; re-adding it at start replaces the stored one (with its next run time)."""
        self.scheduler.add_job(function, "interval", seconds=seconds, id=job_id, replace_existing=True, kwargs=kwargs)
