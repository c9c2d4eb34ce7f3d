"""iCalendar files: export for phones' calendars (ics_export), import of universities' timetables (ics_import)."""

from fsm_bot.timetable.ics_export import export_ics
from fsm_bot.timetable.ics_import import import_ics

__all__ = ["export_ics", "import_ics"]
