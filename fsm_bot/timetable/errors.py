"""The one error a timetable file (YAML or iCalendar) can raise.

Every problem is collected before raising, so a headman fixing a file sees all of its mistakes at once
instead of one per upload. It is a ValueError so callers that only care about "bad input" need not import it.
"""

from __future__ import annotations

from collections.abc import Iterable


class TimetableFileError(ValueError):
    """A file that cannot become a timetable; `errors` holds one human-readable line per problem."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: list[str] = list(errors) or ["the timetable file is invalid"]
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)
