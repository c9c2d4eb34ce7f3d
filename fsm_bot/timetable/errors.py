"""The one error a timetable file (YAML or iCalendar) can raise.

Every problem is collected before raising, so a headman fixing a file sees all of its mistakes at once
instead of one per upload. It is a ValueError so callers that only care about "bad input" need not import it.
"""

from __future__ import annotations

from collections.abc import Iterable

# A file with thousands of mistakes (a hostile one, or the wrong file) is reported by its first ones.
SHOWN_ERRORS = 20


class TimetableFileError(ValueError):
    """A file that cannot become a timetable; `errors` holds one human-readable line per problem."""

    def __init__(self, errors: Iterable[str]) -> None:
        # one line each: a parser's message (icalendar's, PyYAML's) may hold line breaks of its own
        self.errors: list[str] = [" ".join(str(error).splitlines()) for error in errors] or [
            "the timetable file is invalid"
        ]
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.errors[:SHOWN_ERRORS]
        hidden = len(self.errors) - len(shown)
        return "\n".join([*shown, f"... and {hidden} more"] if hidden else shown)
