"""What the deployer's settings tell the services about one community, in one value.

The runtime hands it to every event's services; flows read it through `ctx.services`. Keeping it
one frozen value means a new setting is one field here, not a parameter threaded through three
constructors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class CommunityOptions:
    # Study groups, their chats and the approval of newcomers are not here: settings.yaml only seeds them
    # into the database (members/seeding.py), where «⚙ Настройка» changes them.
    nudge_after: timedelta = timedelta(hours=3)  # broadcasts: remind non-readers once after this
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    ics_days: int = 120  # days the calendar file covers
    hours_per_lesson: int = 2  # academic hours per lesson in the attendance register
