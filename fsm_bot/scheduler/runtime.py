"""The scheduler: APScheduler's BackgroundScheduler with its SQLAlchemyJobStore in our database.

Persisted jobs are stored as a textual reference to a function plus pickled arguments, so the
function must be importable and its arguments plain data; the live objects a job needs (the
database, the sender) are found through `register_job_target` by name when the job fires.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
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
        """Start, or resume after `pause` (this process leads again)."""
        if self.scheduler.state == STATE_PAUSED:
            self.scheduler.resume()
        elif self.scheduler.state == STATE_STOPPED:
            self.scheduler.start()

    def pause(self) -> None:
        """Stop running jobs but keep the scheduler: this process no longer leads, and may again."""
        if self.scheduler.state == STATE_RUNNING:
            self.scheduler.pause()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def cron(
        self,
        job_id: str,
        function: Callable[..., Any],
        *,
        hour: int,
        minute: int,
        day_of_week: str = "*",
        misfire_grace_time: float = 3600,
        **kwargs: Any,
    ) -> None:
        """A job at a time of day in the scheduler's time zone (DST handled by APScheduler's cron)."""
        self.scheduler.add_job(
            function,
            "cron",
            hour=hour,
            minute=minute,
            day_of_week=day_of_week,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=misfire_grace_time,
            kwargs=kwargs,
        )

    def sync_date_jobs(
        self,
        prefix: str,
        wanted: Mapping[str, datetime],
        function: Callable[..., Any],
        misfire_grace_time: float,
        **kwargs: Any,
    ) -> tuple[int, int]:
        """Make the one-off jobs whose ids start with `prefix` exactly `wanted` (id -> run time).

        Existing jobs are kept as they are rather than re-added, so running this again (at every
        start, after every change) neither moves nor doubles a job; returns (added, removed).
        """
        existing = {job.id for job in self.scheduler.get_jobs() if job.id.startswith(prefix)}
        removed = 0
        for job_id in existing - wanted.keys():
            try:
                self.scheduler.remove_job(job_id)
                removed += 1
            except JobLookupError:
                pass  # it fired meanwhile
        added = 0
        for job_id, run_date in wanted.items():
            if job_id in existing:
                continue
            self.scheduler.add_job(
                function,
                "date",
                run_date=run_date,
                id=job_id,
                replace_existing=True,
                misfire_grace_time=misfire_grace_time,
                kwargs=kwargs,
            )
            added += 1
        return added, removed

    def remove_jobs(self, prefix: str, keep: Iterable[str] = ()) -> int:
        """Jobs under `prefix` that are no longer configured (a schedule entry deleted from settings)."""
        keep = set(keep)
        removed = 0
        for job in self.scheduler.get_jobs():
            if job.id.startswith(prefix) and job.id not in keep:
                job.remove()
                removed += 1
        return removed

    def job_ids(self, prefix: str = "") -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs() if job.id.startswith(prefix))

    def every(
        self, job_id: str, function: Callable[..., Any], seconds: float, first_at: datetime | None = None, **kwargs: Any
    ) -> None:
        """An interval job; re-adding it at start replaces the stored one (with its next run time).
        `first_at`: its first run, when waiting a whole interval after a start would be too long."""
        first = {} if first_at is None else {"next_run_time": first_at}  # None itself would pause the job
        self.scheduler.add_job(
            function, "interval", seconds=seconds, id=job_id, replace_existing=True, kwargs=kwargs, **first
        )
