"""The timetable as pure values: semesters, weekly slots, one-off changes, and the files they travel in.

Nothing here touches the database, VK or the clock, so every view, reminder and export is a function of
(semester, slots, changes, day) and can be tested on its own.
"""

from fsm_bot.timetable.calendar import is_study_day, lessons_between, lessons_on, parity_of, week_number
from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.ics import export_ics, import_ics
from fsm_bot.timetable.model import (
    Change,
    ChangeKind,
    Lesson,
    LessonStatus,
    Parity,
    Semester,
    Slot,
    TimetableFile,
)
from fsm_bot.timetable.yaml_file import dump_timetable, load_timetable

__all__ = [
    "Change",
    "ChangeKind",
    "Lesson",
    "LessonStatus",
    "Parity",
    "Semester",
    "Slot",
    "TimetableFile",
    "TimetableFileError",
    "dump_timetable",
    "export_ics",
    "import_ics",
    "is_study_day",
    "lessons_between",
    "lessons_on",
    "load_timetable",
    "parity_of",
    "week_number",
]
