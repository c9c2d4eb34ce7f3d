"""Commands the bot runs by itself at set times (settings.yaml `schedule`, the seed's activate_times).

A scheduled run becomes an ordinary incoming message in the inbox, written by the person it runs
as, so it goes through the same routing, privileges and flows as a typed command. Its event id is
made of the entry and the minute it was due, so the inbox's unique key makes each run happen
once: a cron job that fires twice, or a catch-up after a restart, is dropped as a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ScheduledCommand:
    command: str
    peer_id: int
    run_as: int
    times: tuple[time, ...]
    days: frozenset[int]  # 0 = Monday

    @property
    def key(self) -> str:
        """Stable across restarts and reordering of the settings list: made of what the entry says."""
        text = f"{self.command}|{self.peer_id}|{self.run_as}"
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def day_of_week(self) -> str:
        """APScheduler's cron spelling of the days (one job per time of day)."""
        return ",".join(WEEKDAYS[day] for day in sorted(self.days))

    def due_between(self, tz: ZoneInfo, since: datetime, until: datetime) -> list[datetime]:
        """The runs due in (since, until], in UTC."""
        found = []
        day = since.astimezone(tz).date()
        while day <= until.astimezone(tz).date():
            if day.weekday() in self.days:
                for moment in self.times:
                    due = datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)
                    if since < due <= until:
                        found.append(due)
            day += timedelta(days=1)
        return sorted(found)

    def event(self, community_id: int, due: datetime) -> dict[str, Any]:
        """The run as VK would deliver a message the person typed (a message_new update)."""
        stamp = due.astimezone(UTC)
        return {
            "type": "message_new",
            "event_id": f"schedule-{self.key}-{stamp:%Y%m%dT%H%M}",
            "group_id": community_id,
            "v": "5.199",
            "object": {
                "message": {
                    "id": 0,
                    "date": int(stamp.timestamp()),
                    "from_id": self.run_as,
                    "peer_id": self.peer_id,
                    "text": self.command,
                    "conversation_message_id": 0,
                },
                "client_info": {"keyboard": True, "inline_keyboard": True, "button_actions": ["text", "callback"]},
            },
        }


def parse_clock(value: str) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def due_runs(
    commands: Sequence[ScheduledCommand], tz: ZoneInfo, since: datetime, until: datetime
) -> list[tuple[ScheduledCommand, datetime]]:
    return [(command, due) for command in commands for due in command.due_between(tz, since, until)]
